// Kafka conformance: existing Kafka clients against the broker under test, client × scenario.
//
//   npm run conformance:kafka [-- --client a,b] [--scenario x,y] [--keep-going] [--verbose]
//   npm run conformance:kafka -- --kgo [--kgo-run REGEX] [--kgo-skip REGEX] [--kgo-timeout 10m]
//   CONFORMANCE_TARGET=kafka npm run conformance:kafka     (Apache Kafka 4.3.1 via reference/kafka/kafka.ts)
//
// See README.md beside this file.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import process from 'node:process';
import readline from 'node:readline';

import { CONF, GO_BIN, GO_DIR, JAVA_DIR, PY_BIN, PY_DIR, REPO, installAll, run, type InstallResult, type Toolchain } from './lib/install.ts';
import { startTarget, type Target } from './lib/target.ts';

// ------------------------------------------------------------------ clients and scenarios

export const SCENARIOS = ['roundtrip', 'idempotent', 'order100k', 'group', 'seek-timestamp', 'admin', 'groups-admin', 'delay'] as const;
type Scenario = (typeof SCENARIOS)[number];

const TIMEOUT_S: Record<Scenario, number> = {
  roundtrip: 150,
  idempotent: 150,
  order100k: 300,
  group: 360,
  'seek-timestamp': 120,
  admin: 120,
  'groups-admin': 150,
  delay: 120,
};

/** Per-target skips decided by the runner (the cell does not start). */
const TARGET_SKIP: Record<string, Partial<Record<Scenario, string>>> = {
  kafka: { delay: 'Apache Kafka has no delay topics (diglot.delay.enable is a Diglot topic config)' },
  diglot: {},
};

interface Client {
  id: string;
  label: string;
  toolchains: Toolchain[];
  command(scenario: Scenario): [string, string[]];
  /** Scenarios the client cannot do at all, with the reason. */
  skip?: Partial<Record<Scenario, string>>;
}

function java(dir: string): (s: Scenario) => [string, string[]] {
  return (s) => [
    'java',
    [
      '-Xmx512m',
      '-XX:+UseSerialGC',
      '-XX:TieredStopAtLevel=1',
      '-Dorg.slf4j.simpleLogger.defaultLogLevel=warn',
      '-Dorg.slf4j.simpleLogger.logFile=System.err',
      '-cp',
      `${path.join(JAVA_DIR, dir, 'target', 'classes')}${path.delimiter}${path.join(JAVA_DIR, dir, 'target', 'dependency', '*')}`,
      'Conformance',
      s,
    ],
  ];
}

const NODE = process.execPath;
const KCAT_NO_ADMIN = 'kcat has no admin operations (only -L metadata listing)';

export const CLIENTS: Client[] = [
  { id: 'java-3.9', label: 'Java kafka-clients 3.9.2', toolchains: ['java'], command: java('v39') },
  { id: 'java-4', label: 'Java kafka-clients 4.3.1', toolchains: ['java'], command: java('v4') },
  { id: 'confluent-kafka', label: 'confluent-kafka (Python, librdkafka)', toolchains: ['python'], command: (s) => [PY_BIN, [path.join(PY_DIR, 'confluent_driver.py'), s]] },
  { id: 'kafka-python', label: 'kafka-python', toolchains: ['python'], command: (s) => [PY_BIN, [path.join(PY_DIR, 'kafkapython_driver.py'), s]] },
  { id: 'franz-go', label: 'franz-go (kgo + kadm)', toolchains: ['go'], command: (s) => [GO_BIN, ['franz', s]] },
  { id: 'sarama', label: 'IBM/sarama', toolchains: ['go'], command: (s) => [GO_BIN, ['sarama', s]] },
  {
    id: 'kcat',
    label: 'kcat (librdkafka, Debian)',
    toolchains: ['kcat', 'kafkajs'],
    command: (s) => [NODE, [path.join(CONF, 'node', 'kcat.ts'), s]],
    skip: {
      group: 'kcat -G joins a balanced group, but gives no control over leaving, commits or assignment to check',
      admin: KCAT_NO_ADMIN,
      'groups-admin': KCAT_NO_ADMIN,
      delay: 'kcat cannot create the topic with diglot.delay.enable=true, which is part of what the scenario checks (its other cells borrow kafkajs\'s admin only for plain topics)',
    },
  },
  { id: 'kafkajs', label: 'kafkajs 2.2.4', toolchains: ['kafkajs'], command: (s) => [NODE, [path.join(CONF, 'node', 'kafkajs.ts'), s]] },
];

