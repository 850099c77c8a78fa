// Delay-message benchmark (`npm run bench:delay`, issue 5): Apache RocketMQ 5.3.3 timer messages (name server +
// broker JVMs from Maven Central jars, see reference/rocketmq/) and Diglot's delay feature (src/delay, one Node
// process) on this machine, one broker at a time, driven by the same Java client (bench/delay/java, rocketmq-client
// 5.3.3) with the same load. Every message carries the 5.x timer property TIMER_DELIVER_MS.
//
//   lateness  --late-messages (100,000) due uniformly over --late-window-ms (10 s): 10,000 fires/s. Scheduled
//             before the window opens; a push consumer records receive time - due time per message.
//   rate      --messages (1,000,000) due uniformly within --rate-window-ms (1 s): demand far above 100,000 fires/s.
//             Schedule rate = acknowledged / (last ack - first send); fire rate = received / (last receive - first
//             receive), cross-checked with the target topic's queue offsets polled on the broker.
//   rss       a fresh broker; messages due an hour ahead (nothing fires), scheduled in steps up to --messages
//             pending; VmRSS and RssAnon of the broker process(es) sampled after each step once the broker is idle.
//
// lateness and rate run on one broker start (lateness first), rss on a second start with an empty store. Each
// driver run warms its JVM and the broker's timer path with --warmup messages that are not counted. The report on
// stdout puts both brokers side by side with Diglot/RocketMQ ratios and the issue's targets; progress on stderr.

import { NODE_FLAGS } from '../../bin/node-flags.mjs';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import process from 'node:process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { cpuSeconds, hostBusySeconds, memoryNote, selfAndChildrenCpuSeconds, sumKb, table } from '../lib/proc.ts';
import { run, sleep, tail, terminate } from '../../reference/lib/process.ts';
import { sendAll, type SenderOptions, type SenderResult } from './node-sender.ts';
import {
  DEFAULT_CLUSTER,
  ensureRocketmqJars,
  freePort,
  javaBin,
  lastJarFetchMs,
  MQADMIN,
  remotingRequest,
  ROCKETMQ_VERSION,
  runTool,
  startRocketmq,
  waitForPort,
} from '../../reference/rocketmq/rocketmq.ts';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '../..');
const JAVA_DIR = path.join(HERE, 'java');
const STAMP = path.join(HERE, '.stamps', 'java');
const DRIVER_CP = `${path.join(JAVA_DIR, 'target', 'classes')}${path.delimiter}${path.join(JAVA_DIR, 'target', 'dependency', '*')}`;

// ---------------------------------------------------------------- parameters

const USAGE = `usage: node bench/delay/run.ts [options]     (npm run bench:delay -- [options])

  --messages N           rate phase: messages due within --rate-window-ms; rss phase: pending at the last step
                         (default 1000000)
  --late-messages N      lateness phase: messages due over --late-window-ms (default 100000)
  --late-window-ms MS    lateness window (default 10000: 10,000 fires/s with the default count)
  --rate-window-ms MS    rate window (default 1000)
  --rss-steps LIST       pending counts below --messages at which RSS is sampled too, comma-separated, ascending
                         (default 10000,100000; --messages is always the last step)
  --rss-warmup N         rss phase: before the steps, N timer messages due in the past fire on each broker (its
                         allocators and caches reach their working size), so that the steps measure memory per
                         pending message rather than a cold start's first million sends (default --messages; 0: none)
  --phases LIST          lateness,plain,rate,rss or a subset (default all four, run in this order)
  --only T               rocketmq or diglot: benchmark one broker only
  --body-bytes B         message body bytes (default 128)
  --threads N            sending threads of the driver (default 8)
  --inflight N           unacknowledged asynchronous sends at most; 0 = synchronous sends (default 512)
  --producers N          producer instances (connections) the send threads are spread over (default 1)
  --sender S             java: the Java driver sends (rocketmq-client 5.3.3 producer, default); node: raw
                         SEND_MESSAGE_V2 requests from this process (bench/delay/node-sender.ts, a few µs of CPU per
                         message instead of ~20), the Java driver only receives
  --warmup N             uncounted warm-up messages per driver run (default 20000)
  --queues N             read/write queues of each topic (default 8)
  --driver-heap-mb MB    driver JVM -Xms/-Xmx (default 1024)
  --rmq-broker-heap-mb MB  Apache broker -Xms/-Xmx (default 2048; name server 512)
  --rmq-timer-precision-ms MS  Apache broker timerPrecisionMs (default: not set, the broker's 1000)
  --diglot-rev REV       run Diglot from a \`git archive\` of this commit (e.g. HEAD) instead of the working tree,
                         so uncommitted edits in src/ do not change what is measured (node_modules is shared)
  --dir DIR              where the work directory is made (default: the OS temp dir)
  --keep                 keep the work directory (stores, logs, driver output)
  --json FILE            also write every figure as JSON
  -h, --help`;

const TARGETS = ['rocketmq', 'diglot'] as const;
type TargetName = (typeof TARGETS)[number];
const PHASES = ['lateness', 'plain', 'rate', 'rss'] as const;
type PhaseName = (typeof PHASES)[number];

function parseParams() {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        messages: { type: 'string' },
        'late-messages': { type: 'string' },
        'late-window-ms': { type: 'string' },
        'rate-window-ms': { type: 'string' },
        'rss-steps': { type: 'string' },
        'rss-warmup': { type: 'string' },
        phases: { type: 'string' },
        only: { type: 'string' },
        'body-bytes': { type: 'string' },
        threads: { type: 'string' },
        inflight: { type: 'string' },
        producers: { type: 'string' },
        sender: { type: 'string' },
        warmup: { type: 'string' },
        queues: { type: 'string' },
        'driver-heap-mb': { type: 'string' },
        'rmq-broker-heap-mb': { type: 'string' },
        'rmq-timer-precision-ms': { type: 'string' },
        'diglot-rev': { type: 'string' },
        dir: { type: 'string' },
        keep: { type: 'boolean' },
        json: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }));
  } catch (e) {
    console.error(`${(e as Error).message}\n${USAGE}`);
    process.exit(2);
  }
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const num = (name: string, raw: string | undefined, fallback: number, min = 1): number => {
    if (raw === undefined) return fallback;
    const value = Number(raw.replaceAll('_', '').replaceAll(',', ''));
    if (!Number.isSafeInteger(value) || value < min) {
      console.error(`--${name} ${JSON.stringify(raw)}: expected an integer >= ${min}`);
      process.exit(2);
    }
    return value;
  };
  const only = values.only;
  if (only !== undefined && !(TARGETS as readonly string[]).includes(only)) {
    console.error(`--only ${JSON.stringify(only)}: expected rocketmq or diglot`);
    process.exit(2);
  }
  const phases = (values.phases ?? PHASES.join(',')).split(',').map((s) => s.trim()).filter(Boolean);
  for (const p of phases) {
    if (!(PHASES as readonly string[]).includes(p)) {
      console.error(`--phases: unknown phase ${JSON.stringify(p)} (expected ${PHASES.join(', ')})`);
      process.exit(2);
    }
  }
  const messages = num('messages', values.messages, 1_000_000);
  const rawSteps = values['rss-steps'];
  const steps = (rawSteps === undefined ? [10_000, 100_000] : rawSteps.split(',').map((s) => num('rss-steps', s.trim(), 0)))
    .filter((s) => s < messages);
  steps.push(messages);
  for (let i = 1; i < steps.length; i++) {
    if (steps[i]! <= steps[i - 1]!) {
      console.error(`--rss-steps: expected ascending counts below --messages, got ${steps.join(',')}`);
      process.exit(2);
    }
  }
  const precision = values['rmq-timer-precision-ms'];
  const sender = values.sender ?? 'java';
  if (sender !== 'java' && sender !== 'node') {
    console.error(`--sender ${JSON.stringify(sender)}: expected java or node`);
    process.exit(2);
  }
  return {
    messages,
    lateMessages: num('late-messages', values['late-messages'], 100_000),
    lateWindowMs: num('late-window-ms', values['late-window-ms'], 10_000),
    rateWindowMs: num('rate-window-ms', values['rate-window-ms'], 1_000, 0),
    rssSteps: steps,
    rssWarmup: num('rss-warmup', values['rss-warmup'], messages, 0),
    phases: PHASES.filter((p) => phases.includes(p)) as PhaseName[],
    targets: (only === undefined ? [...TARGETS] : [only]) as TargetName[],
    bodyBytes: num('body-bytes', values['body-bytes'], 128),
    threads: num('threads', values.threads, 8),
    inflight: num('inflight', values.inflight, 512, 0),
    producers: num('producers', values.producers, 1),
    sender: sender as 'java' | 'node',
    warmup: num('warmup', values.warmup, 20_000, 0),
    queues: num('queues', values.queues, 8),
    driverHeapMb: num('driver-heap-mb', values['driver-heap-mb'], 1024),
    rmqBrokerHeapMb: num('rmq-broker-heap-mb', values['rmq-broker-heap-mb'], 2048),
    rmqNamesrvHeapMb: 512,
    rmqTimerPrecisionMs: precision === undefined ? undefined : num('rmq-timer-precision-ms', precision, 1_000),
    diglotRev: values['diglot-rev'],
    dir: values.dir ? path.resolve(values.dir) : os.tmpdir(),
    keep: values.keep === true,
    json: values.json ? path.resolve(values.json) : undefined,
    /** Schedule rate assumed for the lead of a phase when nothing was measured yet (messages/s): conservative. */
    assumedScheduleRate: 10_000,
    /** Due times of the rss phase: this far ahead, over a window as long (nothing fires while sampling). */
    rssAheadMs: 3_600_000,
    /** RSS samples per rss step, this far apart. */
    rssSamples: 5,
    rssSampleGapMs: 500,
    /** Queue-offset polling of the rate phase's target topic. */
    pollMs: 250,
  };
}

