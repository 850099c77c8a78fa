// Kafka-protocol benchmark (`npm run bench:kafka`): Apache Kafka 4.3.1 (from Maven Central jars, see
// reference/kafka/) and Diglot on this machine, one after the other, each driven by Kafka's own tools with
// identical flags:
//
//   TopicCommand         --create perf-warmup, perf, e2e (6 partitions each, replication factor 1)
//   ProducerPerformance  warm-up (untimed), then acks=1 and acks=all: 1 KiB records, --throughput -1,
//                        linger.ms=5 batch.size=131072
//   ConsumerPerformance  reads back everything the two measured runs wrote to `perf`
//   EndToEndLatency      10,000 × 1 KiB, acks=1 (send synchronously, then poll it back)
//
// Broker CPU (utime+stime from /proc/<pid>/stat) and RSS (VmRSS sampled, VmHWM at the end) are taken
// around every step. The report on stdout puts Kafka, Diglot and Diglot/Kafka side by side next to the
// targets of issue 3 (throughput >= 1.5x, p99 <= Kafka's); progress goes to stderr. Nothing is
// estimated: a figure a tool did not print is shown as n/a with the reason. See README.md for the knobs.

import { NODE_FLAGS } from '../../bin/node-flags.mjs';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import process from 'node:process';
import { fileURLToPath } from 'node:url';
import { cpuSeconds, cpuTimes, hostBusySeconds, memoryNote, selfAndChildrenCpuSeconds, statusKb, table } from '../lib/proc.ts';
import {
  ensureKafkaJars,
  freePort,
  javaBin,
  JVM_PERFORMANCE_OPTS,
  KAFKA_VERSION,
  lastJarFetchMs,
  runTool,
  startKafka,
  waitForPort,
  type ToolResult,
} from '../../reference/kafka/kafka.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

// ---------------------------------------------------------------- parameters

function envInt(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw.replaceAll('_', ''));
  if (!Number.isSafeInteger(value) || value <= 0) {
    console.error(`${name}=${JSON.stringify(raw)}: expected a positive integer`);
    process.exit(2);
  }
  return value;
}

const BROKERS = ['kafka', 'diglot'] as const;
type BrokerName = (typeof BROKERS)[number];
const only = process.env.BENCH_ONLY ?? '';
if (only !== '' && !(BROKERS as readonly string[]).includes(only)) {
  console.error(`BENCH_ONLY=${JSON.stringify(only)}: expected kafka or diglot`);
  process.exit(2);
}

const P = {
  /** Records per measured ProducerPerformance run (acks=1 and acks=all each); ~10-20 s each for Kafka on 2 cores. */
  produceRecords: envInt('BENCH_PRODUCE_RECORDS', 3_000_000),
  /** Untimed ProducerPerformance run first (JIT warm-up of both brokers), to its own topic. */
  warmupRecords: envInt('BENCH_WARMUP_RECORDS', 300_000),
  /** EndToEndLatency round trips. */
  e2eRecords: envInt('BENCH_E2E_RECORDS', 10_000),
  recordSize: envInt('BENCH_RECORD_SIZE', 1024),
  partitions: envInt('BENCH_PARTITIONS', 6),
  /** Broker JVM -Xms/-Xmx (kafka-server-start.sh default) and tool JVM -Xmx (the perf scripts' value). */
  kafkaHeapMb: envInt('BENCH_KAFKA_HEAP_MB', 1024),
  toolHeapMb: envInt('BENCH_TOOL_HEAP_MB', 512),
  /** /proc sampling period for RSS (ms). */
  sampleMs: envInt('BENCH_SAMPLE_MS', 200),
  brokers: (only === '' ? [...BROKERS] : [only]) as BrokerName[],
  /** Work directory (a fresh subdirectory is made in it); removed at the end unless BENCH_KEEP=1. */
  dir: process.env.BENCH_DIR ? path.resolve(process.env.BENCH_DIR) : os.tmpdir(),
  keep: process.env.BENCH_KEEP === '1',
  /** Write every figure as JSON here too. */
  json: process.env.BENCH_JSON ? path.resolve(process.env.BENCH_JSON) : undefined,
  /**
   * Side-by-side rounds; odd rounds start Kafka first, even rounds Diglot first. On VMs whose freed memory goes
   * back to the host, the broker that runs second writes into pages the first one just freed (README, "Memory").
   */
  rounds: envInt('BENCH_ROUNDS', 1),
};

const PRODUCER_PROPS = ['linger.ms=5', 'batch.size=131072'];
const TOOLS = 'org.apache.kafka.tools.';

/** The command line runTool would use (for steps that are not run). */
function runToolCommand(mainClass: string, argv: string[]): string[] {
  return ['java', `-Xmx${P.toolHeapMb}m`, '-cp', "'lib/*'", ...JVM_PERFORMANCE_OPTS, TOOLS + mainClass, ...argv];
}

const progress = (line: string) => process.stderr.write(`[bench:kafka] ${line}\n`);

// ---------------------------------------------------------------- /proc sampling






