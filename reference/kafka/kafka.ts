// Apache Kafka 4.3.1 as a reference broker, from Maven Central jars only (no tarball, no Docker).
// See ../../../shared/protocol/kafka-notes.md §3 for where the pieces come from.
//
//   ensureKafkaJars()            copies every runtime jar of pom.xml into reference/kafka/lib/ (once)
//   startKafka({port, dataDir})  formats a single-node KRaft (broker+controller) and starts kafka.Kafka
//   runTool(mainClass, args)     runs a tools class (TopicCommand, ProducerPerformance, ...) on that classpath
//
// `node reference/kafka/kafka.ts smoke` starts Kafka, creates a topic, produces 10,000 records with
// ProducerPerformance and stops it: the check that this file works on a machine.
// `node reference/kafka/kafka.ts jars` only fetches the jars.
//
// Needs `java` (17+) and `mvn` on PATH (or JAVA_HOME / MVN). All sockets are on 127.0.0.1.

import { spawn } from 'node:child_process';
import { randomBytes, createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import process from 'node:process';
import { fileURLToPath } from 'node:url';
import { exited, freePort, run, sleep, tail, terminate, waitForPort } from '../lib/process.ts';

export { freePort, waitForPort };

export const KAFKA_VERSION = '4.3.1';

const HERE = path.dirname(fileURLToPath(import.meta.url));
export const POM = path.join(HERE, 'pom.xml');
export const LOG4J2_PROPERTIES = path.join(HERE, 'log4j2.properties');
export const SERVER_PROPERTIES_TEMPLATE = path.join(HERE, 'server.properties');
/** Jar cache; gitignored (reference/kafka/.gitignore). KAFKA_REF_LIB moves it. */
export const LIB_DIR = process.env.KAFKA_REF_LIB ? path.resolve(process.env.KAFKA_REF_LIB) : path.join(HERE, 'lib');
/** Written into LIB_DIR after a complete copy; holds the sha256 of pom.xml so an edited pom refetches. */
const MARKER = '.complete';

/** JVM flags of Kafka's bin/kafka-run-class.sh (KAFKA_JVM_PERFORMANCE_OPTS), used for the broker and the tools. */
export const JVM_PERFORMANCE_OPTS = [
  '-server',
  '-XX:+UseG1GC',
  '-XX:MaxGCPauseMillis=20',
  '-XX:InitiatingHeapOccupancyPercent=35',
  '-XX:+ExplicitGCInvokesConcurrent',
  '-XX:MaxInlineLevel=15',
  '-Djava.awt.headless=true',
];

type Log = (line: string) => void;
const defaultLog: Log = (line) => process.stderr.write(`[kafka-ref] ${line}\n`);

export function javaBin(): string {
  return process.env.JAVA_HOME ? path.join(process.env.JAVA_HOME, 'bin', 'java') : 'java';
}

function mvnBin(): string {
  return process.env.MVN ?? 'mvn';
}

/** The classpath: java expands the `lib/*` wildcard itself, so it is passed unexpanded. */
export function classpath(libDir: string = LIB_DIR): string {
  return path.join(libDir, '*');
}

function pomHash(): string {
  return createHash('sha256').update(fs.readFileSync(POM)).digest('hex');
}

function jarsPresent(libDir: string): boolean {
  try {
    return fs.readFileSync(path.join(libDir, MARKER), 'utf8').trim() === pomHash();
  } catch {
    return false;
  }
}

/** How long the last ensureKafkaJars() call of this process spent in Maven (ms); 0 when the cache was used. */
export let lastJarFetchMs = 0;

/**
 * Makes sure every runtime jar of pom.xml is in LIB_DIR and returns LIB_DIR. The first call on a machine runs
 * `mvn -B -q dependency:copy-dependencies` (downloading into ~/.m2 and copying into a temporary directory that
 * is renamed into place, so a killed run never leaves a half-filled cache); later calls only check the marker.
 */
export async function ensureKafkaJars(opts: { log?: Log } = {}): Promise<string> {
  const log = opts.log ?? defaultLog;
  lastJarFetchMs = 0;
  if (jarsPresent(LIB_DIR)) return LIB_DIR;

  const tmp = `${LIB_DIR}.tmp-${process.pid}`;
  fs.rmSync(tmp, { recursive: true, force: true });
  log(`fetching Apache Kafka ${KAFKA_VERSION} jars from Maven Central into ${LIB_DIR} (first run only)`);
  const started = performance.now();
  const args = ['-B', '-q', '-f', POM, 'dependency:copy-dependencies', `-DoutputDirectory=${tmp}`, '-DincludeScope=runtime'];
  const result = await run(mvnBin(), args, { cwd: HERE });
  if (result.code !== 0) {
    fs.rmSync(tmp, { recursive: true, force: true });
    throw new Error(
      `mvn ${args.join(' ')} exited with ${result.code ?? result.signal}` +
        (result.error ? ` (${result.error.message}; is Maven installed?)` : '') +
        `\n${tail(result.stdout + result.stderr, 40)}`,
    );
  }
  const jars = fs.readdirSync(tmp).filter((name) => name.endsWith('.jar'));
  for (const must of [`kafka_2.13-${KAFKA_VERSION}.jar`, `kafka-tools-${KAFKA_VERSION}.jar`, 'log4j-core-2.25.4.jar']) {
    if (!jars.includes(must)) throw new Error(`mvn finished but ${must} is missing from ${tmp}`);
  }
  fs.writeFileSync(path.join(tmp, MARKER), `${pomHash()}\n`);
  // Another process may have finished first; whichever rename lands last wins, both copies are complete.
  fs.rmSync(LIB_DIR, { recursive: true, force: true });
  fs.renameSync(tmp, LIB_DIR);
  lastJarFetchMs = performance.now() - started;
  const bytes = jars.reduce((sum, name) => sum + fs.statSync(path.join(LIB_DIR, name)).size, 0);
  log(`${jars.length} jars (${(bytes / 1e6).toFixed(1)} MB) in ${(lastJarFetchMs / 1000).toFixed(1)} s`);
  return LIB_DIR;
}

// ------------------------------------------------------------------ processes

// ------------------------------------------------------------------ ports

// ------------------------------------------------------------------ broker

export interface KafkaOptions {
  /** PLAINTEXT listener on 127.0.0.1. */
  port: number;
  /** Created if missing; holds server.properties, the log dirs (kafka-logs/) and kafka.log. Must not be formatted yet. */
  dataDir: string;
  /** -Xms and -Xmx of the broker JVM; kafka-server-start.sh uses 1024. */
  heapMb?: number;
  /** CONTROLLER listener; a free port by default. */
  controllerPort?: number;
  /** Extra server.properties lines (key → value), after the template's. */
  overrides?: Record<string, string>;
  /** How long to wait for the broker to come up (ms, default 90,000). */
  startTimeoutMs?: number;
  /** How long SIGTERM gets before SIGKILL on stop() (ms, default 30,000). */
  stopTimeoutMs?: number;
  log?: Log;
}

export interface KafkaBroker {
  port: number;
  controllerPort: number;
  pid: number;
  dataDir: string;
  /** The broker's stdout and stderr (log4j at INFO). */
  logFile: string;
  /** Rendered server.properties. */
  configFile: string;
  clusterId: string;
  /** The exact java command line (classpath shortened to lib/*). */
  command: string[];
  /** SIGTERM, then SIGKILL after stopTimeoutMs; resolves once the process is gone. Safe to call twice. */
  stop(): Promise<void>;
}

/** A Kafka cluster id: 16 random bytes, base64url without padding, not starting with '-' (as Uuid.randomUuid). */
function clusterId(): string {
  for (;;) {
    const id = randomBytes(16).toString('base64url');
    if (!id.startsWith('-') && id !== 'AAAAAAAAAAAAAAAAAAAAAA' && id !== 'AAAAAAAAAAAAAAAAAAAAAQ') return id;
  }
}

function renderServerProperties(opts: { port: number; controllerPort: number; logDirs: string; overrides: Record<string, string> }): string {
  let text = fs
    .readFileSync(SERVER_PROPERTIES_TEMPLATE, 'utf8')
    .replaceAll('@PORT@', String(opts.port))
    .replaceAll('@CONTROLLER_PORT@', String(opts.controllerPort))
    .replaceAll('@LOG_DIRS@', opts.logDirs);
  for (const [key, value] of Object.entries(opts.overrides)) text += `${key}=${value}\n`;
  return text;
}

function jvmArgs(libDir: string, logLevel: string): string[] {
  return [
    '-cp',
    classpath(libDir),
    ...JVM_PERFORMANCE_OPTS,
    `-Dlog4j2.configurationFile=${LOG4J2_PROPERTIES}`,
    `-Dkafka.ref.logLevel=${logLevel}`,
  ];
}

/**
 * Formats dataDir with `kafka.tools.StorageTool format --standalone` and starts `kafka.Kafka`. Resolves once the
 * broker's port accepts connections and its log says "Kafka Server started"; rejects (after killing the JVM) if
 * the process exits or startTimeoutMs passes first.
 */
export async function startKafka(opts: KafkaOptions): Promise<KafkaBroker> {
  const log = opts.log ?? defaultLog;
  const libDir = await ensureKafkaJars({ log });
  const heapMb = opts.heapMb ?? 1024;
  const controllerPort = opts.controllerPort ?? (await freePort());
  const dataDir = path.resolve(opts.dataDir);
  const logDirs = path.join(dataDir, 'kafka-logs');
  const configFile = path.join(dataDir, 'server.properties');
  const logFile = path.join(dataDir, 'kafka.log');
  if (fs.existsSync(path.join(logDirs, 'meta.properties'))) throw new Error(`${logDirs} is already formatted; use a fresh dataDir`);
  fs.mkdirSync(dataDir, { recursive: true });
  fs.writeFileSync(configFile, renderServerProperties({ port: opts.port, controllerPort, logDirs, overrides: opts.overrides ?? {} }));

  const id = clusterId();
  const format = await run(javaBin(), [
    ...jvmArgs(libDir, 'WARN'),
    'kafka.tools.StorageTool',
    'format',
    '--standalone',
    '-t',
    id,
    '-c',
    configFile,
  ]);
  if (format.code !== 0) {
    throw new Error(`StorageTool format exited with ${format.code ?? format.signal}${format.error ? ` (${format.error.message})` : ''}\n${tail(format.stdout + format.stderr, 30)}`);
  }

  const args = [`-Xms${heapMb}m`, `-Xmx${heapMb}m`, ...jvmArgs(libDir, 'INFO'), 'kafka.Kafka', configFile];
  const out = fs.openSync(logFile, 'a');
  const child = spawn(javaBin(), args, { stdio: ['ignore', out, out] });
  fs.closeSync(out);
  let spawnError: Error | undefined;
  child.on('error', (e) => {
    spawnError = e;
  });
  if (child.pid === undefined) {
    await sleep(0);
    throw new Error(`could not start ${javaBin()}: ${spawnError?.message ?? 'no pid'}`);
  }
  const pid = child.pid;
  log(`kafka.Kafka pid ${pid} on 127.0.0.1:${opts.port} (controller ${controllerPort}), heap ${heapMb} MiB, log ${logFile}`);

  let stopping: Promise<void> | undefined;
  const stopTimeoutMs = opts.stopTimeoutMs ?? 30_000;
  const stop = (): Promise<void> => {
    stopping ??= terminate(child, stopTimeoutMs).then((how) => {
      if (how === 'sigkill') log(`kafka pid ${pid} ignored SIGTERM for ${stopTimeoutMs} ms: killed`);
    });
    return stopping;
  };

  const deadline = Date.now() + (opts.startTimeoutMs ?? 90_000);
  const alive = () => !exited(child);
  try {
    if (!(await waitForPort(opts.port, deadline - Date.now(), alive))) throw new Error('port never accepted a connection');
    while (!/Kafka Server started/.test(fs.readFileSync(logFile, 'utf8'))) {
      if (!alive()) throw new Error('process exited');
      if (Date.now() > deadline) throw new Error('"Kafka Server started" never appeared in the log');
      await sleep(200);
    }
  } catch (e) {
    await stop();
    const reason = exited(child) && child.exitCode !== null ? ` (exit code ${child.exitCode})` : '';
    throw new Error(`Kafka did not start: ${(e as Error).message}${reason}\n--- ${logFile} (tail)\n${tail(safeRead(logFile), 30)}`);
  }
  const command = [javaBin(), ...args].map((arg) => (arg === classpath(libDir) ? `'${path.relative(process.cwd(), libDir) || '.'}/*'` : arg));
  return { port: opts.port, controllerPort, pid, dataDir, logFile, configFile, clusterId: id, command, stop };
}

function safeRead(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

// ------------------------------------------------------------------ tools

export interface ToolOptions {
  /** -Xmx of the tool JVM; Kafka's perf scripts use 512 (kafka-run-class.sh default 256). */
  heapMb?: number;
  /** Kill (SIGTERM, then SIGKILL) after this long; `timedOut` is then true. */
  timeoutMs?: number;
  /** log4j level of the tool (to stderr); default WARN. */
  logLevel?: string;
  /** Called with each stdout line as it arrives (progress). */
  onStdoutLine?: (line: string) => void;
  /** Aborting it stops the tool (SIGTERM, then SIGKILL after 5 s), e.g. from a SIGINT handler. */
  signal?: AbortSignal;
}

export interface ToolResult {
  stdout: string;
  stderr: string;
  code: number | null;
  timedOut: boolean;
  /** Wall time including JVM start (ms). */
  ms: number;
  /** The command line, classpath shortened to lib/*. */
  command: string[];
}

/** Runs a Kafka tools main class, e.g. 'org.apache.kafka.tools.TopicCommand', on the reference classpath. */
export async function runTool(mainClass: string, args: string[], opts: ToolOptions = {}): Promise<ToolResult> {
  const libDir = await ensureKafkaJars();
  const full = [`-Xmx${opts.heapMb ?? 512}m`, ...jvmArgs(libDir, opts.logLevel ?? 'WARN'), mainClass, ...args];
  const result = await run(javaBin(), full, { timeoutMs: opts.timeoutMs, signal: opts.signal, onStdoutLine: opts.onStdoutLine });
  if (result.error) throw new Error(`could not run ${javaBin()}: ${result.error.message}`);
  return {
    stdout: result.stdout,
    stderr: result.stderr,
    code: result.code,
    timedOut: result.timedOut,
    ms: result.ms,
    command: ['java', ...full.filter((arg) => !arg.startsWith('-Dlog4j2.') && !arg.startsWith('-Dkafka.ref.'))].map((arg) =>
      arg === classpath(libDir) ? "'lib/*'" : arg,
    ),
  };
}

// ------------------------------------------------------------------ self test

async function smoke(): Promise<void> {
  const t0 = performance.now();
  await ensureKafkaJars();
  const fetched = lastJarFetchMs;
  const dataDir = fs.mkdtempSync(path.join(fs.realpathSync((await import('node:os')).tmpdir()), 'kafka-ref-smoke-'));
  const port = await freePort();
  const t1 = performance.now();
  const kafka = await startKafka({ port, dataDir, heapMb: 512 });
  const started = performance.now() - t1;
  const cleanup = async () => {
    await kafka.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  };
  process.once('SIGINT', () => void cleanup().then(() => process.exit(130)));
  let ok = false;
  try {
    const bootstrap = `127.0.0.1:${port}`;
    const create = await runTool('org.apache.kafka.tools.TopicCommand', [
      '--bootstrap-server', bootstrap, '--create', '--topic', 'smoke', '--partitions', '3', '--replication-factor', '1',
    ]);
    if (create.code !== 0) throw new Error(`TopicCommand --create failed (${create.code}):\n${create.stdout}${create.stderr}`);
    process.stdout.write(create.stdout);
    const perf = await runTool('org.apache.kafka.tools.ProducerPerformance', [
      '--topic', 'smoke', '--num-records', '10000', '--record-size', '1024', '--throughput', '-1',
      '--producer-props', `bootstrap.servers=${bootstrap}`, 'acks=all',
    ]);
    if (perf.code !== 0) throw new Error(`ProducerPerformance failed (${perf.code}):\n${perf.stdout}${perf.stderr}`);
    const last = perf.stdout.trim().split('\n').at(-1) ?? '';
    if (!/^10000 records sent/.test(last)) throw new Error(`unexpected ProducerPerformance output:\n${perf.stdout}`);
    process.stdout.write(`${last}\n`);
    ok = true;
  } finally {
    const t2 = performance.now();
    await cleanup();
    process.stdout.write(
      `smoke ${ok ? 'ok' : 'FAILED'}: jars ${fetched ? `fetched in ${(fetched / 1000).toFixed(1)} s` : 'cached'}, ` +
        `Kafka ${KAFKA_VERSION} up in ${(started / 1000).toFixed(1)} s, stopped in ${((performance.now() - t2) / 1000).toFixed(1)} s, ` +
        `total ${((performance.now() - t0) / 1000).toFixed(1)} s\n`,
    );
  }
}

if (import.meta.main) {
  const command = process.argv[2];
  if (command === 'smoke') {
    await smoke();
  } else if (command === 'jars') {
    process.stdout.write(`${await ensureKafkaJars()}\n`);
  } else {
    process.stderr.write('usage: node reference/kafka/kafka.ts smoke|jars\n');
    process.exitCode = 2;
  }
}