const P = parseParams();

const progress = (line: string) => process.stderr.write(`[bench:delay] ${line}\n`);

// ---------------------------------------------------------------- /proc








interface Usage {
  /** Broker CPU (user + system; name server + broker for Apache RocketMQ), CPU seconds. */
  brokerCpuSeconds?: number;
  /** The driver JVM and this script. */
  clientCpuSeconds?: number;
  /** Host busy time not accounted for by the broker and the client: other work on the machine, ideally ~0. */
  otherCpuSeconds?: number;
  wallSeconds: number;
  peakRssMiB?: number;
  peakRssAnonMiB?: number;
}

/** Runs fn while sampling the broker pids' RSS every 200 ms; CPU of broker, client and the rest of the host around it. */
async function measured<T>(pids: number[], fn: () => Promise<T>): Promise<{ value: T; usage: Usage }> {
  let peak = 0;
  let peakAnon = 0;
  const sample = () => {
    peak = Math.max(peak, sumKb(pids, 'VmRSS') ?? 0);
    peakAnon = Math.max(peakAnon, sumKb(pids, 'RssAnon') ?? 0);
  };
  sample();
  const timer = setInterval(sample, 200);
  const cpu0 = cpuSeconds(pids);
  const host0 = hostBusySeconds();
  const mine0 = selfAndChildrenCpuSeconds();
  const t0 = performance.now();
  try {
    const value = await fn();
    sample();
    const usage: Usage = { wallSeconds: (performance.now() - t0) / 1000, peakRssMiB: peak / 1024 || undefined, peakRssAnonMiB: peakAnon / 1024 || undefined };
    const cpu1 = cpuSeconds(pids);
    const host1 = hostBusySeconds();
    const mine1 = selfAndChildrenCpuSeconds();
    if (cpu0 !== undefined && cpu1 !== undefined) usage.brokerCpuSeconds = cpu1 - cpu0;
    if (mine0 !== undefined && mine1 !== undefined) usage.clientCpuSeconds = mine1 - mine0;
    if (usage.brokerCpuSeconds !== undefined && usage.clientCpuSeconds !== undefined && host0 !== undefined && host1 !== undefined) {
      usage.otherCpuSeconds = Math.max(0, host1 - host0 - usage.brokerCpuSeconds - usage.clientCpuSeconds);
    }
    return { value, usage };
  } finally {
    clearInterval(timer);
  }
}

// ---------------------------------------------------------------- the Java driver

function driverInputs(): string[] {
  const src = path.join(JAVA_DIR, 'src');
  return [path.join(JAVA_DIR, 'pom.xml'), ...fs.readdirSync(src).filter((f) => f.endsWith('.java')).map((f) => path.join(src, f))].sort();
}

function inputsHash(): string {
  const h = createHash('sha256');
  for (const f of driverInputs()) h.update(path.relative(HERE, f)).update('\0').update(fs.readFileSync(f)).update('\0');
  return h.digest('hex');
}

/**
 * Builds the driver with Maven (`mvn -B -q clean compile dependency:copy-dependencies` in bench/delay/java: classes
 * and the rocketmq-client 5.3.3 jars under target/, gitignored) unless the stamp in bench/delay/.stamps/ holds the
 * hash of the current pom and sources and the outputs are there.
 */
async function ensureDriver(): Promise<{ cached: boolean; ms: number }> {
  const t0 = performance.now();
  const hash = inputsHash();
  const outputs = [path.join(JAVA_DIR, 'target', 'classes', 'DelayBench.class'), path.join(JAVA_DIR, 'target', 'dependency')];
  try {
    if (fs.readFileSync(STAMP, 'utf8').trim() === hash && outputs.every((o) => fs.existsSync(o))) return { cached: true, ms: 0 };
  } catch {
    // no stamp yet
  }
  progress('building the Java driver (mvn: rocketmq-client 5.3.3), first run or sources changed');
  fs.rmSync(STAMP, { force: true });
  const args = ['-B', '-q', 'clean', 'compile', 'dependency:copy-dependencies'];
  const r = await run(process.env.MVN ?? 'mvn', args, { cwd: JAVA_DIR, timeoutMs: 15 * 60_000 });
  if (r.code !== 0) {
    throw new Error(`mvn ${args.join(' ')} (in bench/delay/java) exited with ${r.code ?? r.signal}${r.error ? ` (${r.error.message}; is Maven installed?)` : ''}\n${tail(r.stdout + r.stderr, 30)}`);
  }
  fs.mkdirSync(path.dirname(STAMP), { recursive: true });
  fs.writeFileSync(STAMP, `${hash}\n`);
  const ms = performance.now() - t0;
  progress(`driver built in ${(ms / 1000).toFixed(1)} s`);
  return { cached: false, ms };
}

/** The driver's JSON line (see DelayBench.java). */
interface DriverResult {
  error?: string;
  /** 'node' when bench/delay/node-sender.ts sent (the Java driver only received). */
  sender?: string;
  messages?: number;
  scheduled?: number;
  sendFailed?: number;
  sendRetries?: number;
  firstSendError?: string;
  scheduleSeconds?: number;
  scheduleRate?: number;
  windowStartMs?: number;
  windowMs?: number;
  leadMs?: number;
  firstSendMs?: number;
  lastAckMs?: number;
  sentAfterDue?: number;
  ackedAfterWindowStart?: number;
  warmupScheduled?: number;
  warmupReceived?: number;
  stop?: string;
  received?: number;
  duplicates?: number;
  missing?: number;
  foreign?: number;
  firstReceiveMs?: number;
  lastReceiveMs?: number;
  fireSeconds?: number;
  fireRate?: number;
  peakFireRate1s?: number;
  lastReceiveAfterWindowEndMs?: number;
  latenessMs?: { min: number; p50: number; p90: number; p99: number; p999: number; max: number; mean: number; absP50: number; absP99: number; earlyOver1s: number };
}

interface DriverRun {
  result: DriverResult;
  /** argv after the main class, with the name server address and topic as placeholders. */
  command: string[];
  stderrFile: string;
  code: number | null;
  timedOut: boolean;
  ms: number;
}

const abort = new AbortController();

