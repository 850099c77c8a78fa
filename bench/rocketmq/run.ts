// RocketMQ-protocol benchmark (`npm run bench:rocketmq`): Apache RocketMQ 5.3.3 (name server + broker JVMs from
// Maven Central jars, see reference/rocketmq/) and Diglot (one Node process; its RocketMQ port is name server and
// broker at once) on this machine, one after the other, each driven by RocketMQ's own benchmark tools
// (org.apache.rocketmq.example.benchmark.Producer / Consumer) with identical flags:
//
//   mqadmin updateTopic   Bench8_<run>, 8 read / 8 write queues, cluster DefaultCluster
//   Producer              -w 16 -s 1024 -q N   (16 synchronous send threads, 1 KiB bodies, N messages in total)
//   Consumer              -w 16 -g bench_c_<run>, a new group reading the N messages back from the first offset
//
// Both tools print a line every second (-ri 1000) with the rate over their last 10 one-second snapshots. The
// steady-state figures are means over the lines whose window lies in the steady part of the step, located with the
// broker's queue offsets (polled every 500 ms): send windows start >= 10 s after the first message was stored (the
// first interval is skipped) and end before 90 % were stored; consume windows start after the first committed
// offset and end before 90 % of the backlog was committed. See README.md for the reasoning.
//
// Broker CPU (utime+stime from /proc/<pid>/stat, name server + broker for Apache RocketMQ) and RSS (VmRSS summed
// over those pids, sampled every 200 ms) are taken around every step. The report on stdout puts both side by side
// with Diglot/RocketMQ ratios and the targets of the issue (TPS >= 1.5x, average RT <= 1.0x); progress on stderr.

import { NODE_FLAGS } from '../../bin/node-flags.mjs';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import process from 'node:process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { cpuSeconds, hostBusySeconds, memoryNote, selfAndChildrenCpuSeconds, sumKb, table } from '../lib/proc.ts';
import {
  BENCH_CONSUMER,
  BENCH_PRODUCER,
  DEFAULT_CLUSTER,
  ensureRocketmqJars,
  EXAMPLE_VERSION,
  freePort,
  javaBin,
  lastJarFetchMs,
  MQADMIN,
  ROCKETMQ_VERSION,
  runTool,
  startRocketmq,
  waitForPort,
  type ToolResult,
} from '../../reference/rocketmq/rocketmq.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

// ---------------------------------------------------------------- parameters

const USAGE = `usage: node bench/rocketmq/run.ts [options]     (npm run bench:rocketmq -- [options])

  --messages N        messages per Producer run, read back by the Consumer (default 2000000)
  --rounds K          side-by-side rounds; odd rounds run Apache RocketMQ first, even rounds Diglot first (default 1)
  --only T            rocketmq or diglot: benchmark one target only
  --threads N         Producer and Consumer threads, -w (default 16)
  --size BYTES        message body bytes, -s (default 1024)
  --queues N          read/write queues of the topic (default 8)
  --tool-heap-mb MB   -Xms/-Xmx of the tool JVMs (default 1024, as the stock runclass.sh)
  --rmq-broker-heap-mb MB   Apache broker -Xms/-Xmx (default 2048; name server 512)
  --dir DIR           where the work directory is made (default: the OS temp dir)
  --keep              keep the work directory (stores, logs, tool output)
  --json FILE         also write every figure as JSON
  -h, --help`;

const TARGETS = ['rocketmq', 'diglot'] as const;
type TargetName = (typeof TARGETS)[number];

function parseParams() {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        messages: { type: 'string' },
        rounds: { type: 'string' },
        only: { type: 'string' },
        threads: { type: 'string' },
        size: { type: 'string' },
        queues: { type: 'string' },
        'tool-heap-mb': { type: 'string' },
        'rmq-broker-heap-mb': { type: 'string' },
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
  const int = (name: string, raw: string | undefined, fallback: number): number => {
    if (raw === undefined) return fallback;
    const value = Number(raw.replaceAll('_', '').replaceAll(',', ''));
    if (!Number.isSafeInteger(value) || value <= 0) {
      console.error(`--${name} ${JSON.stringify(raw)}: expected a positive integer`);
      process.exit(2);
    }
    return value;
  };
  const only = values.only;
  if (only !== undefined && !(TARGETS as readonly string[]).includes(only)) {
    console.error(`--only ${JSON.stringify(only)}: expected rocketmq or diglot`);
    process.exit(2);
  }
  return {
    messages: int('messages', values.messages, 2_000_000),
    rounds: int('rounds', values.rounds, 1),
    threads: int('threads', values.threads, 16),
    size: int('size', values.size, 1024),
    queues: int('queues', values.queues, 8),
    toolHeapMb: int('tool-heap-mb', values['tool-heap-mb'], 1024),
    rmqBrokerHeapMb: int('rmq-broker-heap-mb', values['rmq-broker-heap-mb'], 2048),
    rmqNamesrvHeapMb: 512,
    targets: (only === undefined ? [...TARGETS] : [only]) as TargetName[],
    dir: values.dir ? path.resolve(values.dir) : os.tmpdir(),
    keep: values.keep === true,
    json: values.json ? path.resolve(values.json) : undefined,
    /** -ri of both tools: one line per second, each over the tool's last 10 one-second snapshots. */
    reportMs: 1000,
    /** Send lines whose window overlaps the first this-many ms after the first stored message are warm-up. */
    skipMs: 10_000,
    /** Lines printed after this fraction of the messages went through may cover the ramp-down: not steady state. */
    steadyUntil: 0.9,
    /** /proc VmRSS sampling period and broker offset polling period. */
    sampleMs: 200,
    pollMs: 500,
  };
}

const P = parseParams();

/** Tool JVM flags on top of runTool's: full JIT (runTool caps tools at C1 for quick mqadmin runs) and a fixed heap. */
const TOOL_JVM = ['-XX:TieredStopAtLevel=4', `-Xms${P.toolHeapMb}m`];

const progress = (line: string) => process.stderr.write(`[bench:rocketmq] ${line}\n`);

// ---------------------------------------------------------------- /proc sampling








interface Usage {
  /** Broker CPU (user + system; name server + broker for Apache RocketMQ) over the step, CPU seconds. */
  cpuSeconds?: number;
  /** CPU seconds of the tool JVM and this script over the step: the client side. */
  toolCpuSeconds?: number;
  /** Host busy CPU seconds not accounted for by the broker, the tool and this script: noise, ideally ~0. */
  otherCpuSeconds?: number;
  wallSeconds: number;
  /** Highest sum of VmRSS over the broker pids, sampled every P.sampleMs. */
  peakRssMiB: number;
  /** Same for RssAnon (heap and other private memory, without mapped files such as an mmapped commit log). */
  peakRssAnonMiB: number;
}

