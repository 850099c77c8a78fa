// The real `diglot` command as a child process: exit codes, messages, and a
// full start → probe → SIGTERM → exit 0 cycle.

import { NODE_FLAGS } from '../bin/node-flags.mjs';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { onJsonLines, sample } from './helpers.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const bin = join(root, 'bin', 'diglot.mjs');
const tmp = mkdtempSync(join(tmpdir(), 'diglot-cli-test-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

/** The parent's environment without DIGLOT_* settings, plus `extra`. */
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('DIGLOT_')));
  return { ...env, ...extra };
}

const children = new Set<ChildProcess>();
afterEach(() => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  children.clear();
});

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

function run(args: string[], env: Record<string, string> = {}, timeoutMs = 15_000): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...NODE_FLAGS, bin, ...args], { cwd: tmp, env: cleanEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
    children.add(child);
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d: Buffer) => (stdout += d));
    child.stderr!.on('data', (d: Buffer) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`diglot ${args.join(' ')} did not exit within ${timeoutMs} ms\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, timeoutMs);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** A running broker and its parsed log lines. */
function startBroker(args: string[]) {
  const child = spawn(process.execPath, [...NODE_FLAGS, bin, 'start', ...args], { cwd: tmp, env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  const lines: Array<Record<string, unknown>> = [];
  const nonJson: string[] = [];
  let stderr = '';
  onJsonLines(child.stdout!, (line) => lines.push(line), (text) => nonJson.push(text));
  child.stderr!.on('data', (d: Buffer) => (stderr += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  const waitFor = async (pred: (l: Record<string, unknown>) => boolean, what: string, timeoutMs = 15_000) => {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const line = lines.find(pred);
      if (line) return line;
      if (child.exitCode !== null) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error(`no log line for ${what}; exit ${child.exitCode}\nstdout: ${JSON.stringify(lines)}\nstderr: ${stderr}`);
  };
  return { child, lines, nonJson, exited, waitFor, stderr: () => stderr };
}

async function exitWithin(exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>, ms: number) {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`broker did not exit within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([exited, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

describe('diglot as a child process', { timeout: 120_000 }, () => {
  it('--version prints the version from package.json', async () => {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };
    const r = await run(['--version']);
    assert.equal(r.code, 0);
    assert.equal(r.stdout.trim(), pkg.version);
  });

  it('--help exits 0 and lists the settings', async () => {
    const r = await run(['--help']);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /diglot start/);
    assert.match(r.stdout, /--kafka-port PORT {2}\(env DIGLOT_KAFKA_PORT, file key kafkaPort\)/);
    assert.match(r.stdout, /Default: 9092\./);
  });

  it('an out-of-range port flag exits 2 naming the key, the flag and the range', async () => {
    const r = await run(['start', '--admin-port', '70000', '--data-dir', join(tmp, 'never')]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /invalid adminPort from flag --admin-port: got "70000", expected an integer from 0 to 65535/);
    assert.equal(r.stdout, '', 'nothing may start');
  });

  it('an unknown DIGLOT_ variable exits 2 with a suggestion', async () => {
    const r = await run(['start'], { DIGLOT_DATADIR: '/x' });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /unknown environment variable DIGLOT_DATADIR .*did you mean DIGLOT_DATA_DIR\?/);
  });

  it('a malformed YAML config file exits 2 naming the file', async () => {
    const file = join(tmp, 'bad.yaml');
    writeFileSync(file, 'adminPort: 0\n  dataDir: [oops\n');
    const r = await run(['start', '--config', file]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, new RegExp(`config file ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} \\(named by flag --config\\) is not valid YAML`));
  });

  it('a wrong-typed value in a JSON config file exits 2', async () => {
    const file = join(tmp, 'bad.json');
    writeFileSync(file, JSON.stringify({ flushMode: 'sometimes' }));
    const r = await run(['start'], { DIGLOT_CONFIG: file });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /invalid flushMode from config file .*bad\.json: got "sometimes", expected one of "interval", "always"/);
  });

  it('an unknown command exits 2', async () => {
    const r = await run(['serve']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /unknown command "serve"/);
  });

  it('start: binds a free admin port, serves /livez /readyz /metrics, exits 0 on SIGTERM', async () => {
    const dataDir = join(tmp, 'data-sigterm');
    const broker = startBroker(['--admin-port', '0', '--kafka-port', '0', '--rocketmq-port', '0', '--data-dir', dataDir]);
    const listening = await broker.waitFor((l) => l.component === 'admin' && typeof l.port === 'number', 'admin listening');
    const port = listening.port as number;
    assert.ok(port > 0 && port !== 8080, `bound port ${port}`);
    const base = `http://127.0.0.1:${port}`;

    assert.equal((await fetch(`${base}/livez`)).status, 200);
    await broker.waitFor((l) => l.msg === 'ready', 'ready');
    const readyz = await fetch(`${base}/readyz`);
    assert.equal(readyz.status, 200);
    assert.equal(((await readyz.json()) as { status: string }).status, 'ready');

    const metrics = await fetch(`${base}/metrics`);
    assert.equal(metrics.status, 200);
    assert.match(metrics.headers.get('content-type') ?? '', /^text\/plain/);
    const text = await metrics.text();
    // A first start writes one record: the cluster id, into the metadata log.
    assert.ok(sample(text, 'diglot_storage_appended_bytes_total')! > 0);
    assert.equal(sample(text, 'diglot_storage_appended_records_total'), 1);
    assert.match(text, /# TYPE diglot_storage_fsync_seconds histogram/);
    // The four internal logs: __diglot_metadata, __consumer_offsets, __diglot_protocol_state and __delay.
    assert.equal(sample(text, 'diglot_storage_segments'), 4);
    assert.match(text, /# TYPE diglot_storage_log_size_bytes gauge/);
    assert.ok(sample(text, 'process_resident_memory_bytes')! > 0);

    // The Kafka listener bound a free port.
    assert.ok(broker.lines.some((l) => l.component === 'kafka' && typeof l.port === 'number' && l.port > 0));
    // And so did the RocketMQ listener.
    assert.ok(broker.lines.some((l) => l.component === 'rocketmq' && typeof l.port === 'number' && l.port > 0));
    // The storage engine really opened the directory it was given.
    assert.ok(broker.lines.some((l) => l.component === 'storage' && l.dataDir === dataDir));

    const t0 = Date.now();
    broker.child.kill('SIGTERM');
    const { code, signal } = await exitWithin(broker.exited, 5_000);
    assert.equal(signal, null);
    assert.equal(code, 0, `exit code; stderr: ${broker.stderr()}`);
    assert.ok(Date.now() - t0 < 5_000);
    const msgs = broker.lines.map((l) => l.msg);
    assert.ok(msgs.includes('signal received: shutting down gracefully'));
    assert.ok(msgs.includes('storage closed: flushed, fsynced, checkpointed'));
    assert.equal(msgs.at(-1), 'shutdown complete');
    assert.deepEqual(broker.nonJson, [], 'stdout must be JSON lines only');
    assert.ok(broker.lines.every((l) => typeof l.component === 'string'), 'every line carries a component');
    await assert.rejects(fetch(`${base}/livez`));
  });

  it('start: SIGINT shuts down cleanly too', async () => {
    const broker = startBroker(['--admin-port', '0', '--kafka-port', '0', '--rocketmq-port', '0', '--data-dir', join(tmp, 'data-sigint'), '--host', '127.0.0.1']);
    await broker.waitFor((l) => l.msg === 'ready', 'ready');
    broker.child.kill('SIGINT');
    const { code } = await exitWithin(broker.exited, 5_000);
    assert.equal(code, 0);
  });

  it('start: an admin port already in use exits 1 with an explanation', async () => {
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const port = (blocker.address() as { port: number }).port;
    try {
      const r = await run(['start', '--host', '127.0.0.1', '--admin-port', String(port), '--data-dir', join(tmp, 'data-busy')]);
      assert.equal(r.code, 1);
      const fatal = r.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as Record<string, unknown>)
        .find((l) => l.level === 'fatal');
      assert.match(String(fatal?.msg), new RegExp(`startup failed: admin port ${port} is already in use`));
    } finally {
      await new Promise<void>((r) => blocker.close(() => r()));
    }
  });

  it('start: a RocketMQ port already in use names that port and its flag', async () => {
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const port = (blocker.address() as { port: number }).port;
    try {
      const r = await run(['start', '--host', '127.0.0.1', '--admin-port', '0', '--kafka-port', '0', '--rocketmq-port', String(port), '--data-dir', join(tmp, 'data-busy-rmq')]);
      assert.equal(r.code, 1);
      const fatal = r.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as Record<string, unknown>)
        .find((l) => l.level === 'fatal');
      assert.match(String(fatal?.msg), new RegExp(`startup failed: RocketMQ port ${port} is already in use; choose another with --rocketmq-port`));
    } finally {
      await new Promise<void>((r) => blocker.close(() => r()));
    }
  });
});