async function runDriver(
  args: Record<string, string | number>,
  logFile: string,
  timeoutMs: number,
  display: (s: string) => string,
  onStdoutLine?: (line: string) => void,
): Promise<DriverRun> {
  const argv = Object.entries(args).flatMap(([k, v]) => [`--${k}`, String(v)]);
  const jvm = [
    `-Xms${P.driverHeapMb}m`,
    `-Xmx${P.driverHeapMb}m`,
    '-XX:+UseSerialGC',
    `-Drmq.logback.configurationFile=${path.join(JAVA_DIR, 'logback-stderr.xml')}`,
    '-Drocketmq.log.level=warn',
    `-Drocketmq.client.logRoot=${path.dirname(logFile)}`,
    '-cp',
    DRIVER_CP,
    'DelayBench',
  ];
  const r = await run(javaBin(), [...jvm, ...argv], { cwd: JAVA_DIR, timeoutMs, signal: abort.signal, onStdoutLine });
  fs.writeFileSync(logFile, r.stderr);
  if (r.error) throw new Error(`could not run ${javaBin()}: ${r.error.message}`);
  const line = r.stdout.trim().split('\n').findLast((l) => l.startsWith('{'));
  let result: DriverResult;
  try {
    result = line ? (JSON.parse(line) as DriverResult) : { error: `no result line (exit ${r.code}${r.timedOut ? ', timed out' : ''})` };
  } catch {
    result = { error: `unreadable result line: ${line}` };
  }
  if (r.timedOut) result.error ??= `timed out after ${(timeoutMs / 1000).toFixed(0)} s`;
  return {
    result,
    command: ['java', '-Xms/-Xmx' + P.driverHeapMb + 'm', '-XX:+UseSerialGC', '-cp', "'bench/delay/java/target/{classes,dependency/*}'", 'DelayBench', ...argv.map(display)],
    stderrFile: logFile,
    code: r.code,
    timedOut: r.timedOut,
    ms: r.ms,
  };
}

// ---------------------------------------------------------------- brokers

interface RunningTarget {
  name: TargetName;
  label: string;
  namesrvAddr: string;
  namesrvPort: number;
  brokerPort: number;
  pids: number[];
  commands: string[][];
  logFile: string;
  stop(): Promise<void>;
}

function diglotVersion(): string {
  return (JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
}

const LABEL: Record<TargetName, string> = {
  rocketmq: `Apache RocketMQ ${ROCKETMQ_VERSION}`,
  diglot: `Diglot ${diglotVersion()}`,
};

/** Broker settings changed from reference/rocketmq's defaults (none unless --rmq-timer-precision-ms is given). */
function rmqBrokerConfig(): Record<string, string> {
  return P.rmqTimerPrecisionMs === undefined ? {} : { timerPrecisionMs: String(P.rmqTimerPrecisionMs) };
}

async function startApache(dir: string): Promise<RunningTarget> {
  const rmq = await startRocketmq({
    dataDir: dir,
    namesrvHeapMb: P.rmqNamesrvHeapMb,
    brokerHeapMb: P.rmqBrokerHeapMb,
    brokerConfig: rmqBrokerConfig(),
    log: (line) => progress(`rocketmq: ${line}`),
  });
  return {
    name: 'rocketmq',
    label: LABEL.rocketmq,
    namesrvAddr: rmq.namesrvAddr,
    namesrvPort: rmq.namesrvPort,
    brokerPort: rmq.brokerPort,
    pids: [rmq.namesrvPid(), rmq.brokerPid()].filter((p): p is number => p !== undefined),
    commands: [rmq.commands.namesrv, rmq.commands.broker].map((c) => c.map((arg) => arg.replaceAll(dir, '$DATA'))),
    logFile: rmq.brokerLog,
    stop: () => rmq.stop(),
  };
}

/** Where bin/diglot.mjs is run from: the repository, or a snapshot of --diglot-rev made by main(). */
let diglotRoot = ROOT;

/** Extracts `git archive <rev>` into dir and links the repository's node_modules into it; returns the short commit. */
function snapshotDiglot(rev: string, dir: string): string {
  const commit = spawnSync('git', ['-C', ROOT, 'rev-parse', '--short', `${rev}^{commit}`], { encoding: 'utf8' });
  if (commit.status !== 0) throw new Error(`--diglot-rev ${rev}: ${commit.stderr.trim()}`);
  fs.mkdirSync(dir, { recursive: true });
  const r = spawnSync('sh', ['-c', 'git -C "$1" archive --format=tar "$2" | tar -x -C "$3"', 'sh', ROOT, rev, dir], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`git archive ${rev} | tar -x failed: ${r.stderr.trim()}`);
  fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'), 'dir');
  return commit.stdout.trim();
}

async function startDiglot(dir: string): Promise<RunningTarget> {
  fs.mkdirSync(dir, { recursive: true });
  const kafkaPort = await freePort();
  let rocketmqPort = await freePort();
  while (rocketmqPort === kafkaPort) rocketmqPort = await freePort();
  const logFile = path.join(dir, 'diglot.log');
  const args = [
    ...NODE_FLAGS, path.join(diglotRoot, 'bin/diglot.mjs'), 'start',
    '--kafka-port', String(kafkaPort), '--rocketmq-port', String(rocketmqPort), '--admin-port', '0',
    '--data-dir', path.join(dir, 'data'), '--host', '127.0.0.1', '--log-level', 'warn',
  ];
  // Defaults only: DIGLOT_* variables of the calling shell would change what is measured.
  const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('DIGLOT_')));
  const out = fs.openSync(logFile, 'a');
  const child: ChildProcess = spawn(process.execPath, args, { cwd: diglotRoot, env, stdio: ['ignore', out, out] });
  fs.closeSync(out);
  if (child.pid === undefined) throw new Error(`could not start ${process.execPath}`);
  const pid = child.pid;
  const stop = () => terminate(child, 40_000).then(() => undefined);
  progress(`diglot: pid ${pid}, RocketMQ port ${rocketmqPort}, log ${logFile}`);
  const alive = () => child.exitCode === null && child.signalCode === null;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (!alive() || Date.now() > deadline) {
      await stop();
      throw new Error(`Diglot did not become ready (${alive() ? 'timeout' : `exit ${child.exitCode ?? child.signalCode}`})\n${tail(read(logFile), 20)}`);
    }
    if (await waitForPort(rocketmqPort, 1_000, alive)) {
      try {
        if ((await remotingRequest(rocketmqPort, GET_BROKER_CLUSTER_INFO, {}, 2_000)).code === 0) break;
      } catch {
        // not yet
      }
    }
    await sleep(200);
  }
  return {
    name: 'diglot',
    label: LABEL.diglot,
    namesrvAddr: `127.0.0.1:${rocketmqPort}`,
    namesrvPort: rocketmqPort,
    brokerPort: rocketmqPort,
    pids: [pid],
    commands: [['node', ...args.map((arg) => (arg.startsWith(dir) ? arg.replace(dir, '$DATA') : arg.startsWith(diglotRoot) ? path.relative(diglotRoot, arg) : arg))]],
    logFile,
    stop,
  };
}

const GET_BROKER_CLUSTER_INFO = 106;
const GET_ROUTEINFO_BY_TOPIC = 105;
const GET_TOPIC_STATS_INFO = 202;

const read = (file: string) => {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return '';
  }
};

/** Creates the topic with mqadmin updateTopic and waits until the name server routes P.queues read/write queues. */
async function createTopic(target: RunningTarget, topic: string, logDir: string): Promise<string[]> {
  const args = ['updateTopic', '-n', target.namesrvAddr, '-c', DEFAULT_CLUSTER, '-t', topic, '-r', String(P.queues), '-w', String(P.queues)];
  const r = await runTool(MQADMIN, args, { logDir, timeoutMs: 90_000, signal: abort.signal });
  if (!/success/.test(r.stdout)) throw new Error(`mqadmin updateTopic ${topic} failed (exit ${r.code}): ${tail(r.stdout + r.stderr, 5)}`);
  for (let i = 0; i < 40; i++) {
    try {
      const route = await remotingRequest(target.namesrvPort, GET_ROUTEINFO_BY_TOPIC, { topic });
      const text = route.body.toString('utf8');
      const sum = (key: string) => [...text.matchAll(new RegExp(`"${key}":(\\d+)`, 'g'))].reduce((s, m) => s + Number(m[1]), 0);
      if (route.code === 0 && sum('readQueueNums') === P.queues && sum('writeQueueNums') === P.queues) return r.command;
    } catch {
      // retry
    }
    await sleep(250);
  }
  throw new Error(`route for ${topic} never showed ${P.queues} read/write queues`);
}

