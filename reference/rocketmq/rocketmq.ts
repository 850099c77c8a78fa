// Apache RocketMQ 5.3.3 as a reference broker, from Maven Central jars only (no zip, no Docker).
// See shared/protocol/rocketmq-notes.md §2 for where the pieces come from and why the JVM flags are these.
//
//   ensureRocketmqJars()              copies every runtime jar of pom.xml into reference/rocketmq/lib/ and of
//                                     example-pom.xml into reference/rocketmq/lib-example/ (once; stamped)
//   startRocketmq({namesrvPort, brokerPort, dataDir, ...})
//                                     starts a name server JVM and a broker JVM on 127.0.0.1 and resolves once the
//                                     broker is registered (the name server lists it and has a route for TBW102)
//     .restart()                      stops both and starts them again on the same ports over the same data
//     .stop()
//   runTool(mainClass, args)          runs mqadmin (MQAdminStartup, see MQADMIN) or another class on the 5.3.3
//                                     classpath; org.apache.rocketmq.example.* classes (benchmark Producer/Consumer)
//                                     run on the rocketmq-example 5.5.0 classpath (5.3.3 is not on Central)
//   remotingRequest(port, code, ext)  one JSON-header remoting request over TCP (readiness checks, quick probes)
//
// `node reference/rocketmq/rocketmq.ts smoke` starts the pair, creates a topic with mqadmin, sends 10,000 messages
// with the benchmark Producer and stops: the check that this file works on a machine.
// `node reference/rocketmq/rocketmq.ts jars` only fetches the jars.
//
// Needs `java` (17+) and `mvn` on PATH (or JAVA_HOME / MVN), and `unzip` or the JDK's `jar` (to read the logback
// configurations shipped in the jars). All sockets are on 127.0.0.1.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import process from 'node:process';
import { fileURLToPath } from 'node:url';
import { exited, freePort, run, sleep, tail, terminate, waitForPort } from '../lib/process.ts';

export { freePort, waitForPort };

export const ROCKETMQ_VERSION = '5.3.3';
/** rocketmq-example (benchmark tools) version: Central serves 4.1.0–4.7.0 and 5.5.0 only. */
export const EXAMPLE_VERSION = '5.5.0';
export const MQADMIN = 'org.apache.rocketmq.tools.command.MQAdminStartup';
export const BENCH_PRODUCER = 'org.apache.rocketmq.example.benchmark.Producer';
export const BENCH_CONSUMER = 'org.apache.rocketmq.example.benchmark.Consumer';
export const DEFAULT_CLUSTER = 'DefaultCluster';
export const DEFAULT_BROKER_NAME = 'broker-a';

const HERE = path.dirname(fileURLToPath(import.meta.url));
export const POM = path.join(HERE, 'pom.xml');
export const EXAMPLE_POM = path.join(HERE, 'example-pom.xml');
/** Jar caches; gitignored (reference/rocketmq/.gitignore). ROCKETMQ_REF_LIB moves both (lib/ and lib-example/ below it). */
const LIB_ROOT = process.env.ROCKETMQ_REF_LIB ? path.resolve(process.env.ROCKETMQ_REF_LIB) : HERE;
export const LIB_DIR = path.join(LIB_ROOT, 'lib');
export const EXAMPLE_LIB_DIR = path.join(LIB_ROOT, 'lib-example');
/** Written into a lib dir after a complete copy; holds the sha256 of its pom so an edited pom refetches. */
const MARKER = '.complete';

/**
 * Flags every JVM here gets (broker, name server, tools). The add-opens are defensive: JDK ≥ 9 reflective-access
 * failures were reported for MappedFile cleanup (apache/rocketmq#3321, #5097).
 */
export const JVM_OPENS = [
  '--add-opens=java.base/java.lang=ALL-UNNAMED',
  '--add-opens=java.base/java.nio=ALL-UNNAMED',
  '--add-opens=java.base/sun.nio.ch=ALL-UNNAMED',
  '--add-exports=java.base/jdk.internal.ref=ALL-UNNAMED',
  '-XX:-OmitStackTraceInFastThrow',
  '-Djava.awt.headless=true',
];