class ProcSampler {
  readonly pids: number[];
  #timer: NodeJS.Timeout;
  #peakKb = 0;
  #peakAnonKb = 0;
  constructor(pids: number[]) {
    this.pids = pids;
    this.#timer = setInterval(() => this.sample(), P.sampleMs);
  }
  sample(): void {
    const kb = sumKb(this.pids, 'VmRSS');
    if (kb !== undefined && kb > this.#peakKb) this.#peakKb = kb;
    const anon = sumKb(this.pids, 'RssAnon');
    if (anon !== undefined && anon > this.#peakAnonKb) this.#peakAnonKb = anon;
  }
  async window<T>(fn: () => Promise<T>): Promise<{ value: T; usage: Usage }> {
    this.#peakKb = 0;
    this.#peakAnonKb = 0;
    this.sample();
    const cpu0 = cpuSeconds(this.pids);
    const host0 = hostBusySeconds();
    const mine0 = selfAndChildrenCpuSeconds();
    const t0 = performance.now();
    const value = await fn();
    const wallSeconds = (performance.now() - t0) / 1000;
    this.sample();
    const cpu1 = cpuSeconds(this.pids);
    const host1 = hostBusySeconds();
    const mine1 = selfAndChildrenCpuSeconds();
    const usage: Usage = { wallSeconds, peakRssMiB: this.#peakKb / 1024, peakRssAnonMiB: this.#peakAnonKb / 1024 };
    if (cpu0 !== undefined && cpu1 !== undefined) usage.cpuSeconds = cpu1 - cpu0;
    if (mine0 !== undefined && mine1 !== undefined) usage.toolCpuSeconds = mine1 - mine0;
    if (usage.cpuSeconds !== undefined && usage.toolCpuSeconds !== undefined && host0 !== undefined && host1 !== undefined) {
      usage.otherCpuSeconds = Math.max(0, host1 - host0 - usage.cpuSeconds - usage.toolCpuSeconds);
    }
    return { value, usage };
  }
  close(): void {
    clearInterval(this.#timer);
  }
}

// ---------------------------------------------------------------- a persistent JSON-header remoting client

interface Reply {
  code: number;
  remark?: string;
  extFields: Record<string, string>;
  body: Buffer;
}

/**
 * One TCP connection to a RocketMQ port, JSON headers (serializeType 0), requests matched to responses by opaque.
 * For the offset polling only: one connection for the whole step, so polling does not churn connections on either
 * broker (reference/rocketmq's remotingRequest opens one per call).
 */
class RemotingConnection {
  #socket: net.Socket;
  #buf: Buffer = Buffer.alloc(0);
  #next = 1;
  #pending = new Map<number, { resolve: (r: Reply) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }>();
  #closed: Error | undefined;

  private constructor(socket: net.Socket) {
    this.#socket = socket;
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    const fail = (e: Error) => {
      this.#closed ??= e;
      for (const p of this.#pending.values()) {
        clearTimeout(p.timer);
        p.reject(e);
      }
      this.#pending.clear();
    };
    socket.on('error', fail);
    socket.on('close', () => fail(new Error('connection closed')));
  }

  static open(port: number): Promise<RemotingConnection> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host: '127.0.0.1', port });
      socket.setNoDelay(true);
      socket.once('connect', () => resolve(new RemotingConnection(socket)));
      socket.once('error', reject);
    });
  }

  request(code: number, extFields: Record<string, string>, timeoutMs = 5_000): Promise<Reply> {
    if (this.#closed) return Promise.reject(this.#closed);
    const opaque = this.#next++;
    const header = Buffer.from(JSON.stringify({ code, extFields, flag: 0, language: 'JAVA', opaque, serializeTypeCurrentRPC: 'JSON', version: 479 }));
    const frame = Buffer.alloc(8 + header.length);
    frame.writeInt32BE(4 + header.length, 0);
    frame.writeInt32BE(header.length & 0xffffff, 4);
    header.copy(frame, 8);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(opaque);
        reject(new Error(`request code ${code}: no response within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#pending.set(opaque, { resolve, reject, timer });
      this.#socket.write(frame);
    });
  }

  #onData(chunk: Buffer): void {
    this.#buf = this.#buf.length ? Buffer.concat([this.#buf, chunk]) : chunk;
    while (this.#buf.length >= 4 && this.#buf.length >= 4 + this.#buf.readInt32BE(0)) {
      const length = this.#buf.readInt32BE(0);
      const frame = this.#buf.subarray(4, 4 + length);
      this.#buf = this.#buf.subarray(4 + length);
      if (frame[0] !== 0) continue; // not JSON: not an answer to us
      const headerLen = frame.readInt32BE(0) & 0xffffff;
      let h: { code: number; opaque: number; remark?: string; extFields?: Record<string, string> };
      try {
        h = JSON.parse(frame.subarray(4, 4 + headerLen).toString('utf8'));
      } catch {
        continue;
      }
      const p = this.#pending.get(h.opaque);
      if (!p) continue;
      this.#pending.delete(h.opaque);
      clearTimeout(p.timer);
      p.resolve({ code: h.code, remark: h.remark, extFields: h.extFields ?? {}, body: Buffer.from(frame.subarray(4 + headerLen)) });
    }
  }

  close(): void {
    this.#socket.destroy();
  }
}

const GET_ROUTEINFO_BY_TOPIC = 105;
const GET_BROKER_CLUSTER_INFO = 106;
const GET_MAX_OFFSET = 30;
const QUERY_CONSUMER_OFFSET = 14;
const QUERY_NOT_FOUND = 22;

/** Sum over the topic's queues of GET_MAX_OFFSET (messages stored), or of the group's committed offsets. */
async function queueSum(conn: RemotingConnection, topic: string, group?: string): Promise<number> {
  const replies = await Promise.all(
    Array.from({ length: P.queues }, (_, q) =>
      group === undefined
        ? conn.request(GET_MAX_OFFSET, { topic, queueId: String(q) })
        : conn.request(QUERY_CONSUMER_OFFSET, { consumerGroup: group, topic, queueId: String(q), setZeroIfNotFound: 'false' }),
    ),
  );
  let sum = 0;
  for (const r of replies) {
    if (r.code === 0) sum += Number(r.extFields['offset'] ?? 0);
    else if (!(group !== undefined && r.code === QUERY_NOT_FOUND)) throw new Error(`offset query answered code ${r.code}: ${r.remark ?? ''}`);
  }
  return sum;
}

interface Poll {
  /** ms since the step started. */
  t: number;
  value: number;
}

/** Polls queueSum every P.pollMs until stop(); onPoll may end the step (e.g. stop the consumer). */
function startPolling(port: number, topic: string, group: string | undefined, t0: number, onPoll: (p: Poll) => void) {
  const polls: Poll[] = [];
  const errors: string[] = [];
  let stopped = false;
  let conn: RemotingConnection | undefined;
  const loop = (async () => {
    while (!stopped) {
      const started = performance.now();
      try {
        conn ??= await RemotingConnection.open(port);
        const value = await queueSum(conn, topic, group);
        const p = { t: performance.now() - t0, value };
        polls.push(p);
        onPoll(p);
      } catch (e) {
        errors.push((e as Error).message);
        conn?.close();
        conn = undefined;
      }
      await sleep(Math.max(0, P.pollMs - (performance.now() - started)));
    }
  })();
  return {
    polls,
    errors,
    async stop() {
      stopped = true;
      await loop;
      conn?.close();
    },
  };
}

// ---------------------------------------------------------------- tool output

interface Line {
  /** ms since the step started, when the line arrived. */
  t: number;
  text: string;
}

interface SendLine {
  t: number;
  tps: number;
  maxRt: number;
  avgRt: number;
  sendFailed: number;
  responseFailed: number;
}

// 5.5.0: "Current Time: 2026-11-24 04:40:26,062 | Send TPS: 12729 | Max RT(ms): 184 | Average RT(ms):   1.253 |
// Send Failed: 0 | Response Failed: 0"; the last line is "[Complete] Send Total: 20000 | Send TPS: ...". Older
// releases print "Send TPS: 12729 Max RT: 184 Average RT:   1.253 Send Failed: 0 Response Failed: 0".
const SEND_LINE = /Send TPS: (\d+)\D+?Max RT(?:\(ms\))?: (\d+)\D+?Average RT(?:\(ms\))?:\s*([\d.]+|NaN)\D+?Send Failed: (\d+)\D+?Response Failed: (\d+)/;
const COMPLETE_LINE = /^\[Complete\] Send Total: (\d+)/;

export function parseSendLine(line: Line): SendLine | undefined {
  const m = SEND_LINE.exec(line.text);
  if (!m) return undefined;
  return { t: line.t, tps: Number(m[1]), maxRt: Number(m[2]), avgRt: Number(m[3]), sendFailed: Number(m[4]), responseFailed: Number(m[5]) };
}

// 5.5.0: "Current Time: 2026-11-24 04:40:26,062 | Consume TPS: 2222 | AVG(B2C) RT(ms): 22065.673 | AVG(S2C) RT(ms):
// 22065.673 | MAX(B2C) RT(ms): 22560 | MAX(S2C) RT(ms): 22560 | Consume Fail: 0"
const CONSUME_LINE = /Consume TPS: (\d+)/;

/** A tool line covers the 10 one-second snapshots before it: at most this long (ms) before it arrived. */
const WINDOW_MS = 10 * 1000;

/** Whether a line that arrived at `t` covers only [from, until]: the steady part of the step. */
function steady(t: number, from: number | undefined, until: number | undefined): boolean {
  return from !== undefined && until !== undefined && t - WINDOW_MS >= from && t <= until;
}

function mean(xs: number[]): number | undefined {
  return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : undefined;
}

/** Broker-side rate: messages between the polls that first saw >= 10 % and >= 90 % of `total`, per second. */
function offsetRate(polls: Poll[], base: number, total: number): number | undefined {
  const a = polls.find((p) => p.value - base >= 0.1 * total);
  const b = polls.find((p) => p.value - base >= P.steadyUntil * total);
  if (!a || !b || b.t <= a.t) return undefined;
  return ((b.value - a.value) * 1000) / (b.t - a.t);
}

// ---------------------------------------------------------------- targets

interface RunningTarget {
  name: TargetName;
  label: string;
  /** -n for the tools. */
  namesrvAddr: string;
  /** Name server port (routes); Diglot: its RocketMQ port. */
  namesrvPort: number;
  /** Where the queues live (the broker port; Diglot: the same port). */
  brokerPort: number;
  kafkaPort?: number;
  pids: number[];
  logFile: string;
  commands: string[][];
  stop(): Promise<void>;
}

function diglotVersion(): string {
  return (JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
}

const LABEL: Record<TargetName, string> = {
  rocketmq: `Apache RocketMQ ${ROCKETMQ_VERSION}`,
  diglot: `Diglot ${diglotVersion()}`,
};

async function startApache(dir: string): Promise<RunningTarget> {
  const rmq = await startRocketmq({
    dataDir: dir,
    namesrvHeapMb: P.rmqNamesrvHeapMb,
    brokerHeapMb: P.rmqBrokerHeapMb,
    log: (line) => progress(`rocketmq: ${line}`),
  });
  const pids = [rmq.namesrvPid(), rmq.brokerPid()].filter((p): p is number => p !== undefined);
  return {
    name: 'rocketmq',
    label: LABEL.rocketmq,
    namesrvAddr: rmq.namesrvAddr,
    namesrvPort: rmq.namesrvPort,
    brokerPort: rmq.brokerPort,
    pids,
    logFile: rmq.brokerLog,
    commands: [rmq.commands.namesrv, rmq.commands.broker].map((c) => c.map((arg) => arg.replaceAll(dir, '$DATA'))),
    stop: () => rmq.stop(),
  };
}

async function startDiglot(dir: string): Promise<RunningTarget> {
  fs.mkdirSync(dir, { recursive: true });
  const kafkaPort = await freePort();
  let rocketmqPort = await freePort();
  while (rocketmqPort === kafkaPort) rocketmqPort = await freePort();
  const logFile = path.join(dir, 'diglot.log');
  const args = [
    ...NODE_FLAGS, path.join(ROOT, 'bin/diglot.mjs'), 'start',
    '--kafka-port', String(kafkaPort), '--rocketmq-port', String(rocketmqPort), '--admin-port', '0',
    '--data-dir', path.join(dir, 'data'), '--host', '127.0.0.1', '--log-level', 'warn',
  ];
  // Defaults only: DIGLOT_* variables of the calling shell would change what is measured.
  const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('DIGLOT_')));
  const out = fs.openSync(logFile, 'a');
  const child = spawn(process.execPath, args, { cwd: ROOT, env, stdio: ['ignore', out, out] });
  fs.closeSync(out);
  if (child.pid === undefined) throw new Error(`could not start ${process.execPath}`);
  const pid = child.pid;
  const stop = stopper(child, 40_000);
  progress(`diglot: pid ${pid}, RocketMQ port ${rocketmqPort}, Kafka port ${kafkaPort}, log ${logFile}`);
  const alive = () => child.exitCode === null && child.signalCode === null;
  // At --log-level warn the "listener on"/"ready" lines are not written: wait until the RocketMQ port answers
  // GET_BROKER_CLUSTER_INFO instead.
  const deadline = Date.now() + 60_000;
  let ready = false;
  while (!ready) {
    if (!alive() || Date.now() > deadline) {
      await stop();
      throw new Error(`Diglot did not become ready (${alive() ? 'timeout' : `exit ${child.exitCode ?? child.signalCode}`})\n${tailOf(read(logFile), 20)}`);
    }
    if (await waitForPort(rocketmqPort, 1_000, alive)) {
      try {
        const conn = await RemotingConnection.open(rocketmqPort);
        try {
          ready = (await conn.request(GET_BROKER_CLUSTER_INFO, {}, 2_000)).code === 0;
        } finally {
          conn.close();
        }
      } catch {
        // not yet
      }
    }
    if (!ready) await sleep(200);
  }
  return {
    name: 'diglot',
    label: LABEL.diglot,
    namesrvAddr: `127.0.0.1:${rocketmqPort}`,
    namesrvPort: rocketmqPort,
    brokerPort: rocketmqPort,
    kafkaPort,
    pids: [pid],
    logFile,
    commands: [['node', ...args.map((arg) => (arg.startsWith(dir) ? arg.replace(dir, '$DATA') : arg.startsWith(ROOT) ? path.relative(ROOT, arg) : arg))]],
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

// ---------------------------------------------------------------- one target's run

interface TopicStep {
  ok: boolean;
  /** How the topic was made: mqadmin, or the Kafka-protocol fallback for Diglot. */
  how?: string;
  queues?: { read: number; write: number };
  error?: string;
  command: string[];
}

interface SendFigures {
  /** Steady-state lines used. */
  lines: number;
  linesTotal: number;
  tps?: number;
  avgRt?: number;
  maxRt?: number;
  /** From the [Complete] line. */
  sendTotal?: number;
  sendFailed?: number;
  responseFailed?: number;
  /** Sum of the queues' max offsets after the run. */
  stored?: number;
  /** Broker-side send rate between 10 % and 90 % of the messages stored. */
  offsetTps?: number;
}

interface ConsumeFigures {
  lines: number;
  linesTotal: number;
  tps?: number;
  /** Committed offsets at the end (sum over the queues). */
  consumed?: number;
  /** The first non-zero committed sum seen: small when the consumer started from the first offset. */
  firstCommitted?: number;
  offsetTps?: number;
  /** From the Consumer's start until the committed offsets covered every stored message. */
  drainSeconds?: number;
}

interface Step<T> {
  figures?: T;
  usage?: Usage;
  error?: string;
  command: string[];
  /** The tool's stdout, kept for the JSON file. */
  lines?: Line[];
}

interface TargetResult {
  name: TargetName;
  label: string;
  round: number;
  startSeconds?: number;
  commands?: string[][];
  topic?: TopicStep;
  produce?: Step<SendFigures>;
  consume?: Step<ConsumeFigures>;
  cpuTotalSeconds?: number;
  hwmMiB?: number;
  /** Reason the target could not be measured at all. */
  unavailable?: string;
  logTail?: string;
}

function toolError(result: ToolResult, what: string): string {
  if (result.timedOut) return `${what} timed out after ${(result.ms / 1000).toFixed(0)} s`;
  const text = `${result.stdout}\n${result.stderr}`;
  const line = text.split('\n').find((l) => /Exception|ERROR|Error:|CODE: /.test(l)) ?? text.trim().split('\n').at(-1) ?? '';
  return `${what} exited with ${result.code}: ${line.trim().slice(0, 300)}`;
}

/** Runs the Kafka-protocol CreateTopics through kafkajs (a devDependency) on Diglot's Kafka port. */
async function createTopicViaKafka(kafkaPort: number, topic: string): Promise<void> {
  const kafkajs = (await import('kafkajs')).default;
  const admin = new kafkajs.Kafka({ clientId: 'bench-rocketmq', brokers: [`127.0.0.1:${kafkaPort}`], logLevel: kafkajs.logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    await admin.createTopics({ topics: [{ topic, numPartitions: P.queues, replicationFactor: 1 }], waitForLeaders: true, timeout: 30_000 });
  } finally {
    await admin.disconnect();
  }
}

async function routeQueues(port: number, topic: string): Promise<{ read: number; write: number } | undefined> {
  const conn = await RemotingConnection.open(port);
  try {
    const r = await conn.request(GET_ROUTEINFO_BY_TOPIC, { topic });
    if (r.code !== 0) return undefined;
    const text = r.body.toString('utf8');
    const read = [...text.matchAll(/"readQueueNums":(\d+)/g)].reduce((s, m) => s + Number(m[1]), 0);
    const write = [...text.matchAll(/"writeQueueNums":(\d+)/g)].reduce((s, m) => s + Number(m[1]), 0);
    return { read, write };
  } finally {
    conn.close();
  }
}

/** Aborted on SIGINT/SIGTERM: stops the running tool JVM. */
const abort = new AbortController();
let activeStop: (() => Promise<void>) | undefined;

async function benchTarget(name: TargetName, round: number, runId: string, workDir: string): Promise<TargetResult> {
  const result: TargetResult = { name, label: LABEL[name], round };
  const dir = path.join(workDir, `${name}-r${round}`);
  const toolLogDir = path.join(dir, 'tool-logs');
  const t0 = performance.now();
  let target: RunningTarget;
  try {
    target = name === 'rocketmq' ? await startApache(dir) : await startDiglot(dir);
  } catch (e) {
    if (name === 'rocketmq') throw e;
    result.unavailable = `did not start: ${(e as Error).message}`;
    progress(`diglot: ${result.unavailable}`);
    return result;
  }
  activeStop = target.stop;
  result.startSeconds = (performance.now() - t0) / 1000;
  result.commands = target.commands;
  const sampler = new ProcSampler(target.pids);
  const cpuStart = cpuSeconds(target.pids);
  const topic = `Bench8_${runId}r${round}`;
  const group = `bench_c_${runId}r${round}`;
  const ns = target.namesrvAddr;
  const display = (argv: string[]) => argv.map((arg) => arg.replaceAll(ns, '$NAMESRV').replaceAll(topic, 'Bench8_<run>').replaceAll(group, 'bench_c_<run>'));
  const toolOpts = { logDir: toolLogDir, heapMb: P.toolHeapMb, jvmArgs: TOOL_JVM };

  try {
    // 1. topic
    if (abort.signal.aborted) throw new Error('interrupted');
    progress(`${name}: mqadmin updateTopic ${topic} (${P.queues} queues)`);
    const topicArgs = ['updateTopic', '-n', ns, '-c', DEFAULT_CLUSTER, '-t', topic, '-r', String(P.queues), '-w', String(P.queues)];
    const created = await runTool(MQADMIN, topicArgs, { logDir: toolLogDir, timeoutMs: 90_000, signal: abort.signal });
    const step: TopicStep = { ok: false, command: display(created.command) };
    result.topic = step;
    if (/success/.test(created.stdout)) step.how = 'mqadmin updateTopic';
    else {
      step.error = toolError(created, 'mqadmin updateTopic');
      progress(`${name}: ${step.error}`);
      if (target.kafkaPort !== undefined) {
        // Diglot shares topics between its protocols: create it with 8 partitions over Kafka's CreateTopics instead.
        progress(`${name}: creating ${topic} with ${P.queues} partitions over the Kafka protocol instead (kafkajs CreateTopics)`);
        try {
          await createTopicViaKafka(target.kafkaPort, topic);
          step.how = `Kafka CreateTopics (${P.queues} partitions) after mqadmin failed`;
        } catch (e) {
          step.error += `; Kafka CreateTopics fallback failed too: ${(e as Error).message}`;
        }
      }
    }
    if (step.how) {
      // The broker registers the new topic with the name server right away; allow a few seconds anyway.
      for (let i = 0; i < 20; i++) {
        step.queues = await routeQueues(target.namesrvPort, topic);
        if (step.queues?.read === P.queues && step.queues.write === P.queues) break;
        await sleep(500);
      }
      step.ok = step.queues?.read === P.queues && step.queues.write === P.queues;
      if (!step.ok) step.error = `${step.error ? `${step.error}; ` : ''}route for ${topic} shows ${JSON.stringify(step.queues)} queues, expected ${P.queues}`;
    }
    if (!step.ok) {
      result.unavailable = `topic not created: ${step.error}`;
      if (name === 'rocketmq') throw new Error(result.unavailable);
      return result;
    }

    // 2. Producer
    result.produce = await produceStep(target, topic, display, toolOpts, sampler);
    // 3. Consumer (skipped when nothing was stored)
    if (result.produce.figures?.stored) result.consume = await consumeStep(target, topic, group, result.produce.figures.stored, display, toolOpts, sampler);
    else result.consume = { command: [], error: 'not run: the Producer stored no messages' };

    result.hwmMiB = (sumKb(target.pids, 'VmHWM') ?? 0) / 1024 || undefined;
    const cpuEnd = cpuSeconds(target.pids);
    if (cpuStart !== undefined && cpuEnd !== undefined) result.cpuTotalSeconds = cpuEnd - cpuStart;
  } finally {
    sampler.close();
    progress(`${name}: stopping pids ${target.pids.join(', ')}`);
    await target.stop();
    activeStop = undefined;
    if (name === 'diglot') {
      const log = read(target.logFile).trim();
      if (log) result.logTail = tailOf(log, 20);
    }
  }
  return result;
}

type ToolOpts = { logDir: string; heapMb: number; jvmArgs: string[] };

async function produceStep(
  target: RunningTarget,
  topic: string,
  display: (argv: string[]) => string[],
  toolOpts: ToolOpts,
  sampler: ProcSampler,
): Promise<Step<SendFigures>> {
  const argv = ['-n', target.namesrvAddr, '-t', topic, '-w', String(P.threads), '-s', String(P.size), '-q', String(P.messages), '-ri', String(P.reportMs)];
  progress(`${target.name}: benchmark Producer, ${P.messages.toLocaleString('en-US')} messages`);
  const t0 = performance.now();
  const lines: Line[] = [];
  let t90: number | undefined;
  let tFirst: number | undefined;
  const poller = startPolling(target.brokerPort, topic, undefined, t0, (p) => {
    if (tFirst === undefined && p.value > 0) tFirst = p.t;
    if (t90 === undefined && p.value >= P.steadyUntil * P.messages) t90 = p.t;
  });
  // Generous bound: 60 s plus 1 ms per message (1,000 messages/s), far below either broker on any machine.
  const timeoutMs = 60_000 + P.messages;
  let res: ToolResult;
  let usage: Usage;
  try {
    ({ value: res, usage } = await sampler.window(() =>
      runTool(BENCH_PRODUCER, argv, {
        ...toolOpts,
        timeoutMs,
        signal: abort.signal,
        onStdoutLine: (text) => {
          if (!text.trim()) return;
          lines.push({ t: performance.now() - t0, text });
          process.stderr.write(`  | ${text}\n`);
        },
      }),
    ));
  } finally {
    await poller.stop();
  }
  const step: Step<SendFigures> = { command: display(res.command), usage, lines };
  const periodic = lines.filter((l) => !COMPLETE_LINE.test(l.text)).map(parseSendLine).filter((x): x is SendLine => x !== undefined);
  const completeLine = lines.find((l) => COMPLETE_LINE.test(l.text));
  const complete = completeLine ? parseSendLine(completeLine) : undefined;
  // Skip the first interval: windows must start P.skipMs after the first message was stored (JIT and connection
  // warm-up of both sides), and end before P.steadyUntil of the messages were stored (threads finishing unevenly).
  const chosen = periodic.filter((x) => steady(x.t, tFirst === undefined ? undefined : tFirst + P.skipMs, t90));
  const figures: SendFigures = { lines: chosen.length, linesTotal: periodic.length };
  if (chosen.length) {
    figures.tps = mean(chosen.map((x) => x.tps));
    figures.avgRt = mean(chosen.map((x) => x.avgRt));
    figures.maxRt = Math.max(...chosen.map((x) => x.maxRt));
  }
  if (completeLine) figures.sendTotal = Number(COMPLETE_LINE.exec(completeLine.text)?.[1]);
  if (complete) {
    figures.sendFailed = complete.sendFailed;
    figures.responseFailed = complete.responseFailed;
  }
  try {
    const conn = await RemotingConnection.open(target.brokerPort);
    try {
      figures.stored = await queueSum(conn, topic);
    } finally {
      conn.close();
    }
  } catch (e) {
    step.error = `reading the queues' max offsets failed: ${(e as Error).message}`;
  }
  figures.offsetTps = offsetRate(poller.polls, 0, P.messages);
  step.figures = figures;
  if (res.code !== 0 || !completeLine) step.error = toolError(res, 'benchmark Producer');
  else if (!chosen.length) step.error = `no steady-state line (${periodic.length} lines; the run is too short: raise --messages)`;
  if (poller.errors.length) progress(`${target.name}: offset polling errors: ${[...new Set(poller.errors)].join('; ')}`);
  if (step.error) progress(`${target.name}: ${step.error}\n${tailOf(res.stderr || res.stdout, 15)}`);
  return step;
}

async function consumeStep(
  target: RunningTarget,
  topic: string,
  group: string,
  total: number,
  display: (argv: string[]) => string[],
  toolOpts: ToolOpts,
  sampler: ProcSampler,
): Promise<Step<ConsumeFigures>> {
  const argv = ['-n', target.namesrvAddr, '-t', topic, '-g', group, '-w', String(P.threads), '-ri', String(P.reportMs)];
  progress(`${target.name}: benchmark Consumer, group ${group}, until ${total.toLocaleString('en-US')} messages are committed`);
  const t0 = performance.now();
  const lines: Line[] = [];
  const stopConsumer = new AbortController();
  let t90: number | undefined;
  let done: number | undefined;
  let firstCommitted: number | undefined;
  let tFirst: number | undefined;
  let stall: string | undefined;
  let lastChange = { t: 0, value: 0 };
  // The Consumer never exits by itself: it is stopped once the committed offsets cover every stored message, when
  // they stop moving for 30 s, or at the bound below.
  const boundMs = 60_000 + P.messages * 0.5;
  const poller = startPolling(target.brokerPort, topic, group, t0, (p) => {
    if (firstCommitted === undefined && p.value > 0) {
      firstCommitted = p.value;
      tFirst = p.t;
    }
    if (t90 === undefined && p.value >= P.steadyUntil * total) t90 = p.t;
    if (p.value !== lastChange.value) lastChange = { t: p.t, value: p.value };
    if (done === undefined && p.value >= total) {
      done = p.t;
      stopConsumer.abort();
    } else if (p.t - lastChange.t > 30_000 && !stopConsumer.signal.aborted) {
      stall = `committed offsets stuck at ${p.value.toLocaleString('en-US')} of ${total.toLocaleString('en-US')} for 30 s`;
      stopConsumer.abort();
    } else if (p.t > boundMs && !stopConsumer.signal.aborted) {
      stall = `bound of ${(boundMs / 1000).toFixed(0)} s reached at ${p.value.toLocaleString('en-US')} of ${total.toLocaleString('en-US')} committed`;
      stopConsumer.abort();
    }
  });
  let res: ToolResult;
  let usage: Usage;
  try {
    ({ value: res, usage } = await sampler.window(() =>
      runTool(BENCH_CONSUMER, argv, {
        ...toolOpts,
        timeoutMs: boundMs + 30_000,
        signal: AbortSignal.any([abort.signal, stopConsumer.signal]),
        onStdoutLine: (text) => {
          if (!text.trim()) return;
          lines.push({ t: performance.now() - t0, text });
          process.stderr.write(`  | ${text}\n`);
        },
      }),
    ));
  } finally {
    await poller.stop();
  }
  const step: Step<ConsumeFigures> = { command: display(res.command), usage, lines };
  const periodic = lines
    .map((l) => ({ t: l.t, m: CONSUME_LINE.exec(l.text) }))
    .filter((x): x is { t: number; m: RegExpExecArray } => x.m !== null)
    .map((x) => ({ t: x.t, tps: Number(x.m[1]) }));
  // Windows entirely inside the drain: after the first committed offset was seen, before P.steadyUntil of the
  // backlog was committed. No further warm-up skip: a fast broker drains the backlog in a few windows.
  const chosen = periodic.filter((x) => steady(x.t, tFirst, t90));
  const figures: ConsumeFigures = { lines: chosen.length, linesTotal: periodic.length, consumed: lastChange.value };
  if (chosen.length) figures.tps = mean(chosen.map((x) => x.tps));
  if (firstCommitted !== undefined) figures.firstCommitted = firstCommitted;
  figures.offsetTps = offsetRate(poller.polls, 0, total);
  if (done !== undefined) figures.drainSeconds = done / 1000;
  step.figures = figures;
  if (abort.signal.aborted) step.error = 'interrupted';
  else if (stall) step.error = `benchmark Consumer: ${stall}`;
  else if (done === undefined) step.error = toolError(res, 'benchmark Consumer');
  else if (firstCommitted !== undefined && firstCommitted > 0.5 * total) {
    step.error = `the first committed offsets already covered ${firstCommitted.toLocaleString('en-US')} of ${total.toLocaleString('en-US')} messages: the Consumer did not start from the first offset`;
  } else if (!chosen.length) step.error = `no steady-state line (${periodic.length} lines; the backlog drained too fast: raise --messages)`;
  if (poller.errors.length) progress(`${target.name}: offset polling errors: ${[...new Set(poller.errors)].join('; ')}`);
  if (step.error) progress(`${target.name}: ${step.error}\n${tailOf(res.stderr || res.stdout, 15)}`);
  return step;
}

// ---------------------------------------------------------------- report

const fmtInt = (x: number) => Math.round(x).toLocaleString('en-US');
const fmt = (x: number, digits = 1) => x.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });

interface Row {
  section: string;
  metric: string;
  get: (r: TargetResult) => number | undefined;
  format: (x: number) => string;
  target?: { kind: 'min' | 'max'; value: number };
  note?: string;
}

const ROWS: Row[] = (() => {
  const rows: Row[] = [];
  const TPS = { kind: 'min', value: 1.5 } as const;
  const RT = { kind: 'max', value: 1.0 } as const;
  const ms3 = (x: number) => fmt(x, 3);
  const s1 = (x: number) => fmt(x, 1);
  const mib = (x: number) => fmt(x, 0);
  const pf = (r: TargetResult) => r.produce?.figures;
  const pu = (r: TargetResult) => (r.produce?.figures ? r.produce.usage : undefined);
  const cf = (r: TargetResult) => r.consume?.figures;
  const cu = (r: TargetResult) => (r.consume?.figures ? r.consume.usage : undefined);
  let section = 'send (Producer)';
  rows.push({ section, metric: 'send TPS (steady state)', get: (r) => pf(r)?.tps, format: fmtInt, target: TPS });
  rows.push({ section, metric: 'average RT ms (steady state)', get: (r) => pf(r)?.avgRt, format: ms3, target: RT });
  rows.push({ section, metric: 'max RT ms', get: (r) => pf(r)?.maxRt, format: fmtInt, note: "tool's running max since start" });
  rows.push({ section, metric: 'send TPS (broker offsets 10→90 %)', get: (r) => pf(r)?.offsetTps, format: fmtInt, note: 'cross-check' });
  rows.push({ section, metric: 'steady-state lines used', get: (r) => pf(r)?.lines, format: fmtInt });
  rows.push({ section, metric: 'messages stored', get: (r) => pf(r)?.stored, format: fmtInt });
  rows.push({ section, metric: 'send failed + response failed', get: (r) => { const f = pf(r); return f?.sendFailed === undefined ? undefined : f.sendFailed + (f.responseFailed ?? 0); }, format: fmtInt });
  rows.push({ section, metric: 'broker CPU s', get: (r) => pu(r)?.cpuSeconds, format: s1 });
  rows.push({ section, metric: 'broker CPU µs/message', get: (r) => { const c = pu(r)?.cpuSeconds; const n = pf(r)?.stored; return c !== undefined && n ? (c * 1e6) / n : undefined; }, format: s1 });
  rows.push({ section, metric: 'broker peak RSS MiB', get: (r) => pu(r)?.peakRssMiB, format: mib });
  rows.push({ section, metric: 'broker peak RssAnon MiB', get: (r) => pu(r)?.peakRssAnonMiB, format: mib, note: 'RSS without mapped files' });
  rows.push({ section, metric: 'perf tool CPU s', get: (r) => pu(r)?.toolCpuSeconds, format: s1, note: 'client JVM + this script' });
  rows.push({ section, metric: 'other processes CPU s', get: (r) => pu(r)?.otherCpuSeconds, format: s1, note: 'noise; ideally ~0' });
  rows.push({ section, metric: 'step wall s', get: (r) => pu(r)?.wallSeconds, format: s1 });
  section = 'consume (Consumer)';
  rows.push({ section, metric: 'consume TPS (steady state)', get: (r) => cf(r)?.tps, format: fmtInt, target: TPS });
  rows.push({ section, metric: 'consume TPS (broker offsets 10→90 %)', get: (r) => cf(r)?.offsetTps, format: fmtInt, note: 'cross-check' });
  rows.push({ section, metric: 'steady-state lines used', get: (r) => cf(r)?.lines, format: fmtInt });
  rows.push({ section, metric: 'messages consumed (committed)', get: (r) => cf(r)?.consumed, format: fmtInt });
  rows.push({ section, metric: 'drain time s (incl. JVM start)', get: (r) => cf(r)?.drainSeconds, format: s1 });
  rows.push({ section, metric: 'broker CPU s', get: (r) => cu(r)?.cpuSeconds, format: s1 });
  rows.push({ section, metric: 'broker CPU µs/message', get: (r) => { const c = cu(r)?.cpuSeconds; const n = cf(r)?.consumed; return c !== undefined && n ? (c * 1e6) / n : undefined; }, format: s1 });
  rows.push({ section, metric: 'broker peak RSS MiB', get: (r) => cu(r)?.peakRssMiB, format: mib });
  rows.push({ section, metric: 'broker peak RssAnon MiB', get: (r) => cu(r)?.peakRssAnonMiB, format: mib, note: 'RSS without mapped files' });
  rows.push({ section, metric: 'perf tool CPU s', get: (r) => cu(r)?.toolCpuSeconds, format: s1, note: 'client JVM + this script' });
  rows.push({ section, metric: 'other processes CPU s', get: (r) => cu(r)?.otherCpuSeconds, format: s1, note: 'noise; ideally ~0' });
  rows.push({ section, metric: 'step wall s', get: (r) => cu(r)?.wallSeconds, format: s1 });
  section = 'whole run';
  rows.push({ section, metric: 'broker start s', get: (r) => r.startSeconds, format: s1 });
  rows.push({ section, metric: 'broker CPU s (topic + both steps)', get: (r) => r.cpuTotalSeconds, format: s1 });
  rows.push({ section, metric: 'broker peak RSS MiB (Σ VmHWM)', get: (r) => r.hwmMiB, format: mib });
  return rows;
})();