/** Messages in the topic's queues (sum of max offsets), from one GET_TOPIC_STATS_INFO on the broker. */
async function topicMessages(target: RunningTarget, topic: string): Promise<number> {
  const r = await remotingRequest(target.brokerPort, GET_TOPIC_STATS_INFO, { topic }, 5_000);
  if (r.code !== 0) throw new Error(`GET_TOPIC_STATS_INFO ${topic} answered code ${r.code}: ${r.remark ?? ''}`);
  // fastjson output with object keys (not JSON.parse-able): sum every maxOffset.
  return [...r.body.toString('utf8').matchAll(/"maxOffset":(\d+)/g)].reduce((s, m) => s + Number(m[1]), 0);
}

// ---------------------------------------------------------------- phases

interface Problem {
  phase: string;
  text: string;
}

interface FirePhase {
  driver?: DriverRun;
  usage?: Usage;
  /** Target-topic message count polled on the broker: [ms since the phase started, messages]. */
  polls?: [number, number][];
  /** Broker-side fire rate between the polls that saw 10 % and 90 % of the messages in the target topic. */
  offsetFireRate?: number;
  error?: string;
}

interface RssStep {
  pending: number;
  rssMiB?: number;
  rssAnonMiB?: number;
  /** Messages already in the target topic (delivered): should be 0. */
  delivered?: number;
  scheduleRate?: number;
  settleSeconds?: number;
  driver?: DriverRun;
}

interface RssPhase {
  idleRssMiB?: number;
  idleRssAnonMiB?: number;
  /** After the warm-up's past-due messages fired (P.rssWarmup > 0). */
  warmRssMiB?: number;
  warmRssAnonMiB?: number;
  warmDelivered?: number;
  warmDriver?: DriverRun;
  steps: RssStep[];
  error?: string;
}

interface TargetResult {
  name: TargetName;
  label: string;
  startSeconds?: number[];
  commands?: string[][];
  plain?: FirePhase;
  lateness?: FirePhase;
  rate?: FirePhase;
  rss?: RssPhase;
  problems: Problem[];
  unavailable?: string;
  logTail?: string;
}

/** The lead: 5 s + 1.25 × the time scheduling takes at `rate` messages/s, so it ends before the window opens. */
function leadFor(messages: number, rate: number): number {
  return Math.ceil(5_000 + (messages / Math.max(rate, 5_000)) * 1000 * 1.25);
}

let activeStop: (() => Promise<void>) | undefined;

type FireName = 'plain' | 'lateness' | 'rate';

/** Options of node-sender.ts shared by every phase. */
function senderBase(target: RunningTarget, topic: string): Pick<SenderOptions, 'port' | 'topic' | 'queues' | 'bodyBytes' | 'inflight' | 'connections' | 'seed' | 'log'> {
  return {
    port: target.brokerPort,
    topic,
    queues: P.queues,
    bodyBytes: P.bodyBytes,
    inflight: P.inflight || 1,
    connections: P.producers,
    seed: 1,
    log: (line) => progress(`${target.name}: node sender: ${line}`),
  };
}

function senderCommand(o: Partial<SenderOptions>): string[] {
  return [
    'node-sender', `(in bench/delay/run.ts: SEND_MESSAGE_V2, JSON headers, to $BROKER)`, `--topic ${o.topic}`, `--messages ${o.messages}`,
    `--timer ${o.timer}`, `--body-bytes ${o.bodyBytes}`, `--inflight ${o.inflight}`, `--connections ${o.connections}`, `--warmup ${o.warmup}`,
    `--window-ms ${o.windowMs}`,
  ];
}

/**
 * --sender node: the Java driver only receives (--send false, started first, says READY once it holds every queue);
 * node-sender.ts sends the warm-up, waits until the broker delivered it, then sends the measured messages. The window
 * is fixed before the driver starts: 20 s for its start and the warm-up, then the lead. Returns the two halves merged
 * into one driver result.
 */
async function nodeLoad(
  which: FireName,
  target: RunningTarget,
  topic: string,
  messages: number,
  windowMs: number,
  leadMs: number,
  waitMs: number,
  logFile: string,
  timeoutMs: number,
  display: (s: string) => string,
): Promise<DriverRun> {
  const base = senderBase(target, topic);
  const waitDelivered = async (count: number) => {
    // The warm-up is due 1.5 s after it was sent: wait until the broker put it into the topic (at most 30 s).
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      try {
        if ((await topicMessages(target, topic)) >= count) return;
      } catch {
        // retry
      }
      await sleep(100);
    }
  };
  if (which === 'plain') {
    const o: SenderOptions = { ...base, messages, timer: false, seqBase: 0, windowStartMs: Number.MAX_SAFE_INTEGER, windowMs: 0, runTag: `plain-${process.pid}`, warmup: P.warmup, timeoutMs };
    const t0 = performance.now();
    const result = await sendAll(o);
    return { result: { ...result, windowStartMs: undefined, leadMs: undefined }, command: senderCommand(o).map(display), stderrFile: logFile, code: 0, timedOut: false, ms: performance.now() - t0 };
  }
  const windowStartMs = Date.now() + 20_000 + leadMs;
  const args = {
    namesrv: target.namesrvAddr,
    topic,
    group: `${topic}_c`,
    send: 'false',
    run: topic,
    messages,
    'window-start-ms': windowStartMs,
    'window-ms': windowMs,
    'wait-ms': waitMs,
    'stall-ms': 30_000,
  };
  let ready: () => void = () => {};
  const readyP = new Promise<void>((resolve) => (ready = resolve));
  const driverP = runDriver(args, logFile, timeoutMs, (s) => display(s).replace(String(windowStartMs), '<start>'), (line) => {
    if (line.trim() === 'READY') ready();
  });
  const o: SenderOptions = {
    ...base,
    messages,
    timer: true,
    seqBase: 0,
    windowStartMs,
    windowMs,
    runTag: topic,
    warmup: P.warmup,
    timeoutMs,
  };
  const first = await Promise.race([readyP.then(() => 'ready' as const), driverP.then(() => 'exited' as const)]);
  if (first === 'exited') return driverP;
  let sent: SenderResult | undefined;
  let sendError: string | undefined;
  try {
    sent = await sendAll({ ...o, afterWarmup: () => waitDelivered(P.warmup) });
  } catch (e) {
    sendError = (e as Error).message;
  }
  const d = await driverP;
  const merged: DriverResult = { ...d.result, ...(sent ?? {}) };
  if (sent && merged.received !== undefined) merged.missing = sent.scheduled - merged.received;
  if (sendError) merged.error ??= `node sender: ${sendError}`;
  return { ...d, result: merged, command: [...senderCommand(o).map(display), '+', ...d.command] };
}

