// Delay messages across real kill -9 (issue 5): `diglot start` as a child
// process, a 4-queue topic, thousands of RocketMQ timer messages
// (TIMER_DELIVER_MS) due over a window of seconds, some already past, some
// cancelled over REST. While they fire, the broker is SIGKILLed at seeded
// random moments and restarted on the same data directory:
//  - startup: somewhere in recovery, the settle of an interrupted round, or the
//    hand-over of what fell due while it was down;
//  - startup-targets: the moment a target queue's file grows during startup
//    (the settle or a big backlog round is writing messages out);
//  - targets: the moment a target queue's file grows in steady firing (a round
//    is writing its messages out, often before its DONE), watched from just
//    before a burst of messages falls due;
//  - intent: the moment `__delay` grows (an INTENT going out, no target written);
//  - random: anywhere in steady firing.
// The test and the brokers share one CPU (taskset) so that a kill sent on
// seeing a write lands before the broker's next step.
// At the end every queue is read from offset 0 and:
//  - every scheduled body that was not cancelled is there exactly once, none
//    that was cancelled (DELETE answered 200) is;
//  - none was appended before its due time (the topic uses LogAppendTime: a
//    message's store time is when the broker appended it);
//  - each queue is in due order, except for a message whose schedule was not
//    yet acknowledged when the later-due one before it was appended;
//  - promptly: appended within PROMPT_MS of the first moment the broker had been
//    up (past its `ready` line) for PROMPT_MS with the message due — so what
//    fell due while it was down arrives within PROMPT_MS of the restart's ready;
//  - in `__delay` every dispatch round (INTENT) has exactly one DONE, and the
//    queues on disk hold just what was read.
// A run typically has 2-5 rounds interrupted by a kill, usually 1-4 of them settled
// with some of their messages already in the targets: a settle that ignored
// what it finds there, or no settle at all, fails here with duplicates; one
// that took every message as present fails with losses (each checked by hand).
// The seed is printed; DELAY_KILL9_SEED=<seed> repeats a run's choices
// (the moments themselves depend on timing).
import { NODE_FLAGS } from '../bin/node-flags.mjs';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Kafka, logLevel } from 'kafkajs';
import { RawRemoting } from './rocketmq-raw-client.ts';
import { decodeProperties, decodeStoredMessages, encodeBatchBody, encodeProperties, RequestCode, ResponseCode } from '../src/protocol/rocketmq/index.ts';
import { LogManager } from '../src/storage/log-manager.ts';
import { forEachBatch, readRecords } from '../src/storage/records.ts';
import { decodeDelayRecord, DELAY_TOPIC } from '../src/delay/log-records.ts';
import { onJsonLines } from './helpers.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const bin = path.join(root, 'bin', 'diglot.mjs');

const TOPIC = 'DelayKill9';
const QUEUES = 4;
const MESSAGES = 5000;
const PER_BATCH = 100;
/**
 * Due times spread over [base − PAST_MS, base + WINDOW_MS]; base is shortly after scheduling starts. The window
 * reaches past the delay index's near tier (PROMOTE_AHEAD_MS, ~8 s): the later messages wait in its bucket files
 * and move into LMDB while the broker is being killed.
 */
const PAST_MS = 600;
const WINDOW_MS = 20_000;
const BASE_AFTER_MS = 800;
/**
 * Half of the messages are due in bursts (hundreds at the same ms) and are
 * bigger: a burst's round writes megabytes, long enough for a kill to land
 * inside it. The rest are small and spread evenly.
 */
const BURSTS = 8;
const BURST_SHARE = 0.5;
/** Cancels tried in each run that gets to `ready`; a third of them race the dispatcher (due about now). */
const CANCELS_PER_RUN = 60;
/** A message must be appended within this of the first moment the broker was up this long with it due. */
const PROMPT_MS = 1000;
const READY_TIMEOUT_MS = 20_000;
/** Log lines kept per run. */
const LINES_KEPT_MAX = 1000;
/** Bound on any one request to a broker that should answer. */
const REQUEST_TIMEOUT_MS = 15_000;
/** How long a kill aimed at a write watches for one before killing anyway. */
const WATCH_MS = 300;

const SEED = Number(process.env['DELAY_KILL9_SEED'] ?? Math.floor(Math.random() * 2 ** 31));

