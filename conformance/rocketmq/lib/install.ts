// Installs each client toolchain of the RocketMQ conformance runner from the project's own files, once: a stamp file
// holds the hash of the inputs, so a second run with unchanged inputs only checks that the outputs are there.
// Stamps live in conformance/rocketmq/.stamps/ (gitignored), outside the drivers' directories.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import process from 'node:process';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
export const CONF = path.resolve(HERE, '..');
export const REPO = path.resolve(CONF, '..', '..');
const STAMPS = path.join(CONF, '.stamps');

export type Toolchain = 'java' | 'go' | 'ali-ons' | 'rocketmq-ref';

export interface InstallResult {
  ok: boolean;
  /** Why the toolchain is missing. */
  reason?: string;
  ms: number;
  cached: boolean;
}

type Log = (line: string) => void;

interface RunResult {
  code: number | null;
  out: string;
}

export function run(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<RunResult> {
  return new Promise((resolve) => {
    let out = '';
    const child = spawn(cmd, args, { cwd: opts.cwd ?? CONF, env: opts.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    const timer = opts.timeoutMs ? setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs) : undefined;
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', (e) => {
      if (timer) clearTimeout(timer);
      resolve({ code: -1, out: out + String(e) });
    });
    child.on('close', (code) => {
      if (timer) clearTimeout(timer);
      resolve({ code, out });
    });
  });
}

function hashFiles(files: string[]): string {
  const h = createHash('sha256');
  for (const f of [...files].sort()) {
    h.update(path.relative(CONF, f));
    h.update('\0');
    h.update(fs.existsSync(f) ? fs.readFileSync(f) : Buffer.alloc(0));
    h.update('\0');
  }
  return h.digest('hex');
}

function listFiles(dir: string, ext: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith(ext))
    .map((f) => path.join(dir, f));
}

function stampOk(stamp: string, hash: string, outputs: string[]): boolean {
  try {
    return fs.readFileSync(stamp, 'utf8').trim() === hash && outputs.every((o) => fs.existsSync(o));
  } catch {
    return false;
  }
}

function tail(s: string, n = 15): string {
  return s.trimEnd().split('\n').slice(-n).join('\n');
}

/** Fails with a clear reason when a driver's files are not in the tree (yet). */
function missing(files: string[], what: string): InstallResult | undefined {
  const absent = files.filter((f) => !fs.existsSync(f));
  if (absent.length === 0) return undefined;
  return {
    ok: false,
    reason: `${what}: ${absent.map((f) => path.relative(REPO, f)).join(', ')} not present (driver not committed yet?)`,
    ms: 0,
    cached: false,
  };
}