async function firePhase(
  which: FireName,
  target: RunningTarget,
  topic: string,
  messages: number,
  windowMs: number,
  leadMs: number,
  dir: string,
  display: (s: string) => string,
): Promise<FirePhase> {
  const phase: FirePhase = {};
  const plain = which === 'plain';
  const waitMs = 60_000 + Math.ceil(messages * 0.2);
  const args = {
    namesrv: target.namesrvAddr,
    topic,
    // plain: sends only (no consumer), without TIMER_DELIVER_MS.
    ...(plain ? { timer: 'false' } : { group: `${topic}_c` }),
    messages,
    'body-bytes': P.bodyBytes,
    threads: P.threads,
    inflight: P.inflight,
    producers: P.producers,
    warmup: P.warmup,
    ...(plain ? {} : { 'lead-ms': leadMs, 'window-ms': windowMs, 'wait-ms': waitMs, 'stall-ms': 30_000 }),
  };
  progress(
    plain
      ? `${target.name}: plain: ${messages.toLocaleString('en-US')} messages without TIMER_DELIVER_MS (send path reference)`
      : `${target.name}: ${which}: ${messages.toLocaleString('en-US')} messages due over ${windowMs} ms starting ${(leadMs / 1000).toFixed(1)} s after the first send`,
  );
  // Poll the target topic's message count on the broker (what has been fired into it) while the driver runs.
  const polls: [number, number][] = [];
  let polling = !plain;
  const t0 = performance.now();
  const poller = (async () => {
    while (polling) {
      const started = performance.now();
      try {
        polls.push([Math.round(performance.now() - t0), await topicMessages(target, topic)]);
      } catch {
        // a missed poll
      }
      await sleep(Math.max(0, P.pollMs - (performance.now() - started)));
    }
  })();
  try {
    const timeoutMs = 120_000 + leadMs + windowMs + waitMs;
    const logFile = path.join(dir, `driver-${which}.log`);
    const { value, usage } = await measured(target.pids, () =>
      P.sender === 'java' ? runDriver(args, logFile, timeoutMs, display) : nodeLoad(which, target, topic, messages, windowMs, leadMs, waitMs, logFile, timeoutMs, display),
    );
    phase.driver = value;
    phase.usage = usage;
  } finally {
    polling = false;
    await poller;
  }
  phase.polls = polls;
  const base = P.warmup > 0 ? (phase.driver.result.warmupScheduled ?? 0) : 0;
  const total = phase.driver.result.scheduled ?? messages;
  const a = polls.find(([, n]) => n - base >= 0.1 * total);
  const b = polls.find(([, n]) => n - base >= 0.9 * total);
  if (a && b && b[0] > a[0]) phase.offsetFireRate = ((b[1] - a[1]) * 1000) / (b[0] - a[0]);
  const r = phase.driver.result;
  if (r.error) phase.error = `driver: ${r.error}`;
  else if (plain) progress(`${target.name}: plain: send ${fmtInt(r.scheduleRate ?? 0)}/s`);
  else progress(`${target.name}: ${which}: schedule ${fmtInt(r.scheduleRate ?? 0)}/s, fire ${fmtInt(r.fireRate ?? 0)}/s, lateness p50 ${r.latenessMs?.p50} p99 ${r.latenessMs?.p99} max ${r.latenessMs?.max} ms, received ${r.received}, missing ${r.missing}, duplicates ${r.duplicates}`);
  return phase;
}

function fireProblems(which: string, phase: FirePhase | undefined): Problem[] {
  const out: Problem[] = [];
  if (!phase) return out;
  const r = phase.driver?.result;
  if (phase.error) out.push({ phase: which, text: phase.error + (phase.driver ? ` (driver log: ${phase.driver.stderrFile})` : '') });
  if (!r || r.error) return out;
  if (r.sendFailed) out.push({ phase: which, text: `${r.sendFailed} sends failed after retries: ${r.firstSendError ?? ''}` });
  if (r.sendRetries) out.push({ phase: which, text: `${r.sendRetries} sends were retried (first error: ${r.firstSendError ?? '?'})` });
  if (which !== 'plain' && (r.sentAfterDue || r.ackedAfterWindowStart)) {
    out.push({ phase: which, text: `scheduling overlapped the window: ${r.sentAfterDue} sent after their due time, ${r.ackedAfterWindowStart} acknowledged after the window opened` });
  }
  if (r.missing) out.push({ phase: which, text: `${r.missing} scheduled messages never arrived (${r.stop})` });
  if (r.duplicates) out.push({ phase: which, text: `${r.duplicates} duplicate deliveries` });
  if (r.latenessMs && r.latenessMs.earlyOver1s > 0) out.push({ phase: which, text: `${r.latenessMs.earlyOver1s} messages arrived more than 1 s before their due time (timer not honoured?)` });
  return out;
}

/** Waits until the broker uses < 5 % of a core over 1 s (at most maxMs): background work of the last step is done. */
async function settle(pids: number[], maxMs = 30_000): Promise<number> {
  const t0 = performance.now();
  while (performance.now() - t0 < maxMs) {
    const c0 = cpuSeconds(pids);
    await sleep(1_000);
    const c1 = cpuSeconds(pids);
    if (c0 === undefined || c1 === undefined || c1 - c0 < 0.05) break;
  }
  return (performance.now() - t0) / 1000;
}

async function sampleRss(pids: number[]): Promise<{ rss?: number; anon?: number }> {
  let rss = 0;
  let anon = 0;
  for (let i = 0; i < P.rssSamples; i++) {
    if (i) await sleep(P.rssSampleGapMs);
    rss = Math.max(rss, sumKb(pids, 'VmRSS') ?? 0);
    anon = Math.max(anon, sumKb(pids, 'RssAnon') ?? 0);
  }
  return { rss: rss / 1024 || undefined, anon: anon / 1024 || undefined };
}

/** Schedules `count` timer messages to `topic` with due times in [windowStart, windowStart + windowMs): the Java driver or the node sender. */
async function scheduleBatch(target: RunningTarget, topic: string, count: number, seqBase: number, windowStart: number, windowMs: number, logFile: string, shown: (s: string) => string): Promise<DriverRun> {
  if (P.sender === 'java') {
    const args = {
      namesrv: target.namesrvAddr,
      topic,
      messages: count,
      'seq-base': seqBase,
      'body-bytes': P.bodyBytes,
      threads: P.threads,
      inflight: P.inflight,
      producers: P.producers,
      warmup: 0,
      'window-start-ms': windowStart,
      'window-ms': windowMs,
    };
    return runDriver(args, logFile, 120_000 + count * 2, shown);
  }
  const o: SenderOptions = { ...senderBase(target, topic), messages: count, timer: true, seqBase, windowStartMs: windowStart, windowMs, runTag: topic, warmup: 0, timeoutMs: 120_000 + count * 2 };
  const t0 = performance.now();
  let result: DriverResult;
  try {
    result = await sendAll(o);
  } catch (e) {
    result = { error: `node sender: ${(e as Error).message}` };
  }
  return { result, command: senderCommand(o).map(shown), stderrFile: logFile, code: 0, timedOut: false, ms: performance.now() - t0 };
}

async function rssPhase(target: RunningTarget, topic: string, dir: string, display: (s: string) => string): Promise<RssPhase> {
  const phase: RssPhase = { steps: [] };
  await settle(target.pids);
  const idle = await sampleRss(target.pids);
  phase.idleRssMiB = idle.rss;
  phase.idleRssAnonMiB = idle.anon;
  progress(`${target.name}: rss: idle ${fmt(idle.rss ?? 0, 0)} MiB (RssAnon ${fmt(idle.anon ?? 0, 0)} MiB)`);
  if (P.rssWarmup > 0) {
    // Due an hour or two ago: each fires as soon as it is scheduled; none is pending when the steps begin.
    const warmTopic = `${topic}_warm`;
    await createTopic(target, warmTopic, path.join(dir, 'tool-logs'));
    const warmStart = Date.now() - 2 * P.rssAheadMs;
    progress(`${target.name}: rss: warm-up: ${P.rssWarmup.toLocaleString('en-US')} timer messages due in the past to ${warmTopic}`);
    const driver = await scheduleBatch(target, warmTopic, P.rssWarmup, 0, warmStart, P.rssAheadMs, path.join(dir, 'driver-rss-warmup.log'), (s) => display(s).replace(String(warmStart), '<now-2h>'));
    phase.warmDriver = driver;
    if (driver.result.error) {
      phase.error = `driver (warm-up): ${driver.result.error} (log: ${driver.stderrFile})`;
      return phase;
    }
    const expected = driver.result.scheduled ?? P.rssWarmup;
    let delivered = 0;
    for (const t0 = performance.now(); performance.now() - t0 < 180_000; await sleep(500)) {
      try {
        delivered = await topicMessages(target, warmTopic);
      } catch {
        // the topic appears with its first delivery
      }
      if (delivered >= expected) break;
    }
    phase.warmDelivered = delivered;
    await settle(target.pids);
    const warm = await sampleRss(target.pids);
    phase.warmRssMiB = warm.rss;
    phase.warmRssAnonMiB = warm.anon;
    progress(`${target.name}: rss: after the warm-up (${delivered.toLocaleString('en-US')} of ${expected.toLocaleString('en-US')} delivered): ${fmt(warm.rss ?? 0, 0)} MiB (RssAnon ${fmt(warm.anon ?? 0, 0)} MiB)`);
  }
  const windowStart = Date.now() + P.rssAheadMs;
  let pending = 0;
  for (const stepTo of P.rssSteps) {
    const count = stepTo - pending;
    progress(`${target.name}: rss: scheduling ${count.toLocaleString('en-US')} more (due in 1-2 h) to reach ${stepTo.toLocaleString('en-US')} pending`);
    const logFile = path.join(dir, `driver-rss-${stepTo}.log`);
    const shown = (s: string) => display(s).replace(String(windowStart), '<now+1h>');
    const driver = await scheduleBatch(target, topic, count, pending, windowStart, P.rssAheadMs, logFile, shown);
    const step: RssStep = { pending: pending + (driver.result.scheduled ?? 0), driver, scheduleRate: driver.result.scheduleRate };
    phase.steps.push(step);
    if (driver.result.error) {
      phase.error = `driver (step ${stepTo}): ${driver.result.error} (log: ${driver.stderrFile})`;
      break;
    }
    pending = step.pending;
    step.settleSeconds = await settle(target.pids);
    const s = await sampleRss(target.pids);
    step.rssMiB = s.rss;
    step.rssAnonMiB = s.anon;
    try {
      step.delivered = await topicMessages(target, topic);
    } catch {
      // not measured
    }
    progress(`${target.name}: rss: ${pending.toLocaleString('en-US')} pending: ${fmt(s.rss ?? 0, 0)} MiB (RssAnon ${fmt(s.anon ?? 0, 0)} MiB), delivered so far ${step.delivered ?? '?'}`);
  }
  return phase;
}