// ------------------------------------------------------------------ options

interface Options {
  clients: Client[];
  scenarios: Scenario[];
  keepGoing: boolean;
  verbose: boolean;
  kgo: boolean;
  kgoRun: string;
  kgoSkip: string;
  kgoTimeout: string;
  target: string;
}

function usage(code: number): never {
  const out = code === 0 ? process.stdout : process.stderr;
  out.write(`usage: node conformance/kafka/run.ts [--client ${CLIENTS.map((c) => c.id).join(',')}]
       [--scenario ${SCENARIOS.join(',')}] [--keep-going] [--verbose]
       node conformance/kafka/run.ts --kgo [--kgo-run REGEX] [--kgo-skip REGEX] [--kgo-timeout 10m]
env: CONFORMANCE_TARGET=diglot (default) | kafka
`);
  process.exit(code);
}

function parseArgs(argv: string[]): Options {
  const o: Options = {
    clients: CLIENTS,
    scenarios: [...SCENARIOS],
    keepGoing: false,
    verbose: false,
    kgo: false,
    kgoRun: '.',
    kgoSkip: '',
    kgoTimeout: '10m',
    target: process.env['CONFORMANCE_TARGET'] || 'diglot',
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const [flag, inline] = a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
    const value = () => inline ?? argv[++i] ?? usage(2);
    switch (flag) {
      case '--client':
      case '--clients': {
        const ids = value().split(',').filter(Boolean);
        o.clients = ids.map((id) => CLIENTS.find((c) => c.id === id) ?? (console.error(`unknown client ${id}`), usage(2)));
        break;
      }
      case '--scenario':
      case '--scenarios': {
        const ids = value().split(',').filter(Boolean);
        o.scenarios = ids.map((id) => (SCENARIOS as readonly string[]).includes(id) ? (id as Scenario) : (console.error(`unknown scenario ${id}`), usage(2)));
        break;
      }
      case '--keep-going':
      case '-k':
        o.keepGoing = true;
        break;
      case '--verbose':
      case '-v':
        o.verbose = true;
        break;
      case '--kgo':
        o.kgo = true;
        break;
      case '--kgo-run':
        o.kgoRun = value();
        break;
      case '--kgo-skip':
        o.kgoSkip = value();
        break;
      case '--kgo-timeout':
        o.kgoTimeout = value();
        break;
      case '--target':
        o.target = value();
        break;
      case '--help':
      case '-h':
        usage(0);
        break;
      default:
        console.error(`unknown argument ${a}`);
        usage(2);
    }
  }
  return o;
}

// ------------------------------------------------------------------ one cell

type Status = 'pass' | 'fail' | 'skip' | 'not-run';

interface Cell {
  client: Client;
  scenario: Scenario;
  status: Status;
  detail: string;
  ms: number;
}

const log = (line: string) => process.stderr.write(`[conformance] ${line}\n`);

function oneLine(s: string, max = 400): string {
  const t = s.replace(/\s+/g, ' ').trim();
  return t.length > max ? t.slice(0, max - 1) + '…' : t;
}

