// Where the broker's resident memory goes as delay messages pile up (issue 5, "RSS flat"): runs a Diglot
// broker in this process, schedules messages due 1-2 h ahead (or, with `plain`, sends the same number of
// ordinary messages) from a child process (node-sender.ts, raw SEND_MESSAGE_V2), and at each step prints
// VmRSS / RssAnon / RssFile and V8's heap figures twice: as found, and after a full garbage collection.
// The difference between the two is garbage the sends left behind (V8 keeps heap pages until it collects),
// not memory held for pending messages.
//
//   node --expose-gc --max-semi-space-size=16 bench/delay/rss-probe.ts [timer|plain] [steps, default 10000,100000,1000000]
//        [settle s: a second sample after this long idle, default 0] [warm-up N: first N timer messages due in the past
//        fire, so the steps start from a broker whose allocators and caches have reached their working size, default 0]
//
// Loopback only; everything it writes goes to a temp directory removed at the end.

import { execFile } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { defaultConfig, type Config } from '../../src/config/index.ts';
import { createLogger } from '../../src/logger.ts';
import { startServer } from '../../src/server.ts';
import { sendAll } from './node-sender.ts';
import { DELAY_STATS_PATH } from '../../src/admin/delay-routes.ts';

// The queues a send auto-creates a topic with (the request's defaultTopicQueueNums); the sender spreads over them.
const QUEUES = 4;
const mode = process.argv[2] ?? 'timer';
const steps = (process.argv[3] ?? '10000,100000,1000000').split(',').map(Number);
/** Idle time before a second sample at each step (0: none), from the fourth argument (seconds). */
const SETTLE_MS = Number(process.argv[4] ?? 0) * 1000;
const WARM = Number(process.argv[5] ?? 0);

if (process.argv[2] === '--send') {
  // Child: one step of sends (argv: --send port topic count seqBase timer [aheadMs: due window start from now]).
  const [port, topic, count, seqBase, timer, aheadMs] = process.argv.slice(3);
  const r = await sendAll({ port: Number(port), topic: topic!, queues: QUEUES, messages: Number(count), bodyBytes: 128, inflight: 512, connections: 1, timer: timer === 'true', seqBase: Number(seqBase), seed: 7, windowStartMs: Date.now() + Number(aheadMs ?? 3_600_000), windowMs: 3_600_000, runTag: topic!, warmup: 0, timeoutMs: 600_000 });
  process.stdout.write(JSON.stringify({ sent: r.scheduled, failed: r.sendFailed, firstError: r.firstSendError ?? null, perSecond: Math.round(r.scheduleRate) }));
  process.exit(0);
}
if ((mode !== 'timer' && mode !== 'plain') || !(SETTLE_MS >= 0) || !Number.isSafeInteger(WARM) || WARM < 0 || steps.some((s, i) => !Number.isSafeInteger(s) || s <= (steps[i - 1] ?? 0))) {
  console.error('usage: node --expose-gc bench/delay/rss-probe.ts [timer|plain] [ascending counts, e.g. 10000,100000,1000000] [settle s] [warm-up N]');
  process.exit(2);
}
const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) {
  console.error('run with node --expose-gc (the "after GC" figures need it)');
  process.exit(2);
}

/** A port free on 127.0.0.1 a moment ago (the RocketMQ listener's bound port is not exposed by Server). */
async function freePort(): Promise<number> {
  const probe = net.createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as net.AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'diglot-rss-probe-'));
const port = await freePort();
const config: Config = { ...defaultConfig(), dataDir: dir, host: '127.0.0.1', kafkaPort: 0, rocketmqPort: port, adminPort: 0 };
const server = await startServer(config, { logger: createLogger({ level: 'warn' }) });
const mib = (bytes: number): string => (bytes / 1048576).toFixed(0).padStart(4);

function sample(): string {
  const status = fs.readFileSync('/proc/self/status', 'utf8');
  const kb = (k: string): number => Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? NaN) * 1024;
  const m = process.memoryUsage();
  return `RSS ${mib(kb('VmRSS'))}  RssAnon ${mib(kb('RssAnon'))}  RssFile ${mib(kb('RssFile'))}  V8 heap ${mib(m.heapTotal)} (used ${mib(m.heapUsed)})  external ${mib(m.external)} MiB`;
}

console.log(`rss-probe: ${mode} sends of 128-byte messages${mode === 'timer' ? ' due 1-2 h ahead' : ''}, Node ${process.version}, ${os.cpus().length} cores`);
console.log(`idle                          ${sample()}`);
const self = fileURLToPath(import.meta.url);
let sent = 0;
if (WARM > 0) {
  // Warm-up: timer messages due an hour ago fire at once (schedule, index, fire, deliver), leaving none pending.
  await new Promise<string>((resolve, reject) =>
    execFile(process.execPath, [self, '--send', String(port), 'RssWarm', String(WARM), '0', 'true', String(-7_200_000)], { maxBuffer: 1 << 20 }, (err, stdout, stderr) =>
      err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout),
    ),
  );
  const pending = async (): Promise<number> => ((await (await fetch(`http://127.0.0.1:${server.adminAddress.port}${DELAY_STATS_PATH}`)).json()) as { pending: number }).pending;
  for (let i = 0; i < 600 && (await pending()) > 0; i++) await new Promise((r) => setTimeout(r, 100));
  await new Promise((r) => setTimeout(r, 1500));
  console.log(`warm-up ${WARM} fired      ${sample()}  (pending ${await pending()})`);
}
for (const to of steps) {
  const out = await new Promise<string>((resolve, reject) =>
    execFile(process.execPath, [self, '--send', String(port), 'RssProbe', String(to - sent), String(sent), String(mode === 'timer')], { maxBuffer: 1 << 20 }, (err, stdout, stderr) =>
      err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout),
    ),
  );
  sent = to;
  await new Promise((r) => setTimeout(r, 1500));
  const label = `${to.toLocaleString('en-US')} ${mode === 'timer' ? 'pending' : 'sent'}`;
  console.log(`${label.padEnd(20)} as found ${sample()}`);
  if (SETTLE_MS > 0) {
    // Idle: V8's memory reducer (not a forced GC) may give heap pages back by itself.
    await new Promise((r) => setTimeout(r, SETTLE_MS));
    console.log(`${''.padEnd(20)} settled  ${sample()}  (${SETTLE_MS / 1000} s idle)`);
  }
  gc();
  console.log(`${''.padEnd(20)} after GC ${sample()}`);
  console.log(`${''.padEnd(20)} sender   ${out}`);
}
await server.close();
fs.rmSync(dir, { recursive: true, force: true });