/** Samples VmRSS every P.sampleMs; window() brackets one step with CPU seconds and the peak RSS seen in it. */
class ProcSampler {
  readonly pid: number;
  #timer: NodeJS.Timeout;
  #windowPeakKb = 0;
  constructor(pid: number) {
    this.pid = pid;
    this.#timer = setInterval(() => this.sample(), P.sampleMs);
  }
  sample(): void {
    const kb = statusKb(this.pid, 'VmRSS');
    if (kb !== undefined && kb > this.#windowPeakKb) this.#windowPeakKb = kb;
  }
  async window<T>(fn: () => Promise<T>): Promise<{ value: T; usage: Usage }> {
    this.#windowPeakKb = 0;
    this.sample();
    const times0 = cpuTimes([this.pid]);
    const host0 = hostBusySeconds();
    const mine0 = selfAndChildrenCpuSeconds();
    const t0 = performance.now();
    const value = await fn();
    const wall = (performance.now() - t0) / 1000;
    this.sample();
    const times1 = cpuTimes([this.pid]);
    const host1 = hostBusySeconds();
    const mine1 = selfAndChildrenCpuSeconds();
    const cpu = times0 !== undefined && times1 !== undefined ? times1.seconds - times0.seconds : undefined;
    // Whatever else ran on the machine: host busy time minus the broker, this script and the (reaped) tool JVM.
    const other =
      cpu !== undefined && host0 !== undefined && host1 !== undefined && mine0 !== undefined && mine1 !== undefined
        ? Math.max(0, host1 - host0 - cpu - (mine1 - mine0))
        : undefined;
    const tool = mine0 !== undefined && mine1 !== undefined ? mine1 - mine0 : undefined;
    const system = times0 !== undefined && times1 !== undefined ? times1.systemSeconds - times0.systemSeconds : undefined;
    return { value, usage: { cpuSeconds: cpu, systemCpuSeconds: system, otherCpuSeconds: other, toolCpuSeconds: tool, wallSeconds: wall, peakRssMiB: this.#windowPeakKb / 1024 } };
  }
  hwmMiB(): number | undefined {
    const kb = statusKb(this.pid, 'VmHWM');
    return kb === undefined ? undefined : kb / 1024;
  }
  close(): void {
    clearInterval(this.#timer);
  }
}

interface Usage {
  /** Broker CPU (user + system) over the step, in CPU seconds. */
  cpuSeconds: number | undefined;
  /** The system-time part of cpuSeconds (syscalls, page faults). */
  systemCpuSeconds: number | undefined;
  /**
   * CPU seconds used during the step by processes other than the broker, the tool and this script (other work on
   * the machine, kernel threads): a noise indicator, ideally near 0.
   */
  otherCpuSeconds: number | undefined;
  /** CPU seconds of the perf tool's JVM (and this script) over the step: how busy the client side was. */
  toolCpuSeconds: number | undefined;
  /** Wall time of the step, tool JVM start included. */
  wallSeconds: number;
  peakRssMiB: number;
}

// ---------------------------------------------------------------- tool output parsing

interface ProduceFigures {
  records: number;
  recordsPerSec: number;
  mbPerSec: number;
  avgMs: number;
  maxMs: number;
  p50: number;
  p95: number;
  p99: number;
  p999: number;
}

// "2000000 records sent, 85711.836805 records/sec (83.70 MB/sec), 305.71 ms avg latency, 919.00 ms max latency,
//  305 ms 50th, 672 ms 95th, 746 ms 99th, 840 ms 99.9th."  (ProducerPerformance.Stats.printTotal)
const PRODUCE_TOTAL =
  /^(\d+)(?: steady state)? records sent, ([\d.]+) records\/sec \(([\d.]+) MB\/sec\), ([\d.]+) ms avg latency, ([\d.]+) ms max latency, (\d+) ms 50th, (\d+) ms 95th, (\d+) ms 99th, (\d+) ms 99\.9th\.$/m;

export function parseProducerPerformance(stdout: string): ProduceFigures | undefined {
  const lines = stdout.split('\n').filter((line) => PRODUCE_TOTAL.test(line.trim()));
  const m = lines.length ? PRODUCE_TOTAL.exec(lines.at(-1)!.trim()) : null;
  if (!m) return undefined;
  const n = m.slice(1).map(Number);
  return { records: n[0], recordsPerSec: n[1], mbPerSec: n[2], avgMs: n[3], maxMs: n[4], p50: n[5], p95: n[6], p99: n[7], p999: n[8] };
}

interface ConsumeFigures {
  mb: number;
  mbPerSec: number;
  records: number;
  recordsPerSec: number;
  rebalanceMs: number;
  fetchMs: number;
  fetchMbPerSec: number;
  fetchRecordsPerSec: number;
}

// header "start.time, end.time, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec, rebalance.time.ms,
// fetch.time.ms, fetch.MB.sec, fetch.nMsg.sec", then one line of values (ConsumerPerformance.run).
export function parseConsumerPerformance(stdout: string): ConsumeFigures | undefined {
  const lines = stdout.split('\n').map((line) => line.trim());
  const header = lines.findIndex((line) => line.startsWith('start.time, end.time, data.consumed.in.MB'));
  if (header < 0) return undefined;
  const row = lines.slice(header + 1).find((line) => line.split(', ').length === 10);
  if (!row) return undefined;
  const f = row.split(', ').slice(2).map(Number);
  if (f.some((x) => !Number.isFinite(x))) return undefined;
  return { mb: f[0], mbPerSec: f[1], records: f[2], recordsPerSec: f[3], rebalanceMs: f[4], fetchMs: f[5], fetchMbPerSec: f[6], fetchRecordsPerSec: f[7] };
}

interface E2eFigures {
  avgMs: number;
  p50: number;
  p99: number;
  p999: number;
}

// "Avg latency: 0.7950 ms" and "Percentiles: 50th = 0, 99th = 5, 99.9th = 10" (EndToEndLatency.printResults;
// the percentiles are whole milliseconds, truncated).
export function parseEndToEndLatency(stdout: string): E2eFigures | undefined {
  const avg = /^Avg latency: ([\d.]+) ms$/m.exec(stdout);
  const pct = /^Percentiles: 50th = (\d+), 99th = (\d+), 99\.9th = (\d+)$/m.exec(stdout);
  if (!avg || !pct) return undefined;
  return { avgMs: Number(avg[1]), p50: Number(pct[1]), p99: Number(pct[2]), p999: Number(pct[3]) };
}

// ---------------------------------------------------------------- brokers

interface RunningBroker {
  name: BrokerName;
  label: string;
  port: number;
  pid: number;
  logFile: string;
  command: string[];
  stop(): Promise<void>;
}

async function startKafkaBroker(workDir: string): Promise<RunningBroker> {
  const port = await freePort();
  const broker = await startKafka({ port, dataDir: path.join(workDir, 'kafka'), heapMb: P.kafkaHeapMb, log: progress });
  return {
    name: 'kafka',
    label: `Kafka ${KAFKA_VERSION}`,
    port,
    pid: broker.pid,
    logFile: broker.logFile,
    command: broker.command,
    stop: broker.stop,
  };
}

class DiglotUnavailable extends Error {}

function diglotVersion(): string {
  return (JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
}

async function startDiglotBroker(workDir: string): Promise<RunningBroker> {
  const port = await freePort();
  const dir = path.join(workDir, 'diglot');
  fs.mkdirSync(dir, { recursive: true });
  const logFile = path.join(dir, 'diglot.log');
  const args = [
    ...NODE_FLAGS, path.join(ROOT, 'bin/diglot.mjs'), 'start',
    '--host', '127.0.0.1', '--kafka-port', String(port), '--rocketmq-port', '0', '--admin-port', '0',
    '--data-dir', path.join(dir, 'data'),
    // The reference broker's server.properties sets group.initial.rebalance.delay.ms=0: same here.
    '--group-initial-rebalance-delay-ms', '0',
  ];
  // Defaults only: DIGLOT_* variables of the calling shell would change what is measured.
  const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('DIGLOT_')));
  const out = fs.openSync(logFile, 'a');
  const child = spawn(process.execPath, args, { cwd: ROOT, env, stdio: ['ignore', out, out] });
  fs.closeSync(out);
  if (child.pid === undefined) throw new Error(`could not start ${process.execPath}`);
  const pid = child.pid;
  const stop = stopper(child, 40_000);
  progress(`diglot pid ${pid} on 127.0.0.1:${port}, log ${logFile}`);
  const alive = () => child.exitCode === null && child.signalCode === null;
  const deadline = Date.now() + 60_000;
  while (!/"msg":"ready"/.test(read(logFile))) {
    if (!alive() || Date.now() > deadline) {
      await stop();
      throw new Error(`Diglot did not become ready (${alive() ? 'timeout' : `exit ${child.exitCode ?? child.signalCode}`})\n${tailOf(read(logFile), 20)}`);
    }
    await sleep(100);
  }
  if (!(await waitForPort(port, 5_000, alive))) {
    await stop();
    throw new DiglotUnavailable(`nothing accepts connections on 127.0.0.1:${port} after "ready"`);
  }
  return {
    name: 'diglot',
    label: `Diglot ${diglotVersion()}`,
    port,
    pid,
    logFile,
    command: ['node', ...args.map((arg) => (arg.startsWith(ROOT) ? path.relative(ROOT, arg) : arg))],
    stop,
  };
}

function stopper(child: ChildProcess, graceMs: number): () => Promise<void> {
  let done: Promise<void> | undefined;
  return () => {
    done ??= (async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exit = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exit;
      clearTimeout(timer);
    })();
    return done;
  };
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const read = (file: string) => {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return '';
  }
};
const tailOf = (text: string, n: number) => text.trimEnd().split('\n').slice(-n).join('\n');

// ---------------------------------------------------------------- one broker's run

interface Step<T> {
  figures?: T;
  usage?: Usage;
  /** Why figures is missing. */
  error?: string;
  command: string[];
}

interface BrokerResult {
  name: BrokerName;
  label: string;
  /** Set when the broker could not be benchmarked at all: short form for the table, full reason below it. */
  unavailable?: string;
  unavailableReason?: string;
  startSeconds?: number;
  command?: string[];
  topics: Step<true>[];
  warmup?: Step<ProduceFigures>;
  produce1?: Step<ProduceFigures>;
  produceAll?: Step<ProduceFigures>;
  consume?: Step<ConsumeFigures>;
  e2e?: Step<E2eFigures>;
  hwmMiB?: number;
  cpuTotalSeconds?: number;
}

/** The flags of every step, with the broker's address left as $BOOTSTRAP. */
function stepArgs(bootstrap: string) {
  const produce = (topic: string, records: number, acks: string) => [
    '--bootstrap-server', bootstrap, '--topic', topic, '--num-records', String(records), '--record-size', String(P.recordSize),
    '--throughput', '-1', '--command-property', `acks=${acks}`, ...PRODUCER_PROPS,
  ];
  return {
    topic: (topic: string) => [
      '--bootstrap-server', bootstrap, '--create', '--topic', topic, '--partitions', String(P.partitions), '--replication-factor', '1',
    ],
    warmup: produce('perf-warmup', P.warmupRecords, '1'),
    produce1: produce('perf', P.produceRecords, '1'),
    produceAll: produce('perf', P.produceRecords, 'all'),
    consume: ['--bootstrap-server', bootstrap, '--topic', 'perf', '--num-records', String(2 * P.produceRecords), '--timeout', '30000'],
    e2e: [
      '--bootstrap-server', bootstrap, '--topic', 'e2e', '--num-records', String(P.e2eRecords), '--producer-acks', '1',
      '--record-size', String(P.recordSize),
    ],
  };
}

const TIMEOUT_MS = {
  topic: 90_000,
  // Generous: a broker that stalls must not hold the run for ever, one that is slow must still finish.
  produce: () => 60_000 + P.produceRecords * 0.1,
  consume: () => 60_000 + 2 * P.produceRecords * 0.05,
  e2e: () => 60_000 + P.e2eRecords * 20,
};

function toolError(result: ToolResult, what: string): string {
  if (result.timedOut) return `${what} timed out after ${(result.ms / 1000).toFixed(0)} s`;
  const text = `${result.stderr}\n${result.stdout}`;
  const line =
    text.split('\n').find((l) => /Exception|ERROR|Error:|WARNING: Exiting/.test(l)) ?? text.trim().split('\n').at(-1) ?? '';
  return `${what} exited with ${result.code}: ${line.trim().slice(0, 200)}`;
}

async function benchBroker(name: BrokerName, workDir: string): Promise<BrokerResult> {
  const label = name === 'kafka' ? `Kafka ${KAFKA_VERSION}` : `Diglot ${diglotVersion()}`;
  const result: BrokerResult = { name, label, topics: [] };
  const t0 = performance.now();
  let broker: RunningBroker;
  try {
    broker = name === 'kafka' ? await startKafkaBroker(workDir) : await startDiglotBroker(workDir);
  } catch (e) {
    if (e instanceof DiglotUnavailable) {
      progress(`diglot: ${e.message}`);
      result.unavailable = 'Kafka listener not available';
      result.unavailableReason = e.message;
      return result;
    }
    throw e;
  }
  activeStop = broker.stop;
  result.startSeconds = (performance.now() - t0) / 1000;
  result.command = broker.command;
  const sampler = new ProcSampler(broker.pid);
  const cpuStart = cpuSeconds([broker.pid]);
  const bootstrap = `127.0.0.1:${broker.port}`;
  const args = stepArgs(bootstrap);
  const display = (argv: string[]) => argv.map((arg) => arg.replaceAll(bootstrap, '$BOOTSTRAP'));

  let timedOut: string | undefined;
  const tool = async <T>(
    what: string,
    mainClass: string,
    argv: string[],
    timeoutMs: number,
    parse: (stdout: string) => T | undefined,
  ): Promise<Step<T>> => {
    if (abort.signal.aborted) throw new Error('interrupted');
    // A timeout means the broker stalls; the next tools would only stall too, so they are not run (keeps the
    // whole run within minutes).
    if (timedOut) return { command: display(runToolCommand(mainClass, argv)), error: `${what}: not run, ${timedOut} timed out` };
    progress(`${name}: ${what}`);
    const { value: res, usage } = await sampler.window(() =>
      runTool(TOOLS + mainClass, argv, {
        heapMb: P.toolHeapMb,
        timeoutMs,
        signal: abort.signal,
        onStdoutLine: (line) => {
          if (line.trim()) process.stderr.write(`  | ${line}\n`);
        },
      }),
    );
    const step: Step<T> = { command: display(res.command), usage };
    if (res.timedOut) timedOut = what;
    const figures = res.code === 0 ? parse(res.stdout) : undefined;
    if (figures !== undefined) step.figures = figures;
    else {
      step.error = res.code === 0 ? `${what}: output not understood` : toolError(res, what);
      progress(`${name}: ${step.error}\n${tailOf(res.stderr || res.stdout, 15)}`);
    }
    return step;
  };

  try {
    for (const topic of ['perf-warmup', 'perf', 'e2e']) {
      const step = await tool(`TopicCommand --create ${topic}`, 'TopicCommand', args.topic(topic), TIMEOUT_MS.topic, (out) =>
        /Created topic/.test(out) ? true : undefined,
      );
      result.topics.push(step);
      if (!step.figures && name === 'diglot') break;
    }
    const topicsOk = result.topics.every((step) => step.figures);
    if (!topicsOk && name === 'diglot') {
      result.unavailable = 'topics could not be created';
      result.unavailableReason = result.topics.find((s) => s.error)?.error;
    } else {
      result.warmup = await tool(`warm-up ProducerPerformance (${P.warmupRecords} records, acks=1, untimed)`, 'ProducerPerformance', args.warmup, TIMEOUT_MS.produce(), parseProducerPerformance);
      result.produce1 = await tool('ProducerPerformance acks=1', 'ProducerPerformance', args.produce1, TIMEOUT_MS.produce(), parseProducerPerformance);
      result.produceAll = await tool('ProducerPerformance acks=all', 'ProducerPerformance', args.produceAll, TIMEOUT_MS.produce(), parseProducerPerformance);
      result.consume = await tool('ConsumerPerformance', 'ConsumerPerformance', args.consume, TIMEOUT_MS.consume(), parseConsumerPerformance);
      result.e2e = await tool('EndToEndLatency acks=1', 'EndToEndLatency', args.e2e, TIMEOUT_MS.e2e(), parseEndToEndLatency);
    }
    result.hwmMiB = sampler.hwmMiB();
    const cpuEnd = cpuSeconds([broker.pid]);
    if (cpuStart !== undefined && cpuEnd !== undefined) result.cpuTotalSeconds = cpuEnd - cpuStart;
  } finally {
    sampler.close();
    progress(`${name}: stopping pid ${broker.pid}`);
    await broker.stop();
    activeStop = undefined;
  }
  return result;
}

// ---------------------------------------------------------------- report

const fmtInt = (x: number) => Math.round(x).toLocaleString('en-US');
const fmt = (x: number, digits = 1) => x.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });

interface Row {
  section: string;
  metric: string;
  kafka?: number;
  diglot?: number;
  format: (x: number) => string;
  /** 'min': Diglot/Kafka must be >= value; 'max': must be <= value. */
  target?: { kind: 'min' | 'max'; value: number };
  /** Note shown in the target column for rows without a target. */
  note?: string;
}

function rows(kafka: BrokerResult | undefined, diglot: BrokerResult | undefined): Row[] {
  const out: Row[] = [];
  const pick = <T>(r: BrokerResult | undefined, f: (r: BrokerResult) => Step<T> | undefined, g: (x: T) => number) => {
    const step = r && f(r);
    return step?.figures !== undefined ? g(step.figures) : undefined;
  };
  const usage = (r: BrokerResult | undefined, f: (r: BrokerResult) => Step<unknown> | undefined, g: (u: Usage) => number | undefined) => {
    const step = r && f(r);
    return step?.figures !== undefined && step.usage ? g(step.usage) : undefined;
  };
  const add = (row: Omit<Row, 'kafka' | 'diglot'>, f: (r: BrokerResult | undefined) => number | undefined) => {
    const value = (r: BrokerResult | undefined) => (r && !r.unavailable ? f(r) : undefined);
    out.push({ ...row, kafka: value(kafka), diglot: value(diglot) });
  };
  const THROUGHPUT = { kind: 'min', value: 1.5 } as const;
  const P99 = { kind: 'max', value: 1.0 } as const;
  const ms = (x: number) => fmt(x, 0);
  const NOISE = 'noise; ideally ~0';
  const TOOL = 'client side (JVM + bench)';
  const SYSTEM = 'of broker CPU s: syscalls, page faults';
  const ms2 = (x: number) => fmt(x, 2);

  for (const [section, f] of [
    ['produce acks=1', (r: BrokerResult) => r.produce1],
    ['produce acks=all', (r: BrokerResult) => r.produceAll],
  ] as const) {
    add({ section, metric: 'records/s', format: fmtInt, target: THROUGHPUT }, (r) => pick(r, f, (x) => x.recordsPerSec));
    add({ section, metric: 'MB/s (MiB)', format: (x) => fmt(x, 1), target: THROUGHPUT }, (r) => pick(r, f, (x) => x.mbPerSec));
    add({ section, metric: 'latency avg ms', format: ms2 }, (r) => pick(r, f, (x) => x.avgMs));
    add({ section, metric: 'latency p50 ms', format: ms }, (r) => pick(r, f, (x) => x.p50));
    add({ section, metric: 'latency p99 ms', format: ms, target: P99 }, (r) => pick(r, f, (x) => x.p99));
    add({ section, metric: 'latency p99.9 ms', format: ms }, (r) => pick(r, f, (x) => x.p999));
    add({ section, metric: 'broker CPU s', format: (x) => fmt(x, 1) }, (r) => usage(r, f, (u) => u.cpuSeconds));
    add({ section, metric: 'broker CPU µs/record', format: (x) => fmt(x, 1) }, (r) => {
      const cpu = usage(r, f, (u) => u.cpuSeconds);
      const n = pick(r, f, (x) => x.records);
      return cpu !== undefined && n ? (cpu * 1e6) / n : undefined;
    });
    add({ section, metric: 'broker system CPU s', format: (x) => fmt(x, 1), note: SYSTEM }, (r) => usage(r, f, (u) => u.systemCpuSeconds));
    add({ section, metric: 'broker peak RSS MiB', format: (x) => fmt(x, 0) }, (r) => usage(r, f, (u) => u.peakRssMiB));
    add({ section, metric: 'perf tool CPU s', format: (x) => fmt(x, 1), note: TOOL }, (r) => usage(r, f, (u) => u.toolCpuSeconds));
    add({ section, metric: 'other processes CPU s', format: (x) => fmt(x, 1), note: NOISE }, (r) => usage(r, f, (u) => u.otherCpuSeconds));
  }
  const c = (r: BrokerResult) => r.consume;
  const section = 'consume';
  add({ section, metric: 'records/s (fetch time)', format: fmtInt, target: THROUGHPUT }, (r) => pick(r, c, (x) => x.fetchRecordsPerSec));
  add({ section, metric: 'MB/s (MiB, fetch time)', format: (x) => fmt(x, 1), target: THROUGHPUT }, (r) => pick(r, c, (x) => x.fetchMbPerSec));
  add({ section, metric: 'records/s (incl. group join)', format: fmtInt, note: '(join included)' }, (r) => pick(r, c, (x) => x.recordsPerSec));
  add({ section, metric: 'group join ms', format: fmtInt }, (r) => pick(r, c, (x) => x.rebalanceMs));
  add({ section, metric: 'records read', format: fmtInt }, (r) => pick(r, c, (x) => x.records));
  add({ section, metric: 'broker CPU s', format: (x) => fmt(x, 1) }, (r) => usage(r, c, (u) => u.cpuSeconds));
  add({ section, metric: 'broker system CPU s', format: (x) => fmt(x, 1), note: SYSTEM }, (r) => usage(r, c, (u) => u.systemCpuSeconds));
  add({ section, metric: 'broker peak RSS MiB', format: (x) => fmt(x, 0) }, (r) => usage(r, c, (u) => u.peakRssMiB));
  add({ section, metric: 'perf tool CPU s', format: (x) => fmt(x, 1), note: TOOL }, (r) => usage(r, c, (u) => u.toolCpuSeconds));
  add({ section, metric: 'other processes CPU s', format: (x) => fmt(x, 1), note: NOISE }, (r) => usage(r, c, (u) => u.otherCpuSeconds));
  const e = (r: BrokerResult) => r.e2e;
  const e2e = 'end-to-end acks=1';
  add({ section: e2e, metric: 'latency avg ms', format: (x) => fmt(x, 3) }, (r) => pick(r, e, (x) => x.avgMs));
  add({ section: e2e, metric: 'latency p50 ms', format: ms, note: 'whole ms, truncated' }, (r) => pick(r, e, (x) => x.p50));
  add({ section: e2e, metric: 'latency p99 ms', format: ms, target: P99 }, (r) => pick(r, e, (x) => x.p99));
  add({ section: e2e, metric: 'latency p99.9 ms', format: ms }, (r) => pick(r, e, (x) => x.p999));
  add({ section: e2e, metric: 'broker CPU s', format: (x) => fmt(x, 1) }, (r) => usage(r, e, (u) => u.cpuSeconds));
  add({ section: e2e, metric: 'other processes CPU s', format: (x) => fmt(x, 1), note: NOISE }, (r) => usage(r, e, (u) => u.otherCpuSeconds));
  const whole = 'whole run';
  add({ section: whole, metric: 'broker CPU s (all steps)', format: (x) => fmt(x, 1) }, (r) => r?.cpuTotalSeconds);
  add({ section: whole, metric: 'broker peak RSS MiB (VmHWM)', format: (x) => fmt(x, 0) }, (r) => r?.hwmMiB);
  return out;
}