/** mulberry32: small, seedable, good enough to pick moments and sizes. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** `promise`, or a rejection naming `what` after `ms`. */
async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([promise, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

/** The parent's environment without DIGLOT_* settings. */
function cleanEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('DIGLOT_')));
}

type KillMode = 'startup' | 'startup-targets' | 'targets' | 'intent' | 'random';

interface Run {
  n: number;
  child: ChildProcess;
  spawnedAt: number;
  /** When the test read the `ready` line (null: killed before it). */
  readyAt: number | null;
  /** When the test sent SIGKILL (null: not killed). */
  killedAt: number | null;
  mode: KillMode | null;
  /** Whether a kill aimed at a write saw one. */
  sawWrite: boolean;
  ports: { kafka?: number; rocketmq?: number; admin?: number };
  lines: Array<Record<string, unknown>>;
  onLine: Array<(line: Record<string, unknown>) => void>;
  stderr: string;
  ready: Promise<void>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function startBroker(n: number, dataDir: string): Run {
  const child = spawn(
    process.execPath,
    [...NODE_FLAGS, bin, 'start', '--data-dir', dataDir, '--host', '127.0.0.1', '--kafka-port', '0', '--rocketmq-port', '0', '--admin-port', '0', '--log-level', 'info'],
    { cwd: dataDir, env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let resolveReady!: () => void;
  let rejectReady!: (err: Error) => void;
  const run: Run = {
    n,
    child,
    spawnedAt: Date.now(),
    readyAt: null,
    killedAt: null,
    mode: null,
    sawWrite: false,
    ports: {},
    lines: [],
    onLine: [],
    stderr: '',
    ready: new Promise((resolve, reject) => {
      resolveReady = resolve;
      rejectReady = reject;
    }),
    exited: new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal }))),
  };
  run.ready.catch(() => {}); // a run killed before it was ready is not an error
  // Lines that are not JSON are lines cut by the kill: ignored.
  onJsonLines(child.stdout!, (line) => {
    // Kept: warnings and errors, and the lines the test waits for (a broker gone wrong may log without end).
    const msg = line['msg'];
    if ((typeof line['level'] === 'number' && line['level'] >= 40) || msg === 'ready' || msg === 'storage open, recovery finished') {
      if (run.lines.length < LINES_KEPT_MAX) run.lines.push(line);
    }
    const component = line['component'];
    if (typeof line['port'] === 'number' && (component === 'kafka' || component === 'rocketmq' || component === 'admin')) run.ports[component] = line['port'];
    if (line['msg'] === 'ready') {
      run.readyAt = Date.now();
      resolveReady();
    }
    for (const f of run.onLine) f(line);
  });
  child.stderr!.on('data', (d: Buffer) => (run.stderr += d));
  void run.exited.then(({ code, signal }) => rejectReady(new Error(`broker run ${n} exited (code ${code}, signal ${signal}) before it was ready\nstderr: ${run.stderr}`)));
  return run;
}

function waitReady(run: Run): Promise<void> {
  return within(run.ready, READY_TIMEOUT_MS, `broker run ${run.n} ready`);
}

/** Resolves at the first line `pred` accepts (false: the run exited first). */
function lineSeen(run: Run, pred: (line: Record<string, unknown>) => boolean): Promise<boolean> {
  if (run.lines.some(pred)) return Promise.resolve(true);
  return new Promise((resolve) => {
    run.onLine.push((line) => {
      if (pred(line)) resolve(true);
    });
    void run.exited.then(() => resolve(false));
  });
}

/**
 * Pins this process (and so the brokers it starts) to one CPU when it can
 * (Linux `taskset`). On one CPU the broker is not running while the test
 * looks at its files, so a kill sent on seeing a write lands right after that
 * write, before the broker's next step; on several CPUs the broker runs on for
 * the signal's latency and usually finishes its round. Returns the CPU, or null.
 */
function pinToOneCpu(): number | null {
  if (process.platform !== 'linux') return null;
  try {
    // The highest CPU this process may use (Cpus_allowed_list: "0-3,8,10-11").
    const allowed = /^Cpus_allowed_list:\s*(\S+)$/m.exec(fs.readFileSync('/proc/self/status', 'utf8'))?.[1];
    if (allowed === undefined) return null;
    const cpu = Math.max(...allowed.split(',').map((part) => Number(part.split('-').at(-1))));
    if (!Number.isInteger(cpu)) return null;
    execFileSync('taskset', ['-a', '-p', '-c', String(cpu), String(process.pid)], { stdio: 'ignore' });
    return cpu;
  } catch {
    return null;
  }
}