async function runCell(client: Client, scenario: Scenario, target: Target, runId: string, logDir: string): Promise<Omit<Cell, 'client' | 'scenario'>> {
  const t0 = Date.now();
  const [cmd, args] = client.command(scenario);
  const logFile = path.join(logDir, `${client.id}-${scenario}.log`);
  const logOut = fs.createWriteStream(logFile);
  logOut.write(`$ ${cmd} ${args.join(' ')}\n# BOOTSTRAP=${target.bootstrap} RUN_ID=${runId}\n`);
  const child = spawn(cmd, args, {
    cwd: REPO,
    env: { ...process.env, BOOTSTRAP: target.bootstrap, RUN_ID: runId, CONFORMANCE_TARGET: target.name, PYTHONUNBUFFERED: '1' },
    stdio: ['pipe', 'pipe', 'pipe'],
    detached: true,
  });
  child.stdin.on('error', () => {});
  let result: { ok: boolean; detail: string; skip?: string } | undefined;
  let restartError: string | undefined;
  let stderrTail: string[] = [];
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      child.kill('SIGKILL');
    }
  }, TIMEOUT_S[scenario] * 1000);
  child.stderr.on('data', (d: Buffer) => {
    logOut.write(d);
    stderrTail = stderrTail.concat(d.toString().split('\n').filter(Boolean)).slice(-8);
  });
  const lines = readline.createInterface({ input: child.stdout });
  const restarts: Promise<void>[] = [];
  lines.on('line', (line) => {
    logOut.write(`stdout: ${line}\n`);
    let msg: Record<string, unknown>;
    try {
      msg = JSON.parse(line) as Record<string, unknown>;
    } catch {
      return;
    }
    if (msg['control'] === 'restart-broker') {
      restarts.push(
        (async () => {
          const r0 = Date.now();
          log(`${client.id} ${scenario}: restarting the broker`);
          try {
            await target.restart();
            log(`${client.id} ${scenario}: broker back after ${((Date.now() - r0) / 1000).toFixed(1)} s`);
            child.stdin.write('restarted\n');
          } catch (e) {
            restartError = String(e);
            child.stdin.write(`restart-failed\n`);
          }
        })(),
      );
    } else if (typeof msg['ok'] === 'boolean') {
      result = { ok: msg['ok'], detail: String(msg['detail'] ?? ''), skip: typeof msg['skip'] === 'string' ? msg['skip'] : undefined };
    }
  });
  const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
  clearTimeout(timer);
  await Promise.all(restarts);
  logOut.end();
  const ms = Date.now() - t0;
  const where = ` [log ${path.relative(process.cwd(), logFile)}]`;
  if (restartError) return { status: 'fail', detail: `broker restart failed: ${oneLine(restartError)}`, ms };
  if (timedOut) {
    return { status: 'fail', detail: `timed out after ${TIMEOUT_S[scenario]} s; stderr: ${oneLine(stderrTail.join(' | '), 300)}${where}`, ms };
  }
  if (!result) return { status: 'fail', detail: `exited ${code} without a result line; stderr: ${oneLine(stderrTail.join(' | '), 300)}${where}`, ms };
  if (result.skip) return { status: 'skip', detail: result.skip, ms };
  return { status: result.ok ? 'pass' : 'fail', detail: result.ok ? result.detail : result.detail + where, ms };
}

// ------------------------------------------------------------------ report

function pad(s: string, n: number): string {
  return s + ' '.repeat(Math.max(0, n - [...s].length));
}

const MARK: Record<Status, string> = { pass: '✔', fail: '✖', skip: 'skip', 'not-run': '-' };

function printMatrix(cells: Cell[], clients: Client[], scenarios: Scenario[], target: string): void {
  const w0 = Math.max(6, ...clients.map((c) => c.id.length));
  const widths = scenarios.map((s) => Math.max(s.length, 4));
  const out: string[] = [];
  out.push('');
  out.push(`Kafka conformance matrix (target: ${target})`);
  out.push(pad('client', w0) + ' | ' + scenarios.map((s, i) => pad(s, widths[i]!)).join(' | '));
  out.push('-'.repeat(w0) + '-+-' + widths.map((w) => '-'.repeat(w)).join('-+-'));
  for (const c of clients) {
    out.push(
      pad(c.id, w0) +
        ' | ' +
        scenarios
          .map((s, i) => {
            const cell = cells.find((x) => x.client === c && x.scenario === s);
            return pad(cell ? MARK[cell.status] : '-', widths[i]!);
          })
          .join(' | '),
    );
  }
  const notes = cells.filter((c) => c.status === 'fail' || c.status === 'skip');
  if (notes.length > 0) {
    out.push('');
    for (const c of notes) out.push(`${MARK[c.status]} ${c.client.id} ${c.scenario}: ${c.detail}`);
  }
  process.stdout.write(out.join('\n') + '\n');
}

// ------------------------------------------------------------------ kgo suite