/** Mean of a metric over the rounds that produced it. */
function meanOver(results: TargetResult[], get: (r: TargetResult) => number | undefined): number | undefined {
  return mean(results.map(get).filter((x): x is number => x !== undefined && Number.isFinite(x)));
}

function report(all: TargetResult[], meta: Record<string, string>): string {
  const rmq = all.filter((r) => r.name === 'rocketmq');
  const dig = all.filter((r) => r.name === 'diglot');
  const out: string[] = [];
  out.push(`# bench:rocketmq — ${LABEL.rocketmq} vs ${LABEL.diglot}, RocketMQ's benchmark Producer/Consumer, one broker at a time`);
  out.push('');
  for (const [key, value] of Object.entries(meta)) out.push(`${`${key}:`.padEnd(13)} ${value}`);
  out.push('');
  const rounds = Math.max(rmq.length, dig.length);
  if (rounds > 1) out.push(`Figures are means over ${rounds} rounds (per-round values below the table).`);
  const cell = (results: TargetResult[], row: Row, only: TargetName): string => {
    if (!P.targets.includes(only)) return 'skipped';
    if (results.length && results.every((r) => r.unavailable)) return 'n/a';
    const v = meanOver(results, row.get);
    return v === undefined ? 'n/a' : row.format(v);
  };
  const body: string[][] = [];
  let last = '';
  for (const row of ROWS) {
    const a = meanOver(rmq, row.get);
    const b = meanOver(dig, row.get);
    const ratio = a !== undefined && b !== undefined && a !== 0 ? b / a : undefined;
    let target = row.note ?? '';
    if (row.target) {
      const goal = `${row.target.kind === 'min' ? '≥' : '≤'} ${row.target.value.toFixed(2)}×`;
      const met = ratio === undefined ? '' : (row.target.kind === 'min' ? ratio >= row.target.value : ratio <= row.target.value) ? '  met' : '  NOT met';
      target = goal + met;
    }
    body.push([row.section === last ? '' : row.section, row.metric, cell(rmq, row, 'rocketmq'), cell(dig, row, 'diglot'), ratio === undefined ? '' : `${ratio.toFixed(2)}×`, target]);
    last = row.section;
  }
  out.push(table(['step', 'metric', LABEL.rocketmq, LABEL.diglot, 'Diglot/RocketMQ', 'target'], body, ['l', 'l', 'r', 'r', 'r', 'l']));
  out.push('');
  out.push(`Steady state: both tools print one line per second (-ri ${P.reportMs}), each over their last 10 one-second snapshots (a`);
  out.push(`window of <= 10 s before the line). Progress is read from the broker's queue offsets every ${P.pollMs} ms. Send lines used:`);
  out.push(`window starts >= ${P.skipMs / 1000} s after the first message was stored (the first interval is skipped) and the line came`);
  out.push(`before ${P.steadyUntil * 100} % of the messages were stored. Consume lines used: window starts after the first committed`);
  out.push(`offset was seen and the line came before ${P.steadyUntil * 100} % of the backlog was committed. TPS and average RT are means`);
  out.push("over those lines; max RT is the Producer's running maximum (never reset, so it includes the first interval).");
  out.push('Broker CPU = utime+stime of the broker process(es) over the step (Apache RocketMQ:');
  out.push(`name server + broker JVMs; Diglot: its one node process); RSS = sum of VmRSS over them, sampled every ${P.sampleMs} ms.`);

  if (rounds > 1) {
    out.push('');
    out.push('Per round (order alternates: odd rounds Apache RocketMQ first):');
    const key = ROWS.filter((r) => r.target);
    const rb: string[][] = [];
    for (let i = 1; i <= rounds; i++) {
      const a = rmq.find((r) => r.round === i);
      const b = dig.find((r) => r.round === i);
      for (const row of key) {
        const va = a && row.get(a);
        const vb = b && row.get(b);
        rb.push([String(i), row.metric, va === undefined ? 'n/a' : row.format(va), vb === undefined ? 'n/a' : row.format(vb), va && vb !== undefined ? `${(vb / va).toFixed(2)}×` : '']);
      }
    }
    out.push(table(['round', 'metric', LABEL.rocketmq, LABEL.diglot, 'Diglot/RocketMQ'], rb, ['r', 'l', 'r', 'r', 'r']));
  }

  const problems: string[] = [];
  for (const r of all) {
    const who = `${r.label} (round ${r.round})`;
    if (r.unavailable) problems.push(`${who}: ${r.unavailable}`);
    if (r.topic?.how && r.topic.error) problems.push(`${who}: topic: ${r.topic.error} → created by ${r.topic.how}`);
    if (r.produce?.error) problems.push(`${who}: ${r.produce.error}`);
    if (r.consume?.error) problems.push(`${who}: ${r.consume.error}`);
  }
  if (problems.length) {
    out.push('');
    out.push('Problems:');
    for (const p of [...new Set(problems)]) out.push(`  - ${p}`);
  }
  const firstWith = (name: TargetName) => all.find((r) => r.name === name && r.commands);
  out.push('');
  out.push('Brokers:');
  for (const name of TARGETS) {
    const r = firstWith(name);
    if (!r?.commands) continue;
    out.push(`  ${r.label}:`);
    for (const c of r.commands) out.push(`    ${c.join(' ')}`);
  }
  out.push('');
  out.push('Tool commands, identical for both ($NAMESRV = 127.0.0.1:<name server port>; Diglot: its RocketMQ port), in this order:');
  const any = all.find((r) => r.produce?.command.length) ?? all.find((r) => r.topic);
  if (any) {
    const steps = [any.topic?.command, any.produce?.command, any.consume?.command].filter((c): c is string[] => !!c?.length);
    let jvm = '';
    for (const c of steps) {
      const main = c.findIndex((arg) => arg.startsWith('org.apache.rocketmq.'));
      if (main < 0) continue;
      const prefix = c.slice(0, main).join(' ');
      const isExample = c[main]!.includes('.example.');
      out.push(`  ${isExample ? 'E' : 'T'} ${c.slice(main).join(' ')}`);
      if (isExample) jvm ||= prefix;
      else out.push(`    where T = ${prefix.replace("'lib/*'", "'reference/rocketmq/lib/*'")}`);
    }
    if (jvm) out.push(`    where E = ${jvm.replace("'lib-example/*'", "'reference/rocketmq/lib-example/*'")}`);
    out.push('  (the Consumer is stopped with SIGTERM once the committed offsets cover every stored message)');
  }
  return out.join('\n');
}