function cell(result: BrokerResult | undefined, value: number | undefined, format: (x: number) => string, failed: () => string | undefined): string {
  if (!result) return 'skipped';
  if (result.unavailable) return `n/a (${result.unavailable})`;
  if (value !== undefined) return format(value);
  return failed() ?? 'n/a';
}


function report(results: Map<BrokerName, BrokerResult>, meta: Record<string, string>): string {
  const kafka = results.get('kafka');
  const diglot = results.get('diglot');
  const out: string[] = [];
  out.push(`# bench:kafka — Apache Kafka ${KAFKA_VERSION} vs Diglot ${diglotVersion()}, Kafka's own perf tools, one broker at a time`);
  out.push('');
  for (const [key, value] of Object.entries(meta)) out.push(`${`${key}:`.padEnd(13)} ${value}`);
  out.push('');

  // A failed step is "failed" in its cells; the reason is listed below the table.
  const body: string[][] = [];
  let lastSection = '';
  for (const row of rows(kafka, diglot)) {
    const ratio =
      row.kafka !== undefined && row.diglot !== undefined && row.kafka !== 0 ? row.diglot / row.kafka : undefined;
    let target = row.note ?? '';
    if (row.target) {
      const goal = `${row.target.kind === 'min' ? '≥' : '≤'} ${row.target.value.toFixed(2)}×`;
      const met = ratio === undefined ? '' : (row.target.kind === 'min' ? ratio >= row.target.value : ratio <= row.target.value) ? '  met' : '  NOT met';
      target = goal + met;
    }
    const failed = (r: BrokerResult | undefined) => () => (r && stepFailed(r, row.section) ? 'failed' : undefined);
    body.push([
      row.section === lastSection ? '' : row.section,
      row.metric,
      cell(kafka, row.kafka, row.format, failed(kafka)),
      cell(diglot, row.diglot, row.format, failed(diglot)),
      ratio === undefined ? (row.kafka === 0 && row.diglot !== undefined ? 'n/a (Kafka 0)' : '') : `${ratio.toFixed(2)}×`,
      target,
    ]);
    lastSection = row.section;
  }
  out.push(
    table(
      ['step', 'metric', kafka?.label ?? `Kafka ${KAFKA_VERSION}`, diglot?.label ?? `Diglot ${diglotVersion()}`, 'Diglot/Kafka', 'target'],
      body,
      ['l', 'l', 'r', 'r', 'r', 'l'],
    ),
  );
  out.push('');
  out.push('MB is MiB (2^20 bytes), as the tools print it. Produce latency is ProducerPerformance\'s send-to-ack time at full');
  out.push('throughput, so it includes time queued in the producer. End-to-end percentiles are whole milliseconds, truncated, as');
  out.push('EndToEndLatency prints them (0 = under 1 ms). Broker CPU is user+system time of the broker process during the step');
  out.push('(tool JVM start-up included in the window); peak RSS per step is the highest VmRSS sampled every ' + `${P.sampleMs} ms.`);

  const problems = new Set<string>();
  for (const r of [kafka, diglot]) {
    if (!r) continue;
    if (r.unavailable) problems.add(`${r.label}: n/a (${r.unavailable}): ${r.unavailableReason ?? ''}`);
    for (const step of [...r.topics, r.warmup, r.produce1, r.produceAll, r.consume, r.e2e]) {
      if (step?.error && step.error !== r.unavailableReason) problems.add(`${r.label}: ${step.error}`);
    }
  }
  if (problems.size) {
    out.push('');
    out.push('Problems:');
    for (const p of problems) out.push(`  - ${p}`);
  }

  out.push('');
  out.push('Brokers:');
  for (const r of [kafka, diglot]) {
    if (!r?.command) continue;
    out.push(`  ${r.label} (up in ${r.startSeconds?.toFixed(1)} s):`);
    out.push(`    ${r.command.join(' ')}`);
  }
  out.push('');
  out.push('Tool commands, identical for both brokers ($BOOTSTRAP = 127.0.0.1:<that broker\'s port>), in this order:');
  const any = kafka?.command ? kafka : diglot?.command ? diglot : undefined;
  const steps = any ? [...any.topics, any.warmup, any.produce1, any.produceAll, any.consume, any.e2e] : [];
  let jvm = '';
  for (const step of steps) {
    if (!step) continue;
    const main = step.command.findIndex((arg) => arg.startsWith(TOOLS));
    jvm ||= step.command.slice(0, main).join(' ').replace("'lib/*'", "'reference/kafka/lib/*'");
    out.push(`  T ${step.command.slice(main).join(' ')}`);
  }
  if (jvm) out.push(`  where T = ${jvm}`);
  return out.join('\n');
}