async function startTarget(name: TargetName, dir: string): Promise<RunningTarget> {
  const target = name === 'rocketmq' ? await startApache(dir) : await startDiglot(dir);
  activeStop = target.stop;
  return target;
}

async function stopTarget(target: RunningTarget, result: TargetResult): Promise<void> {
  progress(`${target.name}: stopping pids ${target.pids.join(', ')}`);
  await target.stop();
  activeStop = undefined;
  if (target.name === 'diglot') {
    const log = read(target.logFile).trim();
    if (log) result.logTail = tail(log, 20);
  }
}

async function benchTarget(name: TargetName, runId: string, workDir: string): Promise<TargetResult> {
  const result: TargetResult = { name, label: LABEL[name], problems: [], startSeconds: [] };
  const fail = (phase: string, e: unknown) => result.problems.push({ phase, text: (e as Error).message });

  // 1. lateness, plain and rate on one broker start.
  const fireWanted = P.phases.filter((p): p is FireName => p !== 'rss');
  if (fireWanted.length) {
    const dir = path.join(workDir, `${name}-fire`);
    const t0 = performance.now();
    let target: RunningTarget;
    try {
      target = await startTarget(name, dir);
    } catch (e) {
      result.unavailable = `did not start: ${(e as Error).message}`;
      return result;
    }
    result.startSeconds!.push((performance.now() - t0) / 1000);
    result.commands = target.commands;
    try {
      let measuredRate: number | undefined;
      for (const which of fireWanted) {
        if (abort.signal.aborted) throw new Error('interrupted');
        const topic = `Delay${{ plain: 'Plain', lateness: 'Late', rate: 'Rate' }[which]}_${runId}`;
        const display = (s: string) => s.replaceAll(target.namesrvAddr, '$NAMESRV').replaceAll(runId, '<run>');
        try {
          await createTopic(target, topic, path.join(dir, 'tool-logs'));
          const messages = which === 'lateness' ? P.lateMessages : P.messages;
          const windowMs = which === 'rate' ? P.rateWindowMs : P.lateWindowMs;
          // Before anything was measured a conservative 10,000/s; then 80 % of the lateness phase's schedule rate.
          const lead = leadFor(messages, measuredRate === undefined ? P.assumedScheduleRate : measuredRate * 0.8);
          const phase = await firePhase(which, target, topic, messages, windowMs, lead, dir, display);
          result[which] = phase;
          if (which !== 'plain') measuredRate ??= phase.driver?.result.scheduleRate;
          result.problems.push(...fireProblems(which, phase));
        } catch (e) {
          fail(which, e);
        }
      }
    } finally {
      await stopTarget(target, result);
      if (!P.keep) fs.rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
    }
  }

  // 2. rss on a fresh broker with an empty store.
  if (P.phases.includes('rss') && !abort.signal.aborted) {
    const dir = path.join(workDir, `${name}-rss`);
    const t0 = performance.now();
    let target: RunningTarget;
    try {
      target = await startTarget(name, dir);
    } catch (e) {
      fail('rss', e);
      return result;
    }
    result.startSeconds!.push((performance.now() - t0) / 1000);
    result.commands ??= target.commands;
    try {
      const topic = `DelayRss_${runId}`;
      const display = (s: string) => s.replaceAll(target.namesrvAddr, '$NAMESRV').replaceAll(runId, '<run>');
      await createTopic(target, topic, path.join(dir, 'tool-logs'));
      result.rss = await rssPhase(target, topic, dir, display);
      if (result.rss.error) result.problems.push({ phase: 'rss', text: result.rss.error });
      const warmSent = result.rss.warmDriver?.result.scheduled;
      if (P.rssWarmup > 0 && (warmSent !== P.rssWarmup || result.rss.warmDelivered !== warmSent)) {
        result.problems.push({ phase: 'rss', text: `warm-up: ${warmSent ?? 0} of ${P.rssWarmup} scheduled, ${result.rss.warmDelivered ?? 0} delivered before the steps` });
      }
      for (const s of result.rss.steps) {
        if (s.delivered) result.problems.push({ phase: 'rss', text: `${s.delivered} messages were delivered at ${s.pending} pending although due 1-2 h ahead` });
      }
    } catch (e) {
      fail('rss', e);
    } finally {
      await stopTarget(target, result);
      if (!P.keep) fs.rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
    }
  }
  return result;
}

// ---------------------------------------------------------------- report

const fmtInt = (x: number) => Math.round(x).toLocaleString('en-US');
const fmt = (x: number, digits = 1) => x.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });

interface Row {
  section: string;
  metric: string;
  get: (r: TargetResult) => number | undefined;
  format: (x: number) => string;
  /** An absolute target for Diglot (the issue's), checked against Diglot's figure. */
  target?: { kind: 'min' | 'max'; value: number; text: string };
  /** Whether lower is better (said in the ratio column's note). */
  lower?: boolean;
  note?: string;
  /** No ratio (counts, or figures whose ratio means nothing). */
  noRatio?: boolean;
}

function rssAt(r: TargetResult, pending: number, anon = false): number | undefined {
  const s = r.rss?.steps.find((x) => x.pending === pending);
  return anon ? s?.rssAnonMiB : s?.rssMiB;
}

function rssGrowth(r: TargetResult, anon = false): number | undefined {
  const steps = r.rss?.steps.filter((s) => s.rssMiB !== undefined) ?? [];
  if (steps.length < 2) return undefined;
  const first = anon ? steps[0]!.rssAnonMiB : steps[0]!.rssMiB;
  const last = anon ? steps.at(-1)!.rssAnonMiB : steps.at(-1)!.rssMiB;
  return first !== undefined && last !== undefined ? last - first : undefined;
}

/** CPU seconds over the messages of a driver run (measured + warm-up), in µs per message. */
function perMessage(cpuSeconds: number | undefined, d: DriverResult | undefined): number | undefined {
  const n = (d?.scheduled ?? 0) + (d?.warmupScheduled ?? 0);
  return cpuSeconds === undefined || !n ? undefined : (cpuSeconds * 1e6) / n;
}

