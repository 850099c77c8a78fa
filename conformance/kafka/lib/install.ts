// Installs each client toolchain from the project's own files, once: a stamp file holds the hash of the inputs,
// so a second run with unchanged inputs only checks that the outputs are there.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import process from 'node:process';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
export const CONF = path.resolve(HERE, '..');
export const REPO = path.resolve(CONF, '..', '..');

export type Toolchain = 'java' | 'go' | 'python' | 'kcat' | 'kafkajs';

export interface InstallResult {
  ok: boolean;
  /** Why the toolchain is missing; with `skip` the clients are skipped rather than failed. */
  reason?: string;
  skip?: boolean;
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
  for (const f of files.sort()) {
    h.update(path.relative(CONF, f));
    h.update('\0');
    h.update(fs.existsSync(f) ? fs.readFileSync(f) : Buffer.alloc(0));
    h.update('\0');
  }
  return h.digest('hex');
}

function listFiles(dir: string, ext: string): string[] {
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

async function stamped(
  name: string,
  inputs: string[],
  stamp: string,
  outputs: string[],
  steps: Array<[string, string[], string]>,
  log: Log,
  env?: NodeJS.ProcessEnv,
): Promise<InstallResult> {
  const t0 = Date.now();
  const hash = hashFiles(inputs);
  if (stampOk(stamp, hash, outputs)) return { ok: true, ms: Date.now() - t0, cached: true };
  log(`install ${name}: building`);
  fs.rmSync(stamp, { force: true });
  for (const [cmd, args, cwd] of steps) {
    const r = await run(cmd, args, { cwd, env, timeoutMs: 15 * 60_000 });
    if (r.code !== 0) {
      return { ok: false, reason: `${cmd} ${args.join(' ')} exited ${r.code}:\n${tail(r.out)}`, ms: Date.now() - t0, cached: false };
    }
  }
  fs.writeFileSync(stamp, hash + '\n');
  log(`install ${name}: done in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  return { ok: true, ms: Date.now() - t0, cached: false };
}

// ------------------------------------------------------------------ paths used by the client table

export const JAVA_DIR = path.join(CONF, 'java');
export const GO_DIR = path.join(CONF, 'go');
export const GO_BIN = path.join(GO_DIR, 'bin', 'conformance-go');
export const PY_DIR = path.join(CONF, 'python');
export const PY_BIN = path.join(PY_DIR, '.venv', 'bin', 'python');

async function installJava(log: Log): Promise<InstallResult> {
  const inputs = [
    path.join(JAVA_DIR, 'pom.xml'),
    path.join(JAVA_DIR, 'v39', 'pom.xml'),
    path.join(JAVA_DIR, 'v4', 'pom.xml'),
    ...listFiles(path.join(JAVA_DIR, 'src'), '.java'),
  ];
  const outputs = ['v39', 'v4'].flatMap((m) => [
    path.join(JAVA_DIR, m, 'target', 'classes', 'Conformance.class'),
    path.join(JAVA_DIR, m, 'target', 'dependency'),
  ]);
  return stamped('java (mvn)', inputs, path.join(JAVA_DIR, '.build-stamp'), outputs,
    [['mvn', ['-B', '-q', 'clean', 'compile', 'dependency:copy-dependencies'], JAVA_DIR]], log);
}

async function installGo(log: Log): Promise<InstallResult> {
  const inputs = [path.join(GO_DIR, 'go.mod'), path.join(GO_DIR, 'go.sum'), ...listFiles(GO_DIR, '.go')];
  return stamped('go (franz-go, sarama)', inputs, path.join(GO_DIR, '.build-stamp'), [GO_BIN],
    [['go', ['build', '-o', GO_BIN, '.'], GO_DIR]], log, { ...process.env, GOFLAGS: '-mod=mod' });
}

async function installPython(log: Log): Promise<InstallResult> {
  const req = path.join(PY_DIR, 'requirements.txt');
  const venv = path.join(PY_DIR, '.venv');
  const steps: Array<[string, string[], string]> = [];
  if (!fs.existsSync(PY_BIN)) steps.push(['python3', ['-m', 'venv', venv], PY_DIR]);
  steps.push([PY_BIN, ['-m', 'pip', 'install', '-q', '--disable-pip-version-check', '-r', req], PY_DIR]);
  return stamped('python venv (confluent-kafka, kafka-python)', [req], path.join(venv, '.install-stamp'), [PY_BIN], steps, log);
}

async function which(cmd: string): Promise<boolean> {
  return (await run('sh', ['-c', `command -v ${cmd}`])).code === 0;
}

async function installKcat(log: Log): Promise<InstallResult> {
  const t0 = Date.now();
  if (await which('kcat')) return { ok: true, ms: Date.now() - t0, cached: true };
  if (process.getuid?.() !== 0) {
    return { ok: false, skip: true, reason: 'kcat is not installed and apt-get needs root (apt-get install kcat)', ms: 0, cached: false };
  }
  log('install kcat: apt-get install kcat');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  let r = await run('apt-get', ['install', '-y', '-qq', 'kcat'], { env, timeoutMs: 10 * 60_000 });
  if (r.code !== 0) {
    await run('apt-get', ['update', '-qq'], { env, timeoutMs: 10 * 60_000 });
    r = await run('apt-get', ['install', '-y', '-qq', 'kcat'], { env, timeoutMs: 10 * 60_000 });
  }
  if (r.code !== 0 || !(await which('kcat'))) {
    return { ok: false, skip: true, reason: `apt-get install kcat failed: ${tail(r.out, 3)}`, ms: Date.now() - t0, cached: false };
  }
  return { ok: true, ms: Date.now() - t0, cached: false };
}

function kafkajsVersion(): string | undefined {
  try {
    const pkg = JSON.parse(fs.readFileSync(path.join(REPO, 'node_modules', 'kafkajs', 'package.json'), 'utf8')) as { version: string };
    return pkg.version;
  } catch {
    return undefined;
  }
}

async function installKafkajs(log: Log): Promise<InstallResult> {
  const t0 = Date.now();
  if (kafkajsVersion() === '2.2.4') return { ok: true, ms: 0, cached: true };
  log('install kafkajs: npm ci (devDependency kafkajs@2.2.4 missing)');
  const r = await run('npm', ['ci', '--no-audit', '--no-fund'], { cwd: REPO, timeoutMs: 10 * 60_000 });
  if (r.code !== 0 || kafkajsVersion() !== '2.2.4') {
    return { ok: false, reason: `npm ci did not install kafkajs 2.2.4: ${tail(r.out, 5)}`, ms: Date.now() - t0, cached: false };
  }
  return { ok: true, ms: Date.now() - t0, cached: false };
}

const installers: Record<Toolchain, (log: Log) => Promise<InstallResult>> = {
  java: installJava,
  go: installGo,
  python: installPython,
  kcat: installKcat,
  kafkajs: installKafkajs,
};

/** Installs the toolchains in parallel; never throws. */
export async function installAll(toolchains: Iterable<Toolchain>, log: Log): Promise<Map<Toolchain, InstallResult>> {
  const list = [...new Set(toolchains)];
  const results = await Promise.all(
    list.map(async (t): Promise<[Toolchain, InstallResult]> => {
      try {
        return [t, await installers[t](log)];
      } catch (e) {
        return [t, { ok: false, reason: String(e), ms: 0, cached: false }];
      }
    }),
  );
  return new Map(results);
}