function stepFailed(r: BrokerResult, section: string): boolean {
  const step =
    section === 'produce acks=1' ? r.produce1
    : section === 'produce acks=all' ? r.produceAll
    : section === 'consume' ? r.consume
    : section === 'end-to-end acks=1' ? r.e2e
    : undefined;
  return step?.error !== undefined;
}

function machineInfo(workDir: string): Record<string, string> {
  const cpus = os.cpus();
  const javaVersion = spawnSync(javaBin(), ['-version'], { encoding: 'utf8' }).stderr.split('\n').slice(0, 2).join('; ').trim();
  const fsType = spawnSync('stat', ['-f', '-c', '%T', workDir], { encoding: 'utf8' }).stdout.trim();
  const git = spawnSync('git', ['-C', ROOT, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).stdout.trim();
  const dirty = spawnSync('git', ['-C', ROOT, 'status', '--porcelain', '--', 'src', 'bin'], { encoding: 'utf8' }).stdout.trim() !== '';
  return {
    date: new Date().toISOString(),
    machine: `${cpus[0]?.model ?? 'unknown CPU'}, ${cpus.length} cores, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB RAM, ${os.type()} ${os.release()}`,
    disk: `${workDir} (${fsType || 'unknown fs'})`,
    memory: memoryNote(),
    software: `Node ${process.version}; ${javaVersion}; Apache Kafka ${KAFKA_VERSION} (Maven Central); Diglot ${diglotVersion()} @ ${git || '?'}${dirty ? ' (src/bin modified)' : ''}`,
    workload:
      `${P.partitions} partitions, ${P.recordSize}-byte records; produce ${fmtInt(P.produceRecords)} records per acks setting ` +
      `(after an untimed ${fmtInt(P.warmupRecords)}-record warm-up); consume ${fmtInt(2 * P.produceRecords)}; end-to-end ${fmtInt(P.e2eRecords)}`,
    load: `load average ${os.loadavg().map((x) => x.toFixed(2)).join(' ')} at the start (${os.cpus().length} cores)`,
    jvm: `broker -Xms/-Xmx ${P.kafkaHeapMb} MiB, tools -Xmx ${P.toolHeapMb} MiB, kafka-run-class.sh JVM flags (G1)`,
    durability: 'both at defaults: Kafka leaves fsync to the OS (log.flush.* unset); Diglot fdatasyncs every 500 ms (flushMode interval)',
  };
}

interface Round {
  order: BrokerName[];
  results: Map<BrokerName, BrokerResult>;
}

/**
 * With BENCH_ROUNDS > 1: each row with a target (and broker CPU per record), the mean of each broker over the
 * rounds where both produced it, the ratio of the means (judged against the target) and every round's own ratio.
 */
function roundsSummary(rounds: Round[]): string {
  const perRound = rounds.map((r) => rows(r.results.get('kafka'), r.results.get('diglot')));
  const mean = (xs: (number | undefined)[]): number | undefined => {
    const ok = xs.filter((x): x is number => x !== undefined);
    return ok.length > 0 ? ok.reduce((a, b) => a + b, 0) / ok.length : undefined;
  };
  const body: string[][] = [];
  let lastSection = '';
  for (const [i, row] of perRound[0]!.entries()) {
    if (!row.target && row.metric !== 'broker CPU µs/record' && row.metric !== 'broker system CPU s') continue;
    const same = perRound.map((rs) => rs[i]!);
    // Means over the rounds where both brokers have the figure, so the ratio compares like with like.
    const paired = same.filter((r) => r.kafka !== undefined && r.diglot !== undefined);
    const kafka = mean(paired.map((r) => r.kafka));
    const diglot = mean(paired.map((r) => r.diglot));
    const ratio = kafka !== undefined && diglot !== undefined && kafka !== 0 ? diglot / kafka : undefined;
    let target = '';
    if (row.target && ratio !== undefined) {
      const met = row.target.kind === 'min' ? ratio >= row.target.value : ratio <= row.target.value;
      target = `${row.target.kind === 'min' ? '≥' : '≤'} ${row.target.value.toFixed(2)}×  ${met ? 'met' : 'NOT met'}`;
    }
    const each = same.map((r) => (r.kafka !== undefined && r.diglot !== undefined && r.kafka !== 0 ? `${(r.diglot / r.kafka).toFixed(2)}×` : 'n/a'));
    body.push([
      row.section === lastSection ? '' : row.section,
      row.metric,
      kafka === undefined ? 'n/a' : row.format(kafka),
      diglot === undefined ? 'n/a' : row.format(diglot),
      ratio === undefined ? '' : `${ratio.toFixed(2)}×`,
      each.join(' / '),
      target,
    ]);
    lastSection = row.section;
  }
  const orders = rounds.map((r, i) => `${i + 1}: ${r.order.join(' → ')}`).join('; ');
  return [
    `## ${rounds.length} rounds (${orders}): means over the rounds`,
    '',
    table(['step', 'metric', 'Kafka mean', 'Diglot mean', 'ratio of means', 'per round', 'target'], body, ['l', 'l', 'r', 'r', 'r', 'l', 'l']),
  ].join('\n');
}

// ---------------------------------------------------------------- main

let activeStop: (() => Promise<void>) | undefined;
/** Aborted on SIGINT/SIGTERM: stops the running tool JVM. */
const abort = new AbortController();

async function main(): Promise<void> {
  const t0 = performance.now();
  fs.mkdirSync(P.dir, { recursive: true });
  const workDir = fs.mkdtempSync(path.join(P.dir, 'bench-kafka-'));
  let interrupted = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (interrupted) return;
    interrupted = true;
    progress(`${signal}: stopping the tool and the broker, cleaning up`);
    abort.abort();
    void (activeStop?.() ?? Promise.resolve()).finally(() => {
      if (!P.keep) fs.rmSync(workDir, { recursive: true, force: true });
      process.exit(130);
    });
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  try {
    await ensureKafkaJars({ log: progress });
    const jarNote = lastJarFetchMs ? `fetched from Maven Central in ${(lastJarFetchMs / 1000).toFixed(1)} s` : 'cached';
    const meta = machineInfo(workDir);
    meta.jars = `reference/kafka/lib (${jarNote})`;
    const rounds: Round[] = [];
    for (let round = 1; round <= P.rounds; round++) {
      const order = round % 2 === 1 ? P.brokers : [...P.brokers].reverse();
      const results = new Map<BrokerName, BrokerResult>();
      for (const name of order) {
        progress(`--- ${P.rounds > 1 ? `round ${round}/${P.rounds}: ` : ''}${name}`);
        results.set(name, await benchBroker(name, workDir));
        // Each broker's data is gone before the next one starts: same free disk, same page cache pressure.
        if (!P.keep) fs.rmSync(path.join(workDir, name), { recursive: true, force: true, maxRetries: 3 });
      }
      rounds.push({ order, results });
    }
    meta.duration = `${((performance.now() - t0) / 1000).toFixed(0)} s for the whole run`;
    if (rounds.length === 1) process.stdout.write(`${report(rounds[0]!.results, meta)}\n`);
    else {
      for (const [i, r] of rounds.entries()) {
        process.stdout.write(`## round ${i + 1} of ${rounds.length}: ${r.order.join(' first, then ')}\n\n${report(r.results, meta)}\n\n`);
      }
      process.stdout.write(`${roundsSummary(rounds)}\n`);
    }
    if (P.json) {
      const perRound = rounds.map((r) => ({ order: r.order, results: Object.fromEntries(r.results) }));
      fs.writeFileSync(P.json, `${JSON.stringify({ meta, params: P, results: perRound[0]!.results, rounds: perRound }, null, 2)}\n`);
      progress(`JSON written to ${P.json}`);
    }
  } finally {
    if (P.keep) progress(`kept ${workDir}`);
    else fs.rmSync(workDir, { recursive: true, force: true, maxRetries: 3 });
  }
}

if (import.meta.main) await main();