function machineInfo(workDir: string): Record<string, string> {
  const cpus = os.cpus();
  const javaVersion = spawnSync(javaBin(), ['-version'], { encoding: 'utf8' }).stderr.split('\n').slice(0, 1).join('; ').trim();
  const fsType = spawnSync('stat', ['-f', '-c', '%T', workDir], { encoding: 'utf8' }).stdout.trim();
  const git = spawnSync('git', ['-C', ROOT, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).stdout.trim();
  const dirty = spawnSync('git', ['-C', ROOT, 'status', '--porcelain', '--', 'src', 'bin'], { encoding: 'utf8' }).stdout.trim() !== '';
  return {
    date: new Date().toISOString(),
    machine: `${cpus[0]?.model ?? 'unknown CPU'}, ${cpus.length} cores, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB RAM, ${os.type()} ${os.release()}`,
    disk: `${workDir} (${fsType || 'unknown fs'})`,
    memory: memoryNote(),
    software:
      `Node ${process.version}; ${javaVersion}; Apache RocketMQ ${ROCKETMQ_VERSION} server jars, benchmark tools from rocketmq-example ` +
      `${EXAMPLE_VERSION} (Maven Central); Diglot ${diglotVersion()} @ ${git || '?'}${dirty ? ' (src/bin modified in the working tree)' : ''}`,
    workload:
      `topic with ${P.queues} queues; Producer -w ${P.threads} -s ${P.size} -q ${P.messages} (synchronous sends); ` +
      `Consumer -w ${P.threads}, new group, reads the ${P.messages.toLocaleString('en-US')} messages back`,
    rounds: `${P.rounds} (${P.targets.join(', ')})`,
    load: `load average ${os.loadavg().map((x) => x.toFixed(2)).join(' ')} at the start (${cpus.length} cores)`,
    jvm:
      `Apache name server -Xmx${P.rmqNamesrvHeapMb}m, broker -Xmx${P.rmqBrokerHeapMb}m (G1, 128 MiB commit-log files, ASYNC_FLUSH); ` +
      `tools -Xms/-Xmx${P.toolHeapMb}m SerialGC, full JIT`,
    durability: 'both at defaults: Apache ASYNC_FLUSH (flush thread every 500 ms), Diglot fdatasync every 500 ms (flushMode interval)',
  };
}

// ---------------------------------------------------------------- main

async function main(): Promise<void> {
  const t0 = performance.now();
  fs.mkdirSync(P.dir, { recursive: true });
  const workDir = fs.mkdtempSync(path.join(fs.realpathSync(P.dir), 'bench-rocketmq-'));
  const runId = Date.now().toString(36);
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
    await ensureRocketmqJars({ log: progress });
    const meta = machineInfo(workDir);
    meta.jars = `reference/rocketmq/lib, lib-example (${lastJarFetchMs ? `fetched in ${(lastJarFetchMs / 1000).toFixed(1)} s` : 'cached'})`;
    const results: TargetResult[] = [];
    for (let round = 1; round <= P.rounds; round++) {
      const order = round % 2 === 1 ? P.targets : [...P.targets].reverse();
      for (const name of order) {
        progress(`--- round ${round}/${P.rounds}: ${name}`);
        results.push(await benchTarget(name, round, runId, workDir));
        // Each target's data is gone before the next one starts: same free disk, same page cache pressure.
        if (!P.keep) fs.rmSync(path.join(workDir, `${name}-r${round}`), { recursive: true, force: true, maxRetries: 3 });
      }
    }
    meta.duration = `${((performance.now() - t0) / 1000).toFixed(0)} s for the whole run`;
    process.stdout.write(`${report(results, meta)}\n`);
    const diglotLogs = results.filter((r) => r.logTail);
    if (diglotLogs.length) progress(`Diglot log (warn and above), last lines:\n${diglotLogs.at(-1)!.logTail}`);
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