/** Sleeps until `atMs` (Date.now() time), the last few ms spinning so that a watch starts within a ms of it. */
async function sleepUntil(atMs: number): Promise<void> {
  if (atMs - Date.now() > 4) await sleep(atMs - Date.now() - 4);
  while (Date.now() < atMs) {
    // spin
  }
}

/** Between looks at the files the test sleeps this long: its wake-ups interrupt the broker (same CPU). */
const NAP_MS = 0.05;
const nap = new Int32Array(new SharedArrayBuffer(4));

/** The active segment file of each of these log directories that exists, opened for fstat. */
function openActiveSegments(dirs: readonly string[]): number[] {
  const fds: number[] = [];
  for (const dir of dirs) {
    let names: string[];
    try {
      names = fs.readdirSync(dir).filter((n) => n.endsWith('.log')).sort();
    } catch {
      continue;
    }
    if (names.length > 0) fds.push(fs.openSync(path.join(dir, names.at(-1)!), 'r'));
  }
  return fds;
}

function bytesOf(fds: readonly number[]): number {
  let total = 0;
  for (const fd of fds) total += fs.fstatSync(fd).size;
  return total;
}

/**
 * Watches the logs' files from `fromMs` and sends SIGKILL the moment they grow
 * (the broker is writing them out), or after WATCH_MS anyway.
 */
async function killOnWrite(run: Run, dirs: readonly string[], fromMs: number): Promise<void> {
  await sleepUntil(fromMs);
  const fds = openActiveSegments(dirs);
  try {
    const baseline = bytesOf(fds);
    const until = Date.now() + WATCH_MS;
    while (run.child.exitCode === null && run.child.signalCode === null && Date.now() < until) {
      if (bytesOf(fds) > baseline) {
        run.sawWrite = true;
        break;
      }
      Atomics.wait(nap, 0, 0, NAP_MS);
    }
    sendKill(run);
  } finally {
    for (const fd of fds) fs.closeSync(fd);
  }
}

function sendKill(run: Run): void {
  if (run.killedAt !== null) return;
  run.killedAt = Date.now();
  run.child.kill('SIGKILL');
}

async function kill9(run: Run): Promise<void> {
  sendKill(run);
  const { code, signal } = await run.exited;
  assert.equal(signal, 'SIGKILL', `broker run ${run.n} ended by itself before the kill (code ${code})\nstderr: ${run.stderr}`);
}

interface Scheduled {
  body: string;
  queue: number;
  dueMs: number;
  id: number;
  /** When the send was acknowledged: the schedule was held by then. */
  ackedAt: number;
  /** The answer to DELETE, if one was sent. */
  cancel: number | null;
}

interface Delivered {
  queue: number;
  queueOffset: number;
  body: string;
  storedAt: number;
  delayId: number;
  fire: number;
}

const label = (body: string) => body.slice(0, body.indexOf('-', 4));

async function scheduleAll(port: number, random: () => number, base: number, bursts: readonly number[]): Promise<Scheduled[]> {
  const client = await RawRemoting.connect(port);
  try {
    const out: Scheduled[] = [];
    const pending: Array<Promise<void>> = [];
    for (let b = 0; b < MESSAGES / PER_BATCH; b++) {
      const queue = b % QUEUES;
      const batch: Array<{ body: string; dueMs: number }> = [];
      for (let i = 0; i < PER_BATCH; i++) {
        const n = b * PER_BATCH + i;
        const inBurst = random() < BURST_SHARE;
        const size = inBurst ? 4000 + Math.floor(random() * 12_000) : 200 + Math.floor(random() * 1800);
        const body = `dk9-${n}-`.padEnd(size, String.fromCharCode(97 + (n % 26)));
        const dueMs = inBurst ? bursts[Math.floor(random() * bursts.length)]! : base - PAST_MS + Math.floor(random() * (PAST_MS + WINDOW_MS));
        batch.push({ body, dueMs });
      }
      const body = encodeBatchBody(batch.map((m) => ({ body: Buffer.from(m.body), properties: encodeProperties([['TIMER_DELIVER_MS', String(m.dueMs)], ['KEYS', label(m.body)]]) })));
      const header = { a: 'pg-kill9', b: TOPIC, c: 'TBW102', d: QUEUES, e: queue, f: 0, g: Date.now(), h: 0, i: '', m: true };
      const request = within(client.request(RequestCode.SEND_BATCH_MESSAGE, header, body), REQUEST_TIMEOUT_MS, `send batch ${b}`);
      pending.push(
        request.then((reply) => {
          const ackedAt = Date.now();
          assert.equal(reply.code, ResponseCode.SUCCESS, `batch ${b}: ${reply.remark}`);
          // The answer names the first schedule id; a batch's ids are consecutive.
          const first = Number(reply.extFields['queueOffset']);
          assert.equal(reply.extFields['msgId']!.split(',').length, PER_BATCH);
          batch.forEach((m, i) => out.push({ ...m, queue, id: first + i, ackedAt, cancel: null }));
        }),
      );
    }
    await Promise.all(pending);
    return out;
  } finally {
    client.close();
  }
}

