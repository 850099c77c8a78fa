// The broker under test for the RocketMQ conformance runner: Diglot (default) or Apache RocketMQ 5.3.3
// (CONFORMANCE_TARGET=rocketmq, via reference/rocketmq/rocketmq.ts), on 127.0.0.1, with start, restart (same ports,
// same data) and stop.
import { NODE_FLAGS } from '../../../bin/node-flags.mjs';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import process from 'node:process';
import { fileURLToPath } from 'node:url';
import { canConnect, exited, freePort, sleep, tailOfFile as tailOf, terminate } from '../../../reference/lib/process.ts';

const HERE = path.dirname(fileURLToPath(import.meta.url));
export const REPO = path.resolve(HERE, '..', '..', '..');

export interface Target {
  /** 'diglot' or 'rocketmq'. */
  readonly name: string;
  /** host:port of the name server, what drivers get as NAMESRV. */
  readonly namesrv: string;
  /** The RocketMQ ports on 127.0.0.1, name server first (Diglot: one port for both roles). */
  readonly rocketmqPorts: number[];
  /** host:port of a Kafka listener on the same broker ('' when there is none), what drivers get as KAFKA_BOOTSTRAP. */
  readonly kafkaBootstrap: string;
  /** Set when the broker runs but its RocketMQ listener is not usable: every cell fails with this reason. */
  readonly unavailable: string | undefined;
  /** One line: what runs where (version, pids, data directory, logs). */
  describe(): string;
  /** Stops the broker and starts it again on the same ports over the same data. */
  restart(): Promise<void>;
  stop(): Promise<void>;
  /** False once the broker process has exited. */
  alive(): boolean;
  /** Last lines of the broker's log, for failure reports. */
  logTail(lines?: number): string;
}

type Log = (line: string) => void;


// ------------------------------------------------------------------ Diglot

class DiglotTarget implements Target {
  readonly name = 'diglot';
  unavailable: string | undefined;
  private child: ChildProcess | undefined;
  private kafkaPort = 0;
  private rocketmqPort = 0;
  private readonly logFile: string;
  private rocketmqLine: Record<string, unknown> | undefined;

  private readonly dataDir: string;
  private readonly log: Log;

  constructor(dataDir: string, log: Log) {
    this.dataDir = dataDir;
    this.log = log;
    this.logFile = path.join(dataDir, '..', 'diglot.log');
  }

  get namesrv(): string {
    return `127.0.0.1:${this.rocketmqPort}`;
  }

  get rocketmqPorts(): number[] {
    return [this.rocketmqPort];
  }

  get kafkaBootstrap(): string {
    return `127.0.0.1:${this.kafkaPort}`;
  }

  describe(): string {
    const adv = (this.rocketmqLine?.['advertisedAddress'] as string | undefined) ?? '?';
    return `Diglot (node bin/diglot.mjs) pid ${this.child?.pid}, RocketMQ name server + broker on ${this.namesrv} (advertised ${adv}), Kafka on ${this.kafkaBootstrap}, data ${this.dataDir}, log ${this.logFile}`;
  }

  async start(): Promise<void> {
    if (this.kafkaPort === 0) {
      this.kafkaPort = await freePort();
      this.rocketmqPort = await freePort();
    }
    const args = [
      ...NODE_FLAGS,
      path.join(REPO, 'bin', 'diglot.mjs'),
      'start',
      '--kafka-port', String(this.kafkaPort),
      '--rocketmq-port', String(this.rocketmqPort),
      '--admin-port', '0',
      '--data-dir', this.dataDir,
      '--host', '127.0.0.1',
      '--shutdown-timeout-ms', '20000',
    ];
    const out = fs.openSync(this.logFile, 'a');
    const child = spawn(process.execPath, args, { cwd: REPO, stdio: ['ignore', 'pipe', out] });
    fs.closeSync(out);
    this.child = child;
    let ready = false;
    let rocketmqBound = false;
    let rocketmqNote = '';
    let buf = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      fs.appendFileSync(this.logFile, chunk);
      buf += chunk.toString('utf8');
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        let rec: Record<string, unknown>;
        try {
          rec = JSON.parse(line) as Record<string, unknown>;
        } catch {
          continue;
        }
        if (rec['component'] === 'kafka' && typeof rec['port'] === 'number' && rec['port'] !== 0) this.kafkaPort = rec['port'];
        if (rec['component'] === 'rocketmq') {
          const msg = String(rec['msg'] ?? '');
          if (typeof rec['port'] === 'number' && msg.startsWith('rocketmq listener on')) {
            this.rocketmqLine = rec;
            if (rec['port'] !== 0) this.rocketmqPort = rec['port'];
            rocketmqBound = true;
          } else if (!rocketmqNote) {
            rocketmqNote = msg;
          }
        }
        if (rec['msg'] === 'ready') ready = true;
      }
    });
    const deadline = Date.now() + 60_000;
    while (!ready) {
      if (exited(child)) throw new Error(`diglot exited with ${child.exitCode ?? child.signalCode} before 'ready'\n${tailOf(this.logFile, 20)}`);
      if (Date.now() > deadline) {
        await terminate(child, 5000);
        throw new Error(`diglot not ready within 60 s\n${tailOf(this.logFile, 20)}`);
      }
      await sleep(50);
    }
    if (!rocketmqBound) {
      this.unavailable =
        `rocketmq listener not bound: Diglot logged no "rocketmq listener on host:port" line before "ready"` +
        (rocketmqNote ? ` (its rocketmq log line: "${rocketmqNote}")` : '');
    } else {
      let reachable = false;
      for (let i = 0; i < 50 && !reachable; i++) {
        reachable = await canConnect(this.rocketmqPort);
        if (!reachable) await sleep(100);
      }
      this.unavailable = reachable ? undefined : `rocketmq listener not bound: port ${this.rocketmqPort} accepts no connection although Diglot logged "${String(this.rocketmqLine?.['msg'])}"`;
    }
    this.log(`diglot ready (pid ${child.pid}), rocketmq ${this.namesrv}, kafka ${this.kafkaBootstrap}${this.unavailable ? `: ${this.unavailable}` : ''}`);
  }

  async stop(): Promise<void> {
    if (this.child) await terminate(this.child, 25_000);
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.start();
    if (this.unavailable) throw new Error(this.unavailable);
  }

  alive(): boolean {
    return this.child !== undefined && !exited(this.child);
  }

  logTail(lines = 30): string {
    return tailOf(this.logFile, lines);
  }
}