function rows(): Row[] {
  const out: Row[] = [];
  const ms = (x: number) => fmtInt(x);
  const s1 = (x: number) => fmt(x, 1);
  const mib = (x: number) => fmt(x, 0);
  const pct = (x: number) => `${fmt(x, 1)} %`;
  for (const which of ['lateness', 'plain', 'rate'] as const) {
    if (!P.phases.includes(which)) continue;
    if (which === 'plain') {
      const section = `plain: ${fmtInt(P.messages)} sends, no timer`;
      const d = (r: TargetResult) => (r.plain?.driver?.result.error ? undefined : r.plain?.driver?.result);
      const u = (r: TargetResult) => (d(r) ? r.plain?.usage : undefined);
      out.push({ section, metric: 'send rate msg/s', get: (r) => d(r)?.scheduleRate, format: fmtInt, note: "the rate phase's messages without TIMER_DELIVER_MS" });
      out.push({ section, metric: 'broker CPU s', get: (r) => u(r)?.brokerCpuSeconds, format: s1, lower: true, note: 'whole driver run, warm-up included' });
      out.push({ section, metric: 'broker CPU µs/message', get: (r) => perMessage(u(r)?.brokerCpuSeconds, d(r)), format: s1, lower: true, note: 'over measured + warm-up messages' });
      out.push({ section, metric: 'client CPU s', get: (r) => u(r)?.clientCpuSeconds, format: s1, noRatio: true, note: 'driver JVM (with its start) + this script' });
      out.push({ section, metric: 'other processes CPU s', get: (r) => u(r)?.otherCpuSeconds, format: s1, noRatio: true, note: 'noise; ideally ~0' });
      continue;
    }
    const d = (r: TargetResult) => (r[which]?.driver?.result.error ? undefined : r[which]?.driver?.result);
    const u = (r: TargetResult) => (d(r) ? r[which]?.usage : undefined);
    const section =
      which === 'lateness'
        ? `lateness: ${fmtInt(P.lateMessages)} due over ${fmt(P.lateWindowMs / 1000, 0)} s (${fmtInt((P.lateMessages * 1000) / P.lateWindowMs)}/s)`
        : `rate: ${fmtInt(P.messages)} due within ${fmt(P.rateWindowMs / 1000, 1)} s`;
    const rateTarget = which === 'rate' ? { kind: 'min' as const, value: 100_000, text: '≥ 100,000/s' } : undefined;
    out.push({ section, metric: 'schedule rate msg/s', get: (r) => d(r)?.scheduleRate, format: fmtInt, target: rateTarget });
    out.push({ section, metric: 'fire rate msg/s (first→last receive)', get: (r) => d(r)?.fireRate, format: fmtInt, target: rateTarget });
    out.push({ section, metric: 'fire rate msg/s (broker offsets 10→90 %)', get: (r) => r[which]?.offsetFireRate, format: fmtInt, note: 'cross-check, no consumer in the path' });
    out.push(
      which === 'lateness'
        ? { section, metric: 'peak fire rate over 1 s', get: (r) => d(r)?.peakFireRate1s, format: fmtInt, noRatio: true, note: 'demand is even: above it = bursts' }
        : { section, metric: 'peak fire rate over 1 s', get: (r) => d(r)?.peakFireRate1s, format: fmtInt },
    );
    const late = (k: 'p50' | 'p99' | 'max' | 'min' | 'mean') => (r: TargetResult) => d(r)?.latenessMs?.[k];
    const p99Target = which === 'lateness' ? { kind: 'max' as const, value: 50, text: '≤ 50 ms' } : undefined;
    out.push({ section, metric: 'lateness p50 ms', get: late('p50'), format: ms, lower: true });
    out.push({ section, metric: 'lateness p99 ms', get: late('p99'), format: ms, lower: true, target: p99Target });
    out.push({ section, metric: 'lateness max ms', get: late('max'), format: ms, lower: true });
    out.push({ section, metric: 'lateness min ms', get: late('min'), format: ms, noRatio: true, note: '< 0: delivered before due' });
    if (which === 'rate') out.push({ section, metric: 'last receive after window end s', get: (r) => { const x = d(r)?.lastReceiveAfterWindowEndMs; return x === undefined ? undefined : x / 1000; }, format: s1, lower: true });
    out.push({ section, metric: 'received / scheduled', get: (r) => { const x = d(r); return x?.received !== undefined && x.scheduled ? x.received / x.scheduled : undefined; }, format: (x) => pct(x * 100), noRatio: true });
    out.push({ section, metric: 'duplicates', get: (r) => d(r)?.duplicates, format: fmtInt, noRatio: true });
    out.push({ section, metric: 'broker CPU s', get: (r) => u(r)?.brokerCpuSeconds, format: s1, lower: true, note: 'whole driver run, warm-up included' });
    out.push({ section, metric: 'broker CPU µs/message', get: (r) => perMessage(u(r)?.brokerCpuSeconds, d(r)), format: s1, lower: true, note: 'schedule + fire + consume, measured + warm-up' });
    out.push({ section, metric: 'broker peak RSS MiB', get: (r) => u(r)?.peakRssMiB, format: mib, lower: true });
    out.push({ section, metric: 'client CPU s', get: (r) => u(r)?.clientCpuSeconds, format: s1, noRatio: true, note: 'driver JVM (with its start) + this script' });
    out.push({ section, metric: 'other processes CPU s', get: (r) => u(r)?.otherCpuSeconds, format: s1, noRatio: true, note: 'noise; ideally ~0' });
  }
  if (P.phases.includes('rss')) {
    const section = `rss: pending due 1-2 h ahead`;
    const first = P.rssSteps[0]!;
    const last = P.rssSteps.at(-1)!;
    out.push({ section, metric: 'broker RSS MiB, idle', get: (r) => r.rss?.idleRssMiB, format: mib, lower: true });
    if (P.rssWarmup > 0) {
      out.push({ section, metric: `broker RSS MiB, after ${fmtInt(P.rssWarmup)} past-due fired`, get: (r) => r.rss?.warmRssMiB, format: mib, lower: true, note: 'warm-up: allocators and caches at working size' });
      out.push({ section, metric: 'warm-up messages delivered', get: (r) => r.rss?.warmDelivered, format: fmtInt, noRatio: true });
    }
    for (const s of P.rssSteps) out.push({ section, metric: `broker RSS MiB, ${fmtInt(s)} pending`, get: (r) => rssAt(r, s), format: mib, lower: true });
    out.push({ section, metric: `RSS growth MiB ${fmtInt(first)}→${fmtInt(last)}`, get: (r) => rssGrowth(r), format: mib, lower: true, target: { kind: 'max', value: 0, text: 'flat' } });
    out.push({ section, metric: 'broker RssAnon MiB, idle', get: (r) => r.rss?.idleRssAnonMiB, format: mib, lower: true });
    if (P.rssWarmup > 0) out.push({ section, metric: `broker RssAnon MiB, after the warm-up`, get: (r) => r.rss?.warmRssAnonMiB, format: mib, lower: true });
    for (const s of P.rssSteps) out.push({ section, metric: `broker RssAnon MiB, ${fmtInt(s)} pending`, get: (r) => rssAt(r, s, true), format: mib, lower: true });
    out.push({ section, metric: `RssAnon growth MiB ${fmtInt(first)}→${fmtInt(last)}`, get: (r) => rssGrowth(r, true), format: mib, lower: true });
    out.push({ section, metric: `schedule rate msg/s (last step)`, get: (r) => r.rss?.steps.at(-1)?.scheduleRate, format: fmtInt });
  }
  return out;
}


function targetCell(row: Row, dig: TargetResult | undefined): string {
  if (!row.target) return row.note ?? '';
  const v = dig ? row.get(dig) : undefined;
  if (row.target.text === 'flat') {
    // RSS: growth from the first to the last step; "flat" read as <= 10 % of the first step's RSS.
    const base = dig?.rss?.steps[0]?.rssMiB;
    if (v === undefined || base === undefined) return 'flat';
    return `flat (≤ 10 %: ${fmt((v / base) * 100, 1)} %)  ${v <= 0.1 * base ? 'met' : 'NOT met'}`;
  }
  if (v === undefined) return row.target.text;
  const met = row.target.kind === 'min' ? v >= row.target.value : v <= row.target.value;
  return `${row.target.text}  ${met ? 'met' : 'NOT met'}`;
}