type Log = (line: string) => void;
const defaultLog: Log = (line) => process.stderr.write(`[rocketmq-ref] ${line}\n`);

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

function fileHash(file: string): string {
  return createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

function jarsPresent(libDir: string, pom: string): boolean {
  try {
    return fs.readFileSync(path.join(libDir, MARKER), 'utf8').trim() === fileHash(pom);
  } catch {
    return false;
  }
}

/** How long the last ensureRocketmqJars() call of this process spent in Maven (ms); 0 when the caches were used. */
export let lastJarFetchMs = 0;

async function copyDependencies(pom: string, libDir: string, must: string[], log: Log): Promise<void> {
  if (jarsPresent(libDir, pom)) return;
  const tmp = `${libDir}.tmp-${process.pid}`;
  fs.rmSync(tmp, { recursive: true, force: true });
  log(`fetching the jars of ${path.basename(pom)} from Maven Central into ${libDir} (first run only)`);
  const started = performance.now();
  const args = ['-B', '-q', '-f', pom, 'dependency:copy-dependencies', `-DoutputDirectory=${tmp}`, '-DincludeScope=runtime'];
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
  for (const jar of must) {
    if (!jars.includes(jar)) throw new Error(`mvn finished but ${jar} is missing from ${tmp}`);
  }
  fs.writeFileSync(path.join(tmp, MARKER), `${fileHash(pom)}\n`);
  // Another process may have finished first; whichever rename lands last wins, both copies are complete.
  fs.rmSync(libDir, { recursive: true, force: true });
  fs.renameSync(tmp, libDir);
  const ms = performance.now() - started;
  lastJarFetchMs += ms;
  const bytes = jars.reduce((sum, name) => sum + fs.statSync(path.join(libDir, name)).size, 0);
  log(`${jars.length} jars (${(bytes / 1e6).toFixed(1)} MB) in ${(ms / 1000).toFixed(1)} s`);
}

/**
 * Makes sure every runtime jar of pom.xml is in LIB_DIR (and, unless `example: false`, of example-pom.xml in
 * EXAMPLE_LIB_DIR) and returns LIB_DIR. The first call on a machine runs `mvn -B -q dependency:copy-dependencies`
 * (downloading into ~/.m2 and copying into a temporary directory that is renamed into place, so a killed run never
 * leaves a half-filled cache); later calls only compare the marker with the pom's hash.
 */
export async function ensureRocketmqJars(opts: { log?: Log; example?: boolean } = {}): Promise<string> {
  const log = opts.log ?? defaultLog;
  lastJarFetchMs = 0;
  const v = ROCKETMQ_VERSION;
  await copyDependencies(POM, LIB_DIR, [`rocketmq-namesrv-${v}.jar`, `rocketmq-broker-${v}.jar`, `rocketmq-tools-${v}.jar`], log);
  if (opts.example !== false) await copyDependencies(EXAMPLE_POM, EXAMPLE_LIB_DIR, [`rocketmq-example-${EXAMPLE_VERSION}.jar`], log);
  return LIB_DIR;
}

// ------------------------------------------------------------------ processes

function safeRead(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

// ------------------------------------------------------------------ ports

function bindable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/**
 * A port P for the broker such that P, P−2 (the "fast"/VIP server the broker always opens) and P+1 (its HA port)
 * were all free a moment ago.
 */
export async function freeBrokerPort(): Promise<number> {
  for (let i = 0; i < 50; i++) {
    const p = await freePort();
    if (p < 1026 || p > 65533) continue;
    if ((await bindable(p - 2)) && (await bindable(p + 1))) return p;
  }
  throw new Error('no free port P with P-2 and P+1 also free on 127.0.0.1');
}

// ------------------------------------------------------------------ a minimal remoting client

export interface RemotingResponse {
  code: number;
  remark: string | undefined;
  extFields: Record<string, string>;
  /** Raw body (fastjson output: may use unquoted numeric or object keys, so not always JSON.parse-able). */
  body: Buffer;
}

/**
 * Sends one request with a JSON header (serializeType 0, as rocketmq-remoting.md §1.3) to 127.0.0.1:port and
 * returns the matching response. For readiness checks and probes only: one connection per call.
 */
export function remotingRequest(port: number, code: number, extFields: Record<string, string> = {}, timeoutMs = 3_000): Promise<RemotingResponse> {
  return new Promise((resolve, reject) => {
    const opaque = Math.floor(Math.random() * 0x7fffffff);
    const header = Buffer.from(
      JSON.stringify({ code, extFields, flag: 0, language: 'JAVA', opaque, serializeTypeCurrentRPC: 'JSON', version: 479 }),
    );
    const frame = Buffer.alloc(8 + header.length);
    frame.writeInt32BE(4 + header.length, 0);
    frame.writeInt32BE(header.length & 0xffffff, 4); // serializeType 0 (JSON) in the top byte
    header.copy(frame, 8);
    const socket = net.connect({ host: '127.0.0.1', port });
    let buf = Buffer.alloc(0);
    const fail = (e: Error) => {
      socket.destroy();
      reject(e);
    };
    socket.setTimeout(timeoutMs, () => fail(new Error(`remoting request ${code} to 127.0.0.1:${port}: no response within ${timeoutMs} ms`)));
    socket.once('error', fail);
    socket.once('connect', () => socket.write(frame));
    socket.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      while (buf.length >= 4 && buf.length >= 4 + buf.readInt32BE(0)) {
        const length = buf.readInt32BE(0);
        const frameBuf = buf.subarray(4, 4 + length);
        buf = buf.subarray(4 + length);
        const serializeType = frameBuf[0]!;
        const headerLen = frameBuf.readInt32BE(0) & 0xffffff;
        if (serializeType !== 0) return fail(new Error(`remoting response with serializeType ${serializeType}, expected JSON`));
        const h = JSON.parse(frameBuf.subarray(4, 4 + headerLen).toString('utf8')) as {
          code: number;
          opaque: number;
          remark?: string;
          extFields?: Record<string, string>;
        };
        if (h.opaque !== opaque) continue;
        socket.destroy();
        resolve({ code: h.code, remark: h.remark, extFields: h.extFields ?? {}, body: Buffer.from(frameBuf.subarray(4 + headerLen)) });
        return;
      }
    });
    socket.once('close', () => reject(new Error(`remoting request ${code} to 127.0.0.1:${port}: connection closed without a response`)));
  });
}

