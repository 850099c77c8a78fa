// The broker under test: Diglot (default) or Apache Kafka 4.3.1 (CONFORMANCE_TARGET=kafka), on 127.0.0.1,
// with start, restart (same ports, same data) and stop.
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
  /** 'diglot' or 'kafka'. */
  readonly name: string;
  /** host:port for clients. */
  readonly bootstrap: string;
  readonly port: number;
  /** Set when the broker process runs but its Kafka port is not usable: every cell fails with this reason. */
  readonly unavailable: string | undefined;
  /** One line: what runs where (version, pid, data directory). */
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
  port = 0;
  unavailable: string | undefined;
  private child: ChildProcess | undefined;
  private rocketmqPort = 0;
  private readonly logFile: string;
  private lastKafkaLine: Record<string, unknown> | undefined;

  private readonly dataDir: string;
  private readonly log: Log;

  constructor(dataDir: string, log: Log) {
    this.dataDir = dataDir;
    this.log = log;
    this.logFile = path.join(dataDir, '..', 'diglot.log');
  }

  get bootstrap(): string {
    return `127.0.0.1:${this.port}`;
  }

  describe(): string {
    const v = (this.lastKafkaLine?.['advertisedHost'] as string | undefined) ?? '?';
    return `Diglot (node bin/diglot.mjs) pid ${this.child?.pid} on ${this.bootstrap} (advertisedHost ${v}), data ${this.dataDir}, log ${this.logFile}`;
  }

  async start(): Promise<void> {
    if (this.port === 0) {
      this.port = await freePort();
      this.rocketmqPort = await freePort();
    }
    const args = [
      ...NODE_FLAGS,
      path.join(REPO, 'bin', 'diglot.mjs'),
      'start',
      '--kafka-port', String(this.port),
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
    let kafkaNote = '';
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
        if (rec['component'] === 'kafka' && typeof rec['port'] === 'number') {
          this.lastKafkaLine = rec;
          if (rec['port'] !== 0) this.port = rec['port'] as number;
          kafkaNote = String(rec['msg'] ?? '');
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
    let reachable = false;
    for (let i = 0; i < 50 && !reachable; i++) {
      reachable = await canConnect(this.port);
      if (!reachable) await sleep(100);
    }
    this.unavailable = reachable
      ? undefined
      : `Diglot's Kafka port ${this.port} accepts no connection (its log: "${kafkaNote || 'no kafka listener line'}")`;
    this.log(`diglot ready (pid ${child.pid}), kafka ${this.bootstrap}${this.unavailable ? `: ${this.unavailable}` : ''}`);
  }

  async stop(): Promise<void> {
    if (this.child) await terminate(this.child, 25_000);
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  alive(): boolean {
    return this.child !== undefined && !exited(this.child);
  }

  logTail(lines = 30): string {
    return tailOf(this.logFile, lines);
  }
}

// ------------------------------------------------------------------ Apache Kafka (reference/kafka/kafka.ts)

interface KafkaBroker {
  port: number;
  pid: number;
  dataDir: string;
  logFile: string;
  configFile: string;
  stop(): Promise<void>;
}

interface KafkaModule {
  KAFKA_VERSION: string;
  ensureKafkaJars(opts?: { log?: Log }): Promise<string>;
  startKafka(opts: { port: number; dataDir: string; heapMb?: number; log?: Log; overrides?: Record<string, string> }): Promise<KafkaBroker>;
  javaBin(): string;
  classpath(libDir?: string): string;
  JVM_PERFORMANCE_OPTS: string[];
  LOG4J2_PROPERTIES: string;
}

export async function loadKafkaModule(): Promise<KafkaModule> {
  const file = path.join(REPO, 'reference', 'kafka', 'kafka.ts');
  if (!fs.existsSync(file)) throw new Error(`${path.relative(REPO, file)} does not exist yet: cannot run Apache Kafka`);
  return (await import(file)) as KafkaModule;
}

class KafkaTarget implements Target {
  readonly name = 'kafka';
  port = 0;
  readonly unavailable = undefined;
  private broker: KafkaBroker | undefined;
  /** After a restart we run kafka.Kafka ourselves (startKafka formats a fresh data directory each time). */
  private restarted: ChildProcess | undefined;
  private libDir = '';

  private readonly mod: KafkaModule;
  private readonly dataDir: string;
  private readonly log: Log;

  constructor(mod: KafkaModule, dataDir: string, log: Log) {
    this.mod = mod;
    this.dataDir = dataDir;
    this.log = log;
  }

  get bootstrap(): string {
    return `127.0.0.1:${this.port}`;
  }

  describe(): string {
    const pid = this.restarted?.pid ?? this.broker?.pid;
    return `Apache Kafka ${this.mod.KAFKA_VERSION} (reference/kafka/kafka.ts) pid ${pid} on ${this.bootstrap}, data ${this.dataDir}, log ${this.broker?.logFile}`;
  }

  async start(): Promise<void> {
    this.libDir = await this.mod.ensureKafkaJars({ log: this.log });
    this.port = await freePort();
    this.broker = await this.mod.startKafka({ port: this.port, dataDir: this.dataDir, heapMb: 768, log: this.log });
  }

  async stop(): Promise<void> {
    if (this.restarted) await terminate(this.restarted, 30_000);
    else await this.broker?.stop();
  }

  async restart(): Promise<void> {
    const b = this.broker!;
    await this.stop();
    const started = (fs.readFileSync(b.logFile, 'utf8').match(/Kafka Server started/g) ?? []).length;
    const args = [
      '-Xms768m', '-Xmx768m',
      '-cp', this.mod.classpath(this.libDir),
      ...this.mod.JVM_PERFORMANCE_OPTS,
      `-Dlog4j2.configurationFile=${this.mod.LOG4J2_PROPERTIES}`,
      '-Dkafka.ref.logLevel=INFO',
      'kafka.Kafka', b.configFile,
    ];
    const out = fs.openSync(b.logFile, 'a');
    const child = spawn(this.mod.javaBin(), args, { stdio: ['ignore', out, out] });
    fs.closeSync(out);
    this.restarted = child;
    const deadline = Date.now() + 90_000;
    for (;;) {
      if (exited(child)) throw new Error(`kafka exited with ${child.exitCode ?? child.signalCode} on restart\n${tailOf(b.logFile, 20)}`);
      const n = (fs.readFileSync(b.logFile, 'utf8').match(/Kafka Server started/g) ?? []).length;
      if (n > started && (await canConnect(this.port))) break;
      if (Date.now() > deadline) throw new Error(`kafka did not come back within 90 s\n${tailOf(b.logFile, 20)}`);
      await sleep(200);
    }
    this.log(`kafka restarted (pid ${child.pid})`);
  }

  alive(): boolean {
    if (this.restarted) return !exited(this.restarted);
    if (!this.broker) return false;
    try {
      return process.kill(this.broker.pid, 0);
    } catch {
      return false;
    }
  }

  logTail(lines = 30): string {
    return this.broker ? tailOf(this.broker.logFile, lines) : '';
  }
}

export async function startTarget(kind: string, log: Log): Promise<{ target: Target; workDir: string }> {
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), `conformance-kafka-${kind}-`));
  const dataDir = path.join(workDir, 'data');
  if (kind === 'diglot') {
    fs.mkdirSync(dataDir, { recursive: true });
    const t = new DiglotTarget(dataDir, log);
    await t.start();
    return { target: t, workDir };
  }
  if (kind === 'kafka') {
    const t = new KafkaTarget(await loadKafkaModule(), dataDir, log);
    await t.start();
    return { target: t, workDir };
  }
  throw new Error(`CONFORMANCE_TARGET=${kind}: want diglot or kafka`);
}