/** DELETE /v1/delay-messages/{id} for some messages not tried yet: most due later, a third due about now. */
async function cancelSome(adminPort: number, random: () => number, scheduled: readonly Scheduled[]): Promise<void> {
  const now = Date.now();
  const later = scheduled.filter((s) => s.cancel === null && s.dueMs > now + 500);
  const racing = scheduled.filter((s) => s.cancel === null && s.dueMs > now - 100 && s.dueMs <= now + 300);
  const picked = new Set<Scheduled>();
  for (let i = 0; i < CANCELS_PER_RUN && later.length + racing.length > 0; i++) {
    const from = (i % 3 === 2 && racing.length > 0) || later.length === 0 ? racing : later;
    picked.add(from.splice(Math.floor(random() * from.length), 1)[0]!);
  }
  await Promise.all(
    [...picked].map(async (s) => {
      const res = await fetch(`http://127.0.0.1:${adminPort}/v1/delay-messages/${s.id}`, { method: 'DELETE', signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
      const body = (await res.json()) as { state?: string; message?: string };
      // 200: cancelled; 409: delivered already (it raced the dispatcher and lost).
      assert.ok(res.status === 200 || res.status === 409, `DELETE ${s.id}: ${res.status} ${JSON.stringify(body)}`);
      if (res.status === 200) assert.equal(body.state, 'cancelled');
      s.cancel = res.status;
    }),
  );
}

/** Every message of every queue from offset 0, waiting until `expected` are there (or the deadline). */
async function readAll(port: number, expected: number, deadline: number): Promise<Delivered[]> {
  const client = await RawRemoting.connect(port);
  try {
    const out: Delivered[][] = Array.from({ length: QUEUES }, () => []);
    const next = new Array<number>(QUEUES).fill(0);
    for (;;) {
      let progressed = false;
      for (let queue = 0; queue < QUEUES; queue++) {
        const pull = client.request(RequestCode.PULL_MESSAGE, {
          consumerGroup: 'kill9-check',
          topic: TOPIC,
          queueId: queue,
          queueOffset: next[queue]!,
          maxMsgNums: 1024,
          sysFlag: 0x4,
          commitOffset: 0,
          suspendTimeoutMillis: 0,
          subscription: '*',
          subVersion: 0,
          expressionType: 'TAG',
        });
        const r = await within(pull, REQUEST_TIMEOUT_MS, `pull ${TOPIC}/${queue} at ${next[queue]}`);
        if (r.code !== ResponseCode.SUCCESS) continue;
        for (const m of decodeStoredMessages(r.body)) {
          const p = decodeProperties(m.properties.toString());
          assert.equal(m.queueOffset, next[queue], `queue ${queue}: offsets not dense`);
          out[queue]!.push({
            queue,
            queueOffset: m.queueOffset,
            body: m.body.toString(),
            storedAt: m.storeTimestampMs,
            delayId: Number(p.get('__delay.id') ?? -1),
            fire: Number(p.get('__delay.fire') ?? -1),
          });
          next[queue]!++;
          progressed = true;
        }
      }
      const total = out.reduce((sum, q) => sum + q.length, 0);
      // Done when all are there and nothing more comes, at the deadline, or when far more came than were scheduled.
      if ((!progressed && total >= expected) || Date.now() > deadline || total > 2 * expected) return out.flat();
      if (!progressed) await sleep(50);
    }
  } finally {
    client.close();
  }
}

interface Round {
  at: number;
  fires: Array<[number, number]>;
}

/**
 * Read from the data directory after the last run stopped: the dispatch rounds
 * in `__delay` (INTENTs and the DONEs of each) and how many records the queues hold.
 */
async function readDataDir(dataDir: string): Promise<{ intents: Map<number, Round>; dones: Map<number, number[]>; logStart: number; queueRecords: number }> {
  const manager = await LogManager.open({ dir: dataDir });
  try {
    let queueRecords = 0;
    for (let queue = 0; queue < QUEUES; queue++) {
      const q = manager.get(TOPIC, queue);
      if (q !== undefined) queueRecords += q.logEndOffset - q.logStartOffset;
    }
    const log = manager.get(DELAY_TOPIC, 0);
    assert.ok(log !== undefined, '__delay is missing');
    const intents = new Map<number, Round>();
    const dones = new Map<number, number[]>();
    let offset = log.logStartOffset;
    while (offset < log.logEndOffset) {
      const result = log.read(offset, 1 << 20);
      assert.ok(result.bytes.length > 0, `empty __delay read at ${offset}`);
      forEachBatch(result.bytes, (pos) => {
        for (const r of readRecords(result.bytes, pos)) {
          if (r.offset < offset) continue;
          const record = decodeDelayRecord(r);
          if (record.kind === 'intent') intents.set(r.offset, { at: r.timestampMs, fires: record.fires });
          else if (record.kind === 'done') dones.set(record.round, [...(dones.get(record.round) ?? []), r.timestampMs]);
        }
      });
      offset = result.nextOffset;
    }
    return { intents, dones, logStart: log.logStartOffset, queueRecords };
  } finally {
    await manager.close();
  }
}

function none(list: readonly string[], what: string, context: () => string): void {
  assert.equal(list.length, 0, `${list.length} ${what}: ${list.slice(0, 10).join('; ')}${list.length > 10 ? '; …' : ''}\n${context()}`);
}

test('delay messages across kill -9: each due message appended exactly once, never early, promptly after a restart; cancels hold', { timeout: 120_000 }, async (t) => {
  t.diagnostic(`seed ${SEED} (DELAY_KILL9_SEED=${SEED} repeats its choices)`);
  const random = prng(SEED);
  const cpu = pinToOneCpu();
  t.diagnostic(cpu === null ? 'not pinned to one CPU (no taskset): kills aimed at a write land later' : `test and brokers pinned to CPU ${cpu}`);
  const started = Date.now();
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'diglot-delay-kill9-'));
  const runs: Run[] = [];
  // Brokers outlive a test process that is stopped from outside (test timeout): kill them on the way out.
  const killAll = () => {
    for (const r of runs) if (r.child.exitCode === null && r.child.signalCode === null) r.child.kill('SIGKILL');
  };
  process.on('exit', killAll);
  const context = () =>
    `seed ${SEED}; runs (ms from start): ${runs
      .map((r) => `#${r.n} ${r.mode ?? 'last'} ready ${r.readyAt === null ? '-' : r.readyAt - started} killed ${r.killedAt === null ? '-' : r.killedAt - started}`)
      .join(', ')}`;
  try {
    // Run 0: a 4-queue topic stamped with the broker's append time, then the schedules.
    let run = startBroker(0, dataDir);
    runs.push(run);
    await waitReady(run);
    const kafka = new Kafka({ clientId: 'kill9', brokers: [`127.0.0.1:${run.ports.kafka}`], logLevel: logLevel.NOTHING, retry: { retries: 2 } });
    const admin = kafka.admin();
    await admin.connect();
    try {
      await admin.createTopics({ topics: [{ topic: TOPIC, numPartitions: QUEUES, configEntries: [{ name: 'message.timestamp.type', value: 'LogAppendTime' }] }] });
    } finally {
      await admin.disconnect();
    }
    const base = Date.now() + BASE_AFTER_MS;
    const bursts = Array.from({ length: BURSTS }, () => base + 200 + Math.floor(random() * (WINDOW_MS - 200))).sort((a, b) => a - b);
    const scheduled = await scheduleAll(run.ports.rocketmq!, random, base, bursts);
    const lastDue = Math.max(...scheduled.map((s) => s.dueMs));
    t.diagnostic(`scheduled ${scheduled.length} messages in ${Date.now() - base + BASE_AFTER_MS} ms, due over ${lastDue - Math.min(...scheduled.map((s) => s.dueMs))} ms`);

    // Kill and restart until everything is due; then one last run that is not killed.
    const targetDirs = Array.from({ length: QUEUES }, (_, q) => path.join(dataDir, `${TOPIC}-${q}`));
    const delayDirs = [path.join(dataDir, `${DELAY_TOPIC}-0`)];
    for (;;) {
      const pick = random();
      const jitter = random();
      const upMs = 100 + random() * 2400;
      if (pick < 0.5 && run.n > 0) {
        const opened = await lineSeen(run, (l) => l['msg'] === 'storage open, recovery finished');
        if (pick < 0.1) {
          run.mode = 'startup';
          if (opened) await sleep(10 + jitter * 70);
        } else {
          run.mode = 'startup-targets';
          if (opened) await killOnWrite(run, targetDirs, Date.now());
        }
      } else {
        await waitReady(run);
        await cancelSome(run.ports.admin!, random, scheduled);
        // Watch from just before the next burst falls due when one is near (a big round), else a while from now.
        const burst = bursts.find((b) => b > Date.now() + 30);
        const from = burst !== undefined && burst < Date.now() + 2500 ? burst - 2 : Date.now() + upMs / 4;
        if (pick < 0.75) {
          run.mode = 'targets';
          await killOnWrite(run, targetDirs, from);
        } else if (pick < 0.88) {
          run.mode = 'intent';
          await killOnWrite(run, delayDirs, from);
        } else {
          run.mode = 'random';
          await sleep(upMs);
        }
      }
      await kill9(run);
      if (Date.now() > lastDue + 200) break;
      await sleep(random() * 800); // down: messages fall due meanwhile
      run = startBroker(runs.length, dataDir);
      runs.push(run);
    }
    await sleep(random() * 500);
    run = startBroker(runs.length, dataDir);
    runs.push(run);
    await waitReady(run);
    const cancelled = new Set(scheduled.filter((s) => s.cancel === 200).map((s) => s.body));
    const delivered = await readAll(run.ports.rocketmq!, scheduled.length - cancelled.size, Date.now() + 10_000);
    run.child.kill('SIGTERM');
    const stopped = await run.exited;
    assert.equal(stopped.code, 0, `last run did not stop cleanly (${stopped.signal})\nstderr: ${run.stderr}`);

    for (const r of runs) {
      const errors = r.lines.filter((l) => typeof l['level'] === 'number' && l['level'] >= 50);
      none(errors.map((l) => JSON.stringify(l)), `error lines logged by run ${r.n}`, context);
    }

    // Exactly once, in the queue it was sent to, carrying its schedule id; never a cancelled one.
    const byBody = new Map(scheduled.map((s) => [s.body, s]));
    const seen = new Map<string, Delivered>();
    const duplicates: string[] = [];
    const strangers: string[] = [];
    const resurrected: string[] = [];
    for (const d of delivered) {
      const s = byBody.get(d.body);
      if (s === undefined) strangers.push(d.body.slice(0, 20));
      else if (cancelled.has(d.body)) resurrected.push(`${label(d.body)} (id ${s.id}) in queue ${d.queue} at ${d.queueOffset}`);
      else if (seen.has(d.body)) duplicates.push(`${label(d.body)} (id ${s.id}) in queue ${d.queue} at ${seen.get(d.body)!.queueOffset} and ${d.queueOffset}`);
      else seen.set(d.body, d);
    }
    const lost = scheduled.filter((s) => !cancelled.has(s.body) && !seen.has(s.body)).map((s) => `${label(s.body)} (id ${s.id}, due +${s.dueMs - started} ms)`);
    none(strangers, 'messages nobody scheduled', context);
    none(duplicates, 'delivered more than once', context);
    none(lost, 'never delivered', context);
    none(resurrected, 'delivered although cancelled', context);
    for (const [body, d] of seen) {
      const s = byBody.get(body)!;
      assert.equal(d.queue, s.queue, `${label(body)} in the wrong queue`);
      assert.equal(d.delayId, s.id, `${label(body)} carries __delay.id ${d.delayId}, scheduled as ${s.id}`);
      assert.equal(d.fire, 1, `${label(body)} carries __delay.fire ${d.fire}`);
    }

    // Never early; in due order per queue; prompt.
    const early: string[] = [];
    const disorder: string[] = [];
    const late: string[] = [];
    const up = runs.filter((r) => r.readyAt !== null).map((r) => ({ from: r.readyAt!, to: r.killedAt ?? Infinity }));
    let maxLatenessMs = 0;
    let maxAfterReadyMs = 0;
    let dueAtReady = 0;
    for (let queue = 0; queue < QUEUES; queue++) {
      const inQueue = delivered.filter((d) => d.queue === queue && seen.get(d.body) === d).sort((a, b) => a.queueOffset - b.queueOffset);
      for (let i = 0; i < inQueue.length; i++) {
        const d = inQueue[i]!;
        const s = byBody.get(d.body)!;
        if (d.storedAt < s.dueMs) early.push(`${label(d.body)} stored ${s.dueMs - d.storedAt} ms before due`);
        if (i > 0) {
          const prev = inQueue[i - 1]!;
          const p = byBody.get(prev.body)!;
          // An earlier-due message after a later-due one: only if it was not yet held when that one went out.
          if (s.dueMs < p.dueMs && s.ackedAt < prev.storedAt) disorder.push(`queue ${queue} at ${d.queueOffset}: due ${s.dueMs} after one due ${p.dueMs}`);
        }
        // The first moment the broker had been up PROMPT_MS with this message due (and its schedule held).
        const due = Math.max(s.dueMs, s.ackedAt);
        const interval = up.find((u) => Math.max(due, u.from) + PROMPT_MS <= u.to)!; // the last run is never killed
        const from = Math.max(due, interval.from);
        if (interval.from > due) {
          dueAtReady++;
          maxAfterReadyMs = Math.max(maxAfterReadyMs, d.storedAt - from);
        } else maxLatenessMs = Math.max(maxLatenessMs, d.storedAt - from);
        if (d.storedAt > from + PROMPT_MS) late.push(`${label(d.body)} due +${s.dueMs - started} ms, stored +${d.storedAt - started} ms, deliverable from +${from - started} ms`);
      }
    }
    none(early, 'appended before due', context);
    none(disorder, 'out of due order', context);
    none(late, `not appended within ${PROMPT_MS} ms`, context);

    // Every dispatch round settled exactly once; which ones a kill interrupted.
    const { intents, dones, logStart, queueRecords } = await readDataDir(dataDir);
    assert.equal(queueRecords, delivered.length, `the queues hold ${queueRecords} records on disk, ${delivered.length} were read over the wire`);
    const bodyById = new Map(scheduled.map((s) => [s.id, s.body]));
    let interrupted = 0;
    let settledWithSome = 0;
    for (const [round, intent] of intents) {
      const done = dones.get(round) ?? [];
      assert.equal(done.length, 1, `round ${round} has ${done.length} DONEs; ${context()}`);
      if (done[0] === intent.at) continue; // DONE in the same turn as its INTENT
      interrupted++;
      // Messages already in their targets when the settle that wrote the DONE looked (stored by an earlier run).
      const settledBy = runs.find((r) => r.spawnedAt <= done[0]! && (r.killedAt ?? Infinity) >= done[0]!)!;
      if (intent.fires.some(([id]) => seen.get(bodyById.get(id)!)!.storedAt < settledBy.spawnedAt)) settledWithSome++;
    }
    for (const round of dones.keys()) if (round >= logStart) assert.ok(intents.has(round), `DONE for round ${round}, which has no INTENT`);

    const killed = runs.filter((r) => r.killedAt !== null);
    const modes = (['startup', 'startup-targets', 'targets', 'intent', 'random'] as const).map((m) => `${killed.filter((r) => r.mode === m).length} ${m}`).join(', ');
    const cancelled409 = scheduled.filter((s) => s.cancel === 409).length;
    t.diagnostic(
      `${scheduled.length} messages, ${cancelled.size} cancelled (${cancelled409} more were delivered first: 409); ` +
        `${killed.length} kills (${modes}; ${killed.filter((r) => r.readyAt === null).length} before ready, ${killed.filter((r) => r.sawWrite).length} on seeing a write); ` +
        `${intents.size} dispatch rounds, ${interrupted} interrupted by a kill, ${settledWithSome} of them settled with some of their messages already in the targets; ` +
        `${dueAtReady} were already due when a run that then stayed up ≥ ${PROMPT_MS} ms got ready: stored ≤ ${maxAfterReadyMs} ms after its ready line; the others ≤ ${maxLatenessMs} ms after due; ` +
        `duplicates ${duplicates.length}, lost ${lost.length}; ${Date.now() - started} ms`,
    );
  } finally {
    killAll();
    process.off('exit', killAll);
    await Promise.all(runs.map((r) => r.exited));
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
});