async function stamped(
  name: string,
  inputs: string[],
  stampName: string,
  outputs: string[],
  steps: Array<[string, string[], string]>,
  log: Log,
  env?: NodeJS.ProcessEnv,
): Promise<InstallResult> {
  const t0 = Date.now();
  const hash = hashFiles(inputs);
  const stamp = path.join(STAMPS, stampName);
  if (stampOk(stamp, hash, outputs)) return { ok: true, ms: Date.now() - t0, cached: true };
  log(`install ${name}: building`);
  fs.rmSync(stamp, { force: true });
  for (const [cmd, args, cwd] of steps) {
    const r = await run(cmd, args, { cwd, env, timeoutMs: 15 * 60_000 });
    if (r.code !== 0) {
      return { ok: false, reason: `${cmd} ${args.join(' ')} (in ${path.relative(REPO, cwd)}) exited ${r.code}:\n${tail(r.out)}`, ms: Date.now() - t0, cached: false };
    }
  }
  fs.mkdirSync(STAMPS, { recursive: true });
  fs.writeFileSync(stamp, hash + '\n');
  log(`install ${name}: done in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  return { ok: true, ms: Date.now() - t0, cached: false };
}

// ------------------------------------------------------------------ paths used by the client table

export const JAVA_DIR = path.join(CONF, 'java');
export const JAVA_MODULES = ['v49', 'v5'] as const;
export const GO_DIR = path.join(CONF, 'go');
export const GO_BIN = path.join(GO_DIR, 'bin', 'conformance-go');
export const NODE_DIR = path.join(CONF, 'node');
export const ALIONS_DRIVER = path.join(NODE_DIR, 'alions.ts');
export const MQADMIN_DRIVER = path.join(CONF, 'lib', 'mqadmin.ts');
export const REFERENCE_TS = path.join(REPO, 'reference', 'rocketmq', 'rocketmq.ts');

/** `-cp` of the Java driver built against one client line. */
export function javaClasspath(module: (typeof JAVA_MODULES)[number]): string {
  return `${path.join(JAVA_DIR, module, 'target', 'classes')}${path.delimiter}${path.join(JAVA_DIR, module, 'target', 'dependency', '*')}`;
}

async function installJava(log: Log): Promise<InstallResult> {
  const poms = [path.join(JAVA_DIR, 'pom.xml'), ...JAVA_MODULES.map((m) => path.join(JAVA_DIR, m, 'pom.xml'))];
  const absent = missing(poms, 'java driver');
  if (absent) return absent;
  const inputs = [...poms, ...listFiles(path.join(JAVA_DIR, 'src'), '.java')];
  const outputs = JAVA_MODULES.flatMap((m) => [
    path.join(JAVA_DIR, m, 'target', 'classes', 'Conformance.class'),
    path.join(JAVA_DIR, m, 'target', 'dependency'),
  ]);
  return stamped('java (mvn: rocketmq-client 4.9.8 and 5.3.3)', inputs, 'java', outputs,
    [['mvn', ['-B', '-q', 'clean', 'compile', 'dependency:copy-dependencies'], JAVA_DIR]], log);
}

async function installGo(log: Log): Promise<InstallResult> {
  const absent = missing([path.join(GO_DIR, 'go.mod'), path.join(GO_DIR, 'go.sum')], 'go driver');
  if (absent) return absent;
  const sources = listFiles(GO_DIR, '.go');
  if (sources.length === 0) return { ok: false, reason: `go driver: no .go files in ${path.relative(REPO, GO_DIR)} (not committed yet?)`, ms: 0, cached: false };
  const inputs = [path.join(GO_DIR, 'go.mod'), path.join(GO_DIR, 'go.sum'), ...sources];
  return stamped('go (rocketmq-client-go)', inputs, 'go', [GO_BIN], [['go', ['build', '-o', GO_BIN, '.'], GO_DIR]], log, {
    ...process.env,
    GOFLAGS: '-mod=mod',
  });
}

async function installAliOns(log: Log): Promise<InstallResult> {
  const pkg = path.join(NODE_DIR, 'package.json');
  const lock = path.join(NODE_DIR, 'package-lock.json');
  const absent = missing([pkg, lock, ALIONS_DRIVER], 'ali-ons driver');
  if (absent) return absent;
  return stamped('ali-ons (npm ci)', [pkg, lock], 'ali-ons', [path.join(NODE_DIR, 'node_modules', 'ali-ons', 'package.json')],
    [['npm', ['ci', '--no-audit', '--no-fund'], NODE_DIR]], log);
}

/** The reference's jars (mqadmin = rocketmq-tools 5.3.3): reference/rocketmq/rocketmq.ts keeps its own stamp. */
async function installReference(log: Log): Promise<InstallResult> {
  const t0 = Date.now();
  const absent = missing([REFERENCE_TS], 'mqadmin');
  if (absent) return absent;
  const mod = (await import(REFERENCE_TS)) as { ensureRocketmqJars(o: { log?: Log; example?: boolean }): Promise<string>; lastJarFetchMs: number };
  await mod.ensureRocketmqJars({ log, example: false });
  return { ok: true, ms: Date.now() - t0, cached: mod.lastJarFetchMs === 0 };
}

const installers: Record<Toolchain, (log: Log) => Promise<InstallResult>> = {
  java: installJava,
  go: installGo,
  'ali-ons': installAliOns,
  'rocketmq-ref': installReference,
};

/** Installs the toolchains in parallel; never throws. */
export async function installAll(toolchains: Iterable<Toolchain>, log: Log): Promise<Map<Toolchain, InstallResult>> {
  const list = [...new Set(toolchains)];
  const results = await Promise.all(
    list.map(async (t): Promise<[Toolchain, InstallResult]> => {
      try {
        return [t, await installers[t](log)];
      } catch (e) {
        return [t, { ok: false, reason: String(e instanceof Error ? e.message : e), ms: 0, cached: false }];
      }
    }),
  );
  return new Map(results);
}