// ------------------------------------------------------------------ Apache RocketMQ (reference/rocketmq/rocketmq.ts)

interface RocketmqBroker {
  namesrvPort: number;
  brokerPort: number;
  namesrvAddr: string;
  brokerAddr: string;
  dataDir: string;
  logDir: string;
  brokerLog: string;
  namesrvPid(): number | undefined;
  brokerPid(): number | undefined;
  alive(): boolean;
  restart(opts?: { nameServer?: boolean }): Promise<void>;
  stop(): Promise<void>;
}

interface RocketmqModule {
  ROCKETMQ_VERSION: string;
  startRocketmq(opts: { dataDir: string; logDir?: string; namesrvHeapMb?: number; brokerHeapMb?: number; log?: Log }): Promise<RocketmqBroker>;
}

export const REFERENCE_TS = path.join(REPO, 'reference', 'rocketmq', 'rocketmq.ts');

async function loadRocketmqModule(): Promise<RocketmqModule> {
  if (!fs.existsSync(REFERENCE_TS)) throw new Error(`${path.relative(REPO, REFERENCE_TS)} does not exist: cannot run Apache RocketMQ`);
  return (await import(REFERENCE_TS)) as RocketmqModule;
}

class RocketmqTarget implements Target {
  readonly name = 'rocketmq';
  readonly unavailable = undefined;
  readonly kafkaBootstrap = '';
  private broker: RocketmqBroker | undefined;

  private readonly mod: RocketmqModule;
  private readonly dataDir: string;
  private readonly log: Log;

  constructor(mod: RocketmqModule, dataDir: string, log: Log) {
    this.mod = mod;
    this.dataDir = dataDir;
    this.log = log;
  }

  get namesrv(): string {
    return this.broker?.namesrvAddr ?? '';
  }

  get rocketmqPorts(): number[] {
    return this.broker ? [this.broker.namesrvPort, this.broker.brokerPort] : [];
  }

  describe(): string {
    const b = this.broker;
    return `Apache RocketMQ ${this.mod.ROCKETMQ_VERSION} (reference/rocketmq/rocketmq.ts) name server pid ${b?.namesrvPid()} on ${b?.namesrvAddr}, broker pid ${b?.brokerPid()} on ${b?.brokerAddr}, data ${this.dataDir}, logs ${b?.logDir}`;
  }

  async start(): Promise<void> {
    this.broker = await this.mod.startRocketmq({ dataDir: this.dataDir, namesrvHeapMb: 256, brokerHeapMb: 1024, log: this.log });
  }

  async stop(): Promise<void> {
    await this.broker?.stop();
  }

  /** Name server and broker, as Diglot's one process restarts both roles. */
  async restart(): Promise<void> {
    await this.broker!.restart();
  }

  alive(): boolean {
    return this.broker?.alive() ?? false;
  }

  logTail(lines = 30): string {
    return this.broker ? tailOf(this.broker.brokerLog, lines) : '';
  }
}

export async function startTarget(kind: string, log: Log): Promise<{ target: Target; workDir: string }> {
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), `conformance-rocketmq-${kind}-`));
  const dataDir = path.join(workDir, 'data');
  fs.mkdirSync(dataDir, { recursive: true });
  if (kind === 'diglot') {
    const t = new DiglotTarget(dataDir, log);
    await t.start();
    return { target: t, workDir };
  }
  if (kind === 'rocketmq') {
    const t = new RocketmqTarget(await loadRocketmqModule(), dataDir, log);
    await t.start();
    return { target: t, workDir };
  }
  throw new Error(`CONFORMANCE_TARGET=${kind}: want diglot or rocketmq`);
}