async function runKgo(o: Options): Promise<number> {
  const t0 = Date.now();
  const inst = await installAll(['go'], log);
  const go = inst.get('go')!;
  if (!go.ok) {
    process.stdout.write(`kgo: go toolchain not ready: ${go.reason}\n0 passed, 1 failed\n`);
    return 1;
  }
  const dl = await run('go', ['mod', 'download', 'github.com/twmb/franz-go'], { cwd: GO_DIR });
  if (dl.code !== 0) {
    process.stdout.write(`kgo: go mod download failed: ${dl.out}\n0 passed, 1 failed\n`);
    return 1;
  }
  log(`install: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  const { target, workDir } = await startTarget(o.target, log);
  log(`target: ${target.describe()}`);
  if (target.unavailable) {
    await target.stop();
    process.stdout.write(`kgo: ${target.unavailable}\n0 passed, 1 failed\n`);
    return 1;
  }
  const outFile = path.join(workDir, 'kgo-test.json');
  const env = { ...process.env, KGO_SEEDS: target.bootstrap, KGO_TEST_RF: '1', KGO_TEST_STABLE_FETCH: 'true', GOFLAGS: '-mod=mod' };
  const goArgs = ['test', '-json', '-count=1', '-timeout', o.kgoTimeout, '-run', o.kgoRun, ...(o.kgoSkip ? ['-skip', o.kgoSkip] : []), 'github.com/twmb/franz-go/pkg/kgo'];
  log(`go ${goArgs.join(' ')} (KGO_SEEDS=${target.bootstrap} KGO_TEST_RF=1), output ${outFile}`);
  const t1 = Date.now();
  const child = spawn('go', goArgs, {
    cwd: GO_DIR,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const out = fs.createWriteStream(outFile);
  const status = new Map<string, string>();
  const elapsed = new Map<string, number>();
  const outputOf = new Map<string, string[]>();
  let buildOutput = '';
  child.stderr.on('data', (d: Buffer) => (buildOutput += d.toString()));
  const rl = readline.createInterface({ input: child.stdout });
  rl.on('line', (line) => {
    out.write(line + '\n');
    let ev: { Action?: string; Test?: string; Elapsed?: number; Output?: string };
    try {
      ev = JSON.parse(line) as typeof ev;
    } catch {
      buildOutput += line + '\n';
      return;
    }
    if (!ev.Test) {
      if (ev.Action === 'output' && ev.Output) buildOutput += ev.Output;
      return;
    }
    if (ev.Action === 'output' && ev.Output && !ev.Test.includes('/')) {
      const l = outputOf.get(ev.Test) ?? [];
      l.push(ev.Output);
      outputOf.set(ev.Test, l.slice(-6));
    }
    if (ev.Action === 'run') status.set(ev.Test, 'run');
    if (ev.Action === 'pass' || ev.Action === 'fail' || ev.Action === 'skip') {
      status.set(ev.Test, ev.Action);
      if (ev.Elapsed !== undefined) elapsed.set(ev.Test, ev.Elapsed);
    }
  });
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  out.end();
  await target.stop();
  const top = [...status.entries()].filter(([name]) => !name.includes('/'));
  const count = (s: string) => top.filter(([, st]) => st === s).length;
  const unfinished = top.filter(([, st]) => st === 'run').map(([n]) => n);
  const failed = top.filter(([, st]) => st === 'fail').map(([n]) => n);
  const lines: string[] = [];
  lines.push('');
  lines.push(`franz-go pkg/kgo tests against ${o.target}${o.kgoSkip ? ` (skipping ${o.kgoSkip})` : ''} (${((Date.now() - t1) / 1000).toFixed(0)} s, go test exit ${code}):`);
  for (const [name, st] of top.sort()) {
    if (st === 'fail' || st === 'run') {
      const tail = (outputOf.get(name) ?? []).join('').trim().split('\n').slice(-3).join(' | ');
      lines.push(`  ${st === 'run' ? 'UNFINISHED' : 'FAIL'} ${name} ${elapsed.has(name) ? `(${elapsed.get(name)} s)` : ''} ${oneLine(tail, 300)}`);
    }
  }
  if (top.length === 0) lines.push(`  no test ran; go test said:\n${buildOutput.trim().split('\n').slice(-15).join('\n')}`);
  lines.push(`  top-level tests: ${count('pass')} passed, ${failed.length} failed, ${count('skip')} skipped, ${unfinished.length} unfinished (timeout)`);
  const nFailed = failed.length + unfinished.length + (top.length === 0 ? 1 : 0);
  lines.push(`${count('pass')} passed, ${nFailed} failed, ${count('skip')} skipped`);
  process.stdout.write(lines.join('\n') + '\n');
  return nFailed > 0 ? 1 : 0;
}

// ------------------------------------------------------------------ main

async function main(): Promise<number> {
  const o = parseArgs(process.argv.slice(2));
  if (o.kgo) return runKgo(o);
  const tStart = Date.now();
  const toolchains = new Set(o.clients.flatMap((c) => c.toolchains));
  log(`installing ${[...toolchains].join(', ')} and starting ${o.target}`);
  const [installs, started] = await Promise.all([
    installAll(toolchains, log).then((r) => {
      log(`install finished in ${((Date.now() - tStart) / 1000).toFixed(1)} s (${[...r].map(([t, x]) => `${t} ${x.ok ? (x.cached ? 'cached' : `${(x.ms / 1000).toFixed(1)} s`) : x.skip ? 'unavailable' : 'FAILED'}`).join(', ')})`);
      return r;
    }),
    startTarget(o.target, log).then(
      (x) => ({ ...x, error: undefined as string | undefined }),
      (e: unknown) => ({ target: undefined, workDir: undefined, error: String(e instanceof Error ? e.message : e) }),
    ),
  ]);
  if (!started.target) {
    process.stdout.write(`cannot start target ${o.target}: ${started.error}\n0 passed, 1 failed\n`);
    return 1;
  }
  const target = started.target;
  const logDir = path.join(started.workDir!, 'logs');
  fs.mkdirSync(logDir, { recursive: true });
  log(`target: ${target.describe()}`);
  log(`client logs: ${logDir}`);

  const cells: Cell[] = [];
  const runBase = Date.now().toString(36);
  let stop = false;
  let n = 0;
  const tRun = Date.now();
  for (const client of o.clients) {
    const broken = client.toolchains.map((t) => [t, installs.get(t)!] as [Toolchain, InstallResult]).find(([, r]) => !r.ok);
    for (const scenario of o.scenarios) {
      const cell: Cell = { client, scenario, status: 'not-run', detail: 'not run (an earlier cell failed; --keep-going runs all)', ms: 0 };
      cells.push(cell);
      if (stop) continue;
      const skip = client.skip?.[scenario] ?? TARGET_SKIP[target.name]?.[scenario];
      if (skip) Object.assign(cell, { status: 'skip', detail: skip });
      else if (broken) Object.assign(cell, broken[1].skip ? { status: 'skip', detail: broken[1].reason } : { status: 'fail', detail: `${broken[0]} install failed: ${oneLine(broken[1].reason ?? '')}` });
      else if (target.unavailable) Object.assign(cell, { status: 'fail', detail: target.unavailable });
      else {
        if (!target.alive()) {
          log(`the broker is not running: restarting it before ${client.id} ${scenario}`);
          try {
            await target.restart();
          } catch (e) {
            Object.assign(cell, { status: 'fail', detail: `broker down and could not be restarted: ${oneLine(String(e))}` });
          }
        }
        if (cell.status === 'not-run') {
          log(`${client.id} ${scenario} …`);
          Object.assign(cell, await runCell(client, scenario, target, `${runBase}-${n++}`, logDir));
          if (!target.alive()) cell.detail += ' (the broker process died during this cell)';
        }
      }
      const secs = cell.ms ? ` ${(cell.ms / 1000).toFixed(1)} s` : '';
      process.stdout.write(`${MARK[cell.status]} ${client.id} ${scenario}${secs}: ${o.verbose || cell.status !== 'pass' ? cell.detail : oneLine(cell.detail, 160)}\n`);
      if (cell.status === 'fail' && !o.keepGoing) stop = true;
    }
  }
  await target.stop();
  printMatrix(cells, o.clients, o.scenarios, target.describe());
  const passed = cells.filter((c) => c.status === 'pass').length;
  const failed = cells.filter((c) => c.status === 'fail').length;
  const skipped = cells.filter((c) => c.status === 'skip').length;
  const notRun = cells.filter((c) => c.status === 'not-run').length;
  process.stdout.write(
    `\ntimes: install+start ${((tRun - tStart) / 1000).toFixed(1)} s, scenarios ${((Date.now() - tRun) / 1000).toFixed(1)} s` +
      (notRun ? `; ${notRun} not run (stopped at the first failure)` : '') +
      `\n${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}\n`,
  );
  return failed > 0 || passed === 0 ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stdout.write(`conformance runner crashed: ${e instanceof Error ? e.stack : String(e)}\n0 passed, 1 failed\n`);
    process.exit(1);
  },
);