/** Codes used by the readiness check (rocketmq-remoting.md §3.1). */
export const GET_ROUTEINFO_BY_TOPIC = 105;
export const GET_BROKER_CLUSTER_INFO = 106;

/** True when the name server lists brokerAddr in its cluster info and answers a route for TBW102 that names it. */
export async function brokerRegistered(namesrvPort: number, brokerAddr: string): Promise<boolean> {
  try {
    const cluster = await remotingRequest(namesrvPort, GET_BROKER_CLUSTER_INFO);
    if (cluster.code !== 0 || !cluster.body.toString('utf8').includes(`"${brokerAddr}"`)) return false;
    const route = await remotingRequest(namesrvPort, GET_ROUTEINFO_BY_TOPIC, { topic: 'TBW102' });
    return route.code === 0 && route.body.toString('utf8').includes(`"${brokerAddr}"`);
  } catch {
    return false;
  }
}

// ------------------------------------------------------------------ configuration files

const USER_LOG_DIR = '${user.home}${file.separator}logs${file.separator}rocketmqlogs';

/** Reads one entry of a jar with `unzip -p`, or the JDK's `jar xf` when unzip is missing. */
function readJarEntry(jar: string, entry: string): string {
  const unzip = spawnSync('unzip', ['-p', jar, entry], { encoding: 'utf8' });
  if (unzip.status === 0 && unzip.stdout) return unzip.stdout;
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rmq-jar-'));
  try {
    const jarBin = process.env.JAVA_HOME ? path.join(process.env.JAVA_HOME, 'bin', 'jar') : 'jar';
    const r = spawnSync(jarBin, ['xf', jar, entry], { cwd: tmp, encoding: 'utf8' });
    const file = path.join(tmp, entry);
    if (r.status !== 0 || !fs.existsSync(file)) throw new Error(`cannot read ${entry} from ${jar} (unzip and jar both failed)`);
    return fs.readFileSync(file, 'utf8');
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

/**
 * Writes `<confDir>/<resource>`: the logback configuration shipped in `jar`, with the hard-wired
 * ~/logs/rocketmqlogs replaced by logDir and config rescanning off. Returns the file.
 */
export function renderLogback(jarName: string, resource: string, confDir: string, logDir: string, libDir: string = LIB_DIR): string {
  const text = readJarEntry(path.join(libDir, jarName), resource)
    .replaceAll(USER_LOG_DIR, logDir)
    .replace('scan="true"', 'scan="false"');
  fs.mkdirSync(confDir, { recursive: true });
  const file = path.join(confDir, resource);
  fs.writeFileSync(file, text);
  return file;
}

// ------------------------------------------------------------------ name server + broker

export interface RocketmqOptions {
  /** Name server port on 127.0.0.1; a free one by default. */
  namesrvPort?: number;
  /** Broker port on 127.0.0.1; the broker also binds port−2 (fast server) and port+1 (HA). Free ones by default. */
  brokerPort?: number;
  /** Created if missing; holds conf/, store/ (the commit log etc.), namesrv/ (kv config) and, by default, logs/. */
  dataDir: string;
  /** Where the logback files of both JVMs go (default <dataDir>/logs); stdout/stderr of each JVM go there too. */
  logDir?: string;
  /** Name server -Xms/-Xmx (default 512; stock scripts 4096). */
  namesrvHeapMb?: number;
  /** Broker -Xms/-Xmx (default 2048; stock scripts 8192). */
  brokerHeapMb?: number;
  /** Broker -XX:MaxDirectMemorySize (default = brokerHeapMb; stock 15g). */
  brokerDirectMb?: number;
  /** Extra broker.conf lines (key → value), after the defaults below. */
  brokerConfig?: Record<string, string>;
  /** Extra namesrv.conf lines. */
  namesrvConfig?: Record<string, string>;
  /** Extra JVM flags for the broker (e.g. GC logging). */
  brokerJvmArgs?: string[];
  /** How long to wait for the broker to be registered (ms, default 120,000). */
  startTimeoutMs?: number;
  /** How long SIGTERM gets before SIGKILL on stop() (ms, default 30,000). */
  stopTimeoutMs?: number;
  log?: Log;
}

export interface RocketmqBroker {
  namesrvPort: number;
  brokerPort: number;
  /** "127.0.0.1:<namesrvPort>", what clients get as NAMESRV / -n. */
  namesrvAddr: string;
  /** "127.0.0.1:<brokerPort>", the address in routes. */
  brokerAddr: string;
  clusterName: string;
  brokerName: string;
  dataDir: string;
  logDir: string;
  /** stdout+stderr of the broker JVM ("The broker[...] boot success" lands here). */
  brokerOut: string;
  /** stdout+stderr of the name server JVM. */
  namesrvOut: string;
  /** The broker's main logback file (broker.log). */
  brokerLog: string;
  brokerConf: string;
  namesrvConf: string;
  namesrvPid(): number | undefined;
  brokerPid(): number | undefined;
  /** The exact java command lines (classpath shortened to lib/*). */
  commands: { namesrv: string[]; broker: string[] };
  /** False once either JVM has exited (other than through stop/restart). */
  alive(): boolean;
  /** Stops the broker (and, unless nameServer is false, the name server) and starts it again: same ports, same data. */
  restart(opts?: { nameServer?: boolean }): Promise<void>;
  /** SIGTERM both (broker first), then SIGKILL after stopTimeoutMs; resolves once both are gone. Safe to call twice. */
  stop(): Promise<void>;
}

function renderConf(entries: Record<string, string>): string {
  return Object.entries(entries)
    .map(([k, v]) => `${k}=${v}\n`)
    .join('');
}

/**
 * Writes the configuration into dataDir and starts org.apache.rocketmq.namesrv.NamesrvStartup and
 * org.apache.rocketmq.broker.BrokerStartup. Resolves once the name server lists the broker and routes TBW102 to it;
 * rejects (after killing both JVMs) if either exits or startTimeoutMs passes first. An existing dataDir is reused
 * (its store is recovered), which is how restart() works too.
 */
export async function startRocketmq(opts: RocketmqOptions): Promise<RocketmqBroker> {
  const log = opts.log ?? defaultLog;
  const libDir = await ensureRocketmqJars({ log, example: false });
  const namesrvPort = opts.namesrvPort ?? (await freePort());
  const brokerPort = opts.brokerPort ?? (await freeBrokerPort());
  const dataDir = path.resolve(opts.dataDir);
  const logDir = path.resolve(opts.logDir ?? path.join(dataDir, 'logs'));
  const confDir = path.join(dataDir, 'conf');
  const storeDir = path.join(dataDir, 'store');
  for (const d of [confDir, storeDir, logDir, path.join(dataDir, 'namesrv')]) fs.mkdirSync(d, { recursive: true });
  const namesrvHeapMb = opts.namesrvHeapMb ?? 512;
  const brokerHeapMb = opts.brokerHeapMb ?? 2048;
  const brokerDirectMb = opts.brokerDirectMb ?? brokerHeapMb;
  const namesrvAddr = `127.0.0.1:${namesrvPort}`;
  const brokerAddr = `127.0.0.1:${brokerPort}`;
  const clusterName = opts.brokerConfig?.['brokerClusterName'] ?? DEFAULT_CLUSTER;
  const brokerName = opts.brokerConfig?.['brokerName'] ?? DEFAULT_BROKER_NAME;

  const namesrvConf = path.join(confDir, 'namesrv.conf');
  fs.writeFileSync(
    namesrvConf,
    renderConf({
      listenPort: String(namesrvPort),
      bindAddress: '127.0.0.1',
      kvConfigPath: path.join(dataDir, 'namesrv', 'kvConfig.json'),
      configStorePath: path.join(dataDir, 'namesrv', 'namesrv.properties'),
      ...opts.namesrvConfig,
    }),
  );
  const brokerConf = path.join(confDir, 'broker.conf');
  fs.writeFileSync(
    brokerConf,
    renderConf({
      brokerClusterName: clusterName,
      brokerName,
      brokerId: '0',
      brokerRole: 'ASYNC_MASTER',
      flushDiskType: 'ASYNC_FLUSH',
      namesrvAddr,
      brokerIP1: '127.0.0.1',
      bindAddress: '127.0.0.1',
      listenPort: String(brokerPort),
      storePathRootDir: storeDir,
      storePathCommitLog: path.join(storeDir, 'commitlog'),
      autoCreateTopicEnable: 'true',
      autoCreateSubscriptionGroup: 'true',
      enablePropertyFilter: 'true',
      // 128 MiB commit-log files instead of 1 GiB (the file is mmapped and pre-allocated).
      mappedFileSizeCommitLog: String(128 * 1024 * 1024),
      deleteWhen: '04',
      fileReservedTime: '48',
      ...opts.brokerConfig,
    }),
  );
  const namesrvLogback = renderLogback(`rocketmq-namesrv-${ROCKETMQ_VERSION}.jar`, 'rmq.namesrv.logback.xml', confDir, logDir, libDir);
  const brokerLogback = renderLogback(`rocketmq-broker-${ROCKETMQ_VERSION}.jar`, 'rmq.broker.logback.xml', confDir, logDir, libDir);

  const common = ['-server', '-XX:+UseG1GC', ...JVM_OPENS, `-Drocketmq.home.dir=${dataDir}`, '-cp', classpath(libDir)];
  const namesrvArgs = [
    `-Xms${namesrvHeapMb}m`,
    `-Xmx${namesrvHeapMb}m`,
    ...common,
    `-Drmq.logback.configurationFile=${namesrvLogback}`,
    'org.apache.rocketmq.namesrv.NamesrvStartup',
    '-c',
    namesrvConf,
  ];
  const brokerArgs = [
    `-Xms${brokerHeapMb}m`,
    `-Xmx${brokerHeapMb}m`,
    `-XX:MaxDirectMemorySize=${brokerDirectMb}m`,
    '-XX:G1HeapRegionSize=16m',
    '-XX:-UseLargePages',
    ...(opts.brokerJvmArgs ?? []),
    ...common,
    `-Drmq.logback.configurationFile=${brokerLogback}`,
    'org.apache.rocketmq.broker.BrokerStartup',
    '-c',
    brokerConf,
  ];
  const namesrvOut = path.join(logDir, 'namesrv.out');
  const brokerOut = path.join(logDir, 'broker.out');
  const brokerLog = path.join(logDir, 'broker.log');
  const env = { ...process.env, ROCKETMQ_HOME: dataDir };
  const stopTimeoutMs = opts.stopTimeoutMs ?? 30_000;
  const startTimeoutMs = opts.startTimeoutMs ?? 120_000;

  const launch = (args: string[], outFile: string): ChildProcess => {
    const out = fs.openSync(outFile, 'a');
    const child = spawn(javaBin(), args, { stdio: ['ignore', out, out], env });
    fs.closeSync(out);
    child.on('error', (e) => log(`${javaBin()}: ${e.message}`));
    return child;
  };

  let namesrv: ChildProcess | undefined;
  let broker: ChildProcess | undefined;
  let stopping: Promise<void> | undefined;
  /** Set while we stop on purpose, so alive() does not report a deliberate exit as a crash. */
  let expectedDown = false;

  const stopBroker = async () => {
    if (!broker) return;
    const pid = broker.pid;
    if ((await terminate(broker, stopTimeoutMs)) === 'sigkill') log(`broker pid ${pid} ignored SIGTERM for ${stopTimeoutMs} ms: killed`);
  };
  const stopNamesrv = async () => {
    if (!namesrv) return;
    const pid = namesrv.pid;
    if ((await terminate(namesrv, stopTimeoutMs)) === 'sigkill') log(`name server pid ${pid} ignored SIGTERM for ${stopTimeoutMs} ms: killed`);
  };

  const up = async (startNamesrv: boolean) => {
    const deadline = Date.now() + startTimeoutMs;
    const alive = () => (!namesrv || !exited(namesrv)) && (!broker || !exited(broker));
    if (startNamesrv) {
      namesrv = launch(namesrvArgs, namesrvOut);
      if (!(await waitForPort(namesrvPort, deadline - Date.now(), alive))) {
        throw new Error(`name server never accepted a connection on ${namesrvAddr}\n--- ${namesrvOut} (tail)\n${tail(safeRead(namesrvOut), 20)}`);
      }
    }
    broker = launch(brokerArgs, brokerOut);
    log(`name server pid ${namesrv?.pid} on ${namesrvAddr} (heap ${namesrvHeapMb} MiB), broker pid ${broker.pid} on ${brokerAddr} (heap ${brokerHeapMb} MiB), logs ${logDir}`);
    for (;;) {
      if (!alive()) {
        const which = namesrv && exited(namesrv) ? `name server (exit ${namesrv.exitCode ?? namesrv.signalCode})` : `broker (exit ${broker.exitCode ?? broker.signalCode})`;
        throw new Error(`${which} exited during start`);
      }
      if (await brokerRegistered(namesrvPort, brokerAddr)) return;
      if (Date.now() > deadline) throw new Error(`broker ${brokerAddr} not registered with the name server within ${startTimeoutMs} ms`);
      await sleep(250);
    }
  };

  const fail = async (e: unknown): Promise<never> => {
    expectedDown = true;
    await stopBroker();
    await stopNamesrv();
    throw new Error(
      `Apache RocketMQ did not start: ${(e as Error).message}\n--- ${brokerOut} (tail)\n${tail(safeRead(brokerOut), 15)}` +
        `\n--- ${brokerLog} (tail)\n${tail(safeRead(brokerLog), 15)}\n--- ${namesrvOut} (tail)\n${tail(safeRead(namesrvOut), 10)}`,
    );
  };

  const t0 = performance.now();
  try {
    await up(true);
  } catch (e) {
    await fail(e);
  }
  log(`Apache RocketMQ ${ROCKETMQ_VERSION} up in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

  const shortCp = (args: string[]) =>
    [javaBin(), ...args].map((arg) => (arg === classpath(libDir) ? `'${path.relative(process.cwd(), libDir) || '.'}/*'` : arg));

  return {
    namesrvPort,
    brokerPort,
    namesrvAddr,
    brokerAddr,
    clusterName,
    brokerName,
    dataDir,
    logDir,
    brokerOut,
    namesrvOut,
    brokerLog,
    brokerConf,
    namesrvConf,
    namesrvPid: () => namesrv?.pid,
    brokerPid: () => broker?.pid,
    commands: { namesrv: shortCp(namesrvArgs), broker: shortCp(brokerArgs) },
    alive: () => expectedDown || (namesrv !== undefined && !exited(namesrv) && broker !== undefined && !exited(broker)),
    async restart(ropts: { nameServer?: boolean } = {}) {
      const withNamesrv = ropts.nameServer !== false;
      const r0 = performance.now();
      expectedDown = true;
      await stopBroker();
      broker = undefined;
      if (withNamesrv) {
        await stopNamesrv();
        namesrv = undefined;
      }
      expectedDown = false;
      try {
        await up(withNamesrv);
      } catch (e) {
        await fail(e);
      }
      log(`restarted ${withNamesrv ? 'name server and broker' : 'broker'} in ${((performance.now() - r0) / 1000).toFixed(1)} s`);
    },
    stop() {
      stopping ??= (async () => {
        expectedDown = true;
        await stopBroker();
        await stopNamesrv();
      })();
      return stopping;
    },
  };
}

// ------------------------------------------------------------------ tools

export interface ToolOptions {
  /** -Xmx of the tool JVM (default 512; tools.sh uses 1g). */
  heapMb?: number;
  /** Kill (SIGTERM, then SIGKILL) after this long; `timedOut` is then true. */
  timeoutMs?: number;
  /** Where the tool's client logs go (logback of rocketmq-tools/-client); default <tmpdir>/rocketmq-ref-tool-logs. */
  logDir?: string;
  /** Extra -D flags or JVM options, before the main class. */
  jvmArgs?: string[];
  /** Extra environment (e.g. NAMESRV_ADDR). */
  env?: NodeJS.ProcessEnv;
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

/**
 * Runs a main class on the reference classpath: mqadmin is runTool(MQADMIN, ['topicList', '-n', addr]);
 * org.apache.rocketmq.example.* (benchmark Producer/Consumer) run from lib-example/ (rocketmq-example 5.5.0).
 */
export async function runTool(mainClass: string, args: string[], opts: ToolOptions = {}): Promise<ToolResult> {
  const isExample = mainClass.startsWith('org.apache.rocketmq.example.');
  await ensureRocketmqJars({ example: isExample });
  const libDir = isExample ? EXAMPLE_LIB_DIR : LIB_DIR;
  const logDir = path.resolve(opts.logDir ?? path.join(os.tmpdir(), 'rocketmq-ref-tool-logs'));
  fs.mkdirSync(logDir, { recursive: true });
  const logFlags = [`-Drocketmq.log.root=${logDir}`, '-Drocketmq.log.level=warn', `-Drocketmq.client.logRoot=${logDir}`, '-Drocketmq.client.logLevel=WARN'];
  if (!isExample) {
    const confDir = path.join(logDir, 'conf');
    const toolsLogback = path.join(confDir, 'rmq.tools.logback.xml');
    if (!fs.existsSync(toolsLogback)) renderLogback(`rocketmq-tools-${ROCKETMQ_VERSION}.jar`, 'rmq.tools.logback.xml', confDir, logDir, libDir);
    logFlags.push(`-Drmq.logback.configurationFile=${toolsLogback}`);
  }
  const full = [
    `-Xmx${opts.heapMb ?? 512}m`,
    '-XX:+UseSerialGC',
    '-XX:TieredStopAtLevel=1',
    ...JVM_OPENS,
    ...logFlags,
    ...(opts.jvmArgs ?? []),
    '-cp',
    classpath(libDir),
    mainClass,
    ...args,
  ];
  const env = { ...process.env, ROCKETMQ_HOME: logDir, ...opts.env };
  const result = await run(javaBin(), full, { env, timeoutMs: opts.timeoutMs, signal: opts.signal, onStdoutLine: opts.onStdoutLine });
  if (result.error) throw new Error(`could not run ${javaBin()}: ${result.error.message}`);
  return {
    stdout: result.stdout,
    stderr: result.stderr,
    code: result.code,
    timedOut: result.timedOut,
    ms: result.ms,
    command: ['java', ...full.filter((arg) => !logFlags.includes(arg) && !JVM_OPENS.includes(arg))].map((arg) =>
      arg === classpath(libDir) ? `'${path.basename(libDir)}/*'` : arg,
    ),
  };
}

// ------------------------------------------------------------------ self test

async function smoke(): Promise<void> {
  const t0 = performance.now();
  await ensureRocketmqJars();
  const fetched = lastJarFetchMs;
  const dataDir = fs.mkdtempSync(path.join(fs.realpathSync(os.tmpdir()), 'rocketmq-ref-smoke-'));
  const t1 = performance.now();
  const rmq = await startRocketmq({ dataDir, namesrvHeapMb: 256, brokerHeapMb: 1024 });
  const started = performance.now() - t1;
  const cleanup = async () => {
    await rmq.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  };
  process.once('SIGINT', () => void cleanup().then(() => process.exit(130)));
  let ok = false;
  try {
    const logDir = path.join(dataDir, 'tool-logs');
    const create = await runTool(MQADMIN, ['updateTopic', '-n', rmq.namesrvAddr, '-c', rmq.clusterName, '-t', 'smoke', '-r', '4', '-w', '4'], { logDir, timeoutMs: 60_000 });
    if (!/success/.test(create.stdout)) throw new Error(`mqadmin updateTopic failed (${create.code}):\n${create.stdout}${create.stderr}`);
    process.stdout.write(create.stdout);
    const perf = await runTool(BENCH_PRODUCER, ['-n', rmq.namesrvAddr, '-t', 'smoke', '-w', '4', '-s', '1024', '-q', '10000', '-ri', '2000'], {
      logDir,
      timeoutMs: 120_000,
    });
    const lines = perf.stdout.trim().split('\n').filter((l) => /Send TPS/.test(l));
    if (lines.length === 0) throw new Error(`benchmark Producer printed no "Send TPS" line (${perf.code}):\n${tail(perf.stdout + perf.stderr, 30)}`);
    process.stdout.write(`${lines.at(-1)}\n`);
    const status = await runTool(MQADMIN, ['topicStatus', '-n', rmq.namesrvAddr, '-t', 'smoke'], { logDir, timeoutMs: 60_000 });
    process.stdout.write(status.stdout);
    ok = true;
  } finally {
    const t2 = performance.now();
    await cleanup();
    process.stdout.write(
      `smoke ${ok ? 'ok' : 'FAILED'}: jars ${fetched ? `fetched in ${(fetched / 1000).toFixed(1)} s` : 'cached'}, ` +
        `RocketMQ ${ROCKETMQ_VERSION} up in ${(started / 1000).toFixed(1)} s, stopped in ${((performance.now() - t2) / 1000).toFixed(1)} s, ` +
        `total ${((performance.now() - t0) / 1000).toFixed(1)} s\n`,
    );
  }
}

if (import.meta.main) {
  const command = process.argv[2];
  if (command === 'smoke') {
    await smoke();
  } else if (command === 'jars') {
    process.stdout.write(`${await ensureRocketmqJars()}\n`);
  } else {
    process.stderr.write('usage: node reference/rocketmq/rocketmq.ts smoke|jars\n');
    process.exitCode = 2;
  }
}