function report(all: TargetResult[], meta: Record<string, string>): string {
  const rmq = all.find((r) => r.name === 'rocketmq');
  const dig = all.find((r) => r.name === 'diglot');
  const out: string[] = [];
  out.push(`# bench:delay — ${LABEL.rocketmq} timer messages vs ${LABEL.diglot} delay messages, same load, one broker at a time`);
  out.push('');
  for (const [key, value] of Object.entries(meta)) out.push(`${`${key}:`.padEnd(13)} ${value}`);
  out.push('');
  const cell = (r: TargetResult | undefined, row: Row, name: TargetName) => {
    if (!P.targets.includes(name)) return 'skipped';
    if (!r || r.unavailable) return 'n/a';
    const v = row.get(r);
    return v === undefined ? 'n/a' : row.format(v);
  };
  const body: string[][] = [];
  let last = '';
  for (const row of rows()) {
    const a = rmq ? row.get(rmq) : undefined;
    const b = dig ? row.get(dig) : undefined;
    const ratio = !row.noRatio && a !== undefined && b !== undefined && a > 0 && b >= 0 ? b / a : undefined;
    const ratioText = ratio === undefined ? '' : `${fmt(ratio, 2)}×${row.lower ? ' (lower is better)' : ''}`;
    body.push([row.section === last ? '' : row.section, row.metric, cell(rmq, row, 'rocketmq'), cell(dig, row, 'diglot'), ratioText, targetCell(row, dig)]);
    last = row.section;
  }
  out.push(table(['phase', 'metric', LABEL.rocketmq, LABEL.diglot, 'Diglot/RocketMQ', 'target (Diglot)'], body, ['l', 'l', 'r', 'r', 'r', 'l']));
  out.push('');
  out.push('Lateness = receive time in the driver\'s consume callback - due time (TIMER_DELIVER_MS), per message, first');
  out.push('delivery; nearest-rank percentiles. Fire rate = distinct messages received / (last receive - first receive). Schedule');
  out.push('rate = messages acknowledged / (last acknowledgement - first send). Broker CPU = utime+stime of the broker');
  out.push('process(es) (Apache RocketMQ: name server + broker JVMs; Diglot: its one node process); RSS = sum of VmRSS over them.');

  const problems = all.flatMap((r) => [...(r.unavailable ? [`${r.label}: ${r.unavailable}`] : []), ...r.problems.map((p) => `${r.label} (${p.phase}): ${p.text}`)]);
  if (problems.length) {
    out.push('');
    out.push('Problems:');
    for (const p of [...new Set(problems)]) out.push(`  - ${p}`);
  }
  out.push('');
  out.push('Brokers:');
  for (const r of all) {
    if (!r.commands) continue;
    out.push(`  ${r.label}:`);
    for (const c of r.commands) out.push(`    ${c.join(' ')}`);
  }
  out.push('');
  out.push('Driver runs ($NAMESRV = 127.0.0.1:<name server port>; Diglot: its RocketMQ port), each with its JSON result line:');
  for (const r of all) {
    const runs: [string, DriverRun | undefined][] = [
      ['lateness', r.lateness?.driver],
      ['plain', r.plain?.driver],
      ['rate', r.rate?.driver],
      ['rss warm-up', r.rss?.warmDriver],
      ...(r.rss?.steps ?? []).map((s): [string, DriverRun | undefined] => [`rss ${fmtInt(s.pending)}`, s.driver]),
    ];
    for (const [phase, d] of runs) {
      if (!d) continue;
      out.push(`  ${r.label} ${phase}: ${d.command.join(' ')}`);
      out.push(`    ${JSON.stringify(d.result)}`);
    }
  }
  return out.join('\n');
}

function machineInfo(workDir: string, driverBuild: { cached: boolean; ms: number }, snapshot: string | undefined): Record<string, string> {
  const cpus = os.cpus();
  const javaVersion = spawnSync(javaBin(), ['-version'], { encoding: 'utf8' }).stderr.split('\n')[0]?.trim() ?? '?';
  const fsType = spawnSync('stat', ['-f', '-c', '%T', workDir], { encoding: 'utf8' }).stdout.trim();
  const git = spawnSync('git', ['-C', ROOT, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).stdout.trim();
  const dirty = spawnSync('git', ['-C', ROOT, 'status', '--porcelain', '--', 'src', 'bin'], { encoding: 'utf8' }).stdout.trim() !== '';
  return {
    date: new Date().toISOString(),
    machine: `${cpus[0]?.model ?? 'unknown CPU'}, ${cpus.length} cores, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB RAM, ${os.type()} ${os.release()}`,
    disk: `${workDir} (${fsType || 'unknown fs'})`,
    memory: memoryNote(),
    software:
      `Node ${process.version}; ${javaVersion}; Apache RocketMQ ${ROCKETMQ_VERSION} server jars (Maven Central); driver on ` +
      `rocketmq-client 5.3.3; Diglot ${diglotVersion()} @ ` +
      (snapshot ? `${snapshot} (git archive of --diglot-rev ${P.diglotRev}, not the working tree)` : `${git || '?'}${dirty ? ' (src/bin modified in the working tree)' : ''}`),
    load: `load average ${os.loadavg().map((x) => x.toFixed(2)).join(' ')} at the start (${cpus.length} cores)`,
    workload:
      `topics with ${P.queues} queues, ${P.bodyBytes}-byte bodies, TIMER_DELIVER_MS on every message; ` +
      (P.sender === 'java'
        ? `sender: the Java driver, ${P.threads} send threads, ${P.inflight ? `asynchronous sends, at most ${P.inflight} unacknowledged` : 'synchronous sends'}, ${P.producers} producer${P.producers > 1 ? 's' : ''}`
        : `sender: node-sender.ts in this process, raw SEND_MESSAGE_V2, at most ${P.inflight || 1} unacknowledged over ${P.producers} connection${P.producers > 1 ? 's' : ''}`) +
      `; ${fmtInt(P.warmup)} uncounted warm-up messages per run; receiver: the Java driver's push consumer (new group, from the first offset, 32-message batches)`,
    phases: `${P.phases.join(', ')} (lateness, plain, rate on one broker start; rss on a second one with an empty store)`,
    rocketmq:
      `name server -Xmx${P.rmqNamesrvHeapMb}m, broker -Xmx${P.rmqBrokerHeapMb}m (reference/rocketmq defaults: ASYNC_FLUSH, 128 MiB commit-log files); ` +
      `timer: ${P.rmqTimerPrecisionMs === undefined ? 'broker defaults (timerWheelEnable=true, timerPrecisionMs=1000)' : `timerPrecisionMs=${P.rmqTimerPrecisionMs}`}`,
    driver: `bench/delay/java (${driverBuild.cached ? 'cached build' : `built in ${(driverBuild.ms / 1000).toFixed(1)} s`}), JVM -Xms/-Xmx${P.driverHeapMb}m SerialGC`,
  };
}

// ---------------------------------------------------------------- main

async function main(): Promise<void> {
  const t0 = performance.now();
  fs.mkdirSync(P.dir, { recursive: true });
  const workDir = fs.mkdtempSync(path.join(fs.realpathSync(P.dir), 'bench-delay-'));
  const runId = Date.now().toString(36);
  let interrupted = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (interrupted) return;
    interrupted = true;
    progress(`${signal}: stopping the driver and the broker, cleaning up`);
    abort.abort();
    void (activeStop?.() ?? Promise.resolve()).finally(() => {
      if (!P.keep) fs.rmSync(workDir, { recursive: true, force: true });
      process.exit(130);
    });
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  try {
    const driverBuild = await ensureDriver();
    await ensureRocketmqJars({ log: progress, example: false });
    let snapshot: string | undefined;
    if (P.diglotRev !== undefined && P.targets.includes('diglot')) {
      diglotRoot = path.join(workDir, 'diglot-src');
      snapshot = snapshotDiglot(P.diglotRev, diglotRoot);
      progress(`diglot: running ${snapshot} from ${diglotRoot} (git archive of ${P.diglotRev})`);
    }
    const meta = machineInfo(workDir, driverBuild, snapshot);
    if (lastJarFetchMs) meta.jars = `reference/rocketmq/lib fetched in ${(lastJarFetchMs / 1000).toFixed(1)} s`;
    const results: TargetResult[] = [];
    for (const name of P.targets) {
      progress(`--- ${name}`);
      results.push(await benchTarget(name, runId, workDir));
    }
    meta.duration = `${((performance.now() - t0) / 1000).toFixed(0)} s for the whole run`;
    process.stdout.write(`${report(results, meta)}\n`);
    const diglotLog = results.find((r) => r.logTail)?.logTail;
    if (diglotLog) progress(`Diglot log (warn and above), last lines:\n${diglotLog}`);
    if (P.json) {
      fs.writeFileSync(P.json, `${JSON.stringify({ meta, params: P, results }, null, 2)}\n`);
      progress(`JSON written to ${P.json}`);
    }
  } finally {
    if (P.keep) progress(`kept ${workDir}`);
    else fs.rmSync(workDir, { recursive: true, force: true, maxRetries: 3 });
  }
}

if (import.meta.main) await main();
