// RocketMQ conformance: existing RocketMQ remoting clients against the broker under test, client × scenario.
//
//   npm run conformance:rocketmq [-- --client a,b] [--scenario x,y] [--keep-going] [--verbose]
//   CONFORMANCE_TARGET=rocketmq npm run conformance:rocketmq   (Apache RocketMQ 5.3.3 via reference/rocketmq/rocketmq.ts)
//
// See README.md beside this file.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import process from 'node:process';
import readline from 'node:readline';

import { ALIONS_DRIVER, GO_BIN, JAVA_DIR, MQADMIN_DRIVER, REPO, installAll, javaClasspath, type InstallResult, type Toolchain } from './lib/install.ts';
import { startTarget, type Target } from './lib/target.ts';
import { CodeTracer } from './lib/trace.ts';

// ------------------------------------------------------------------ clients and scenarios

export const SCENARIOS = [
  'send',
  'cluster',
  'broadcast',
  'orderly',
  'litepull',
  'filter-tag',
  'filter-sql',
  'retry-dlq',
  'delay',
  'query',
  'cross-kafka',
  'admin',
] as const;
type Scenario = (typeof SCENARIOS)[number];

const TIMEOUT_S: Record<Scenario, number> = {
  send: 150,
  cluster: 360,
  broadcast: 150,
  orderly: 300,
  litepull: 150,
  'filter-tag': 150,
  'filter-sql': 150,
  'retry-dlq': 240,
  delay: 180,
  query: 150,
  'cross-kafka': 180,
  admin: 300,
};

/** Per-target skips decided by the runner (the cell does not start). */
const TARGET_SKIP: Record<string, Partial<Record<Scenario, string>>> = {
  rocketmq: { 'cross-kafka': 'no Kafka listener on Apache RocketMQ' },
  diglot: {},
};

interface CellContext {
  logDir: string;
}

interface Client {
  id: string;
  label: string;
  toolchains: Toolchain[];
  command(scenario: Scenario, ctx: CellContext): [string, string[]];
  /** Scenarios the client cannot do at all, with the reason. */
  skip?: Partial<Record<Scenario, string>>;
}

function java(module: 'v49' | 'v5'): (s: Scenario, ctx: CellContext) => [string, string[]] {
  return (s, ctx) => {
    const clientLogs = path.join(ctx.logDir, `rocketmq-client-java-${module}`);
    return [
      'java',
      [
        '-Xmx256m',
        '-XX:+UseSerialGC',
        '-XX:TieredStopAtLevel=1',
        // 4.9.8: the client's own logger writes files under the run's log dir, WARN and up.
        `-Drocketmq.client.logRoot=${clientLogs}`,
        '-Drocketmq.client.logLevel=WARN',
        // 5.3.3: the shaded logback would pick rocketmq-tools' config (INFO into ~/logs/rocketmqlogs): WARN to stderr.
        `-Drmq.logback.configurationFile=${path.join(JAVA_DIR, 'logback-stderr.xml')}`,
        '-Drocketmq.log.level=warn',
        // 4.9.8's classpath has logback (through rocketmq-tools), Kafka's client logs through slf4j: WARN to stderr.
        `-Dlogback.configurationFile=${path.join(JAVA_DIR, 'logback-stderr.xml')}`,
        '-cp',
        javaClasspath(module),
        'Conformance',
        s,
      ],
    ];
  };
}

const NODE = process.execPath;
const MQADMIN_ONLY = 'mqadmin is an admin tool';
/** The admin scenario is driven through mqadmin; the other drivers do not implement it. */
const ADMIN_IS_MQADMINS = { admin: "the admin scenario is the mqadmin client's" };

export const CLIENTS: Client[] = [
  { id: 'java-4.9', label: 'Java rocketmq-client 4.9.8', toolchains: ['java'], command: java('v49'), skip: ADMIN_IS_MQADMINS },
  { id: 'java-5', label: 'Java rocketmq-client 5.3.3', toolchains: ['java'], command: java('v5'), skip: ADMIN_IS_MQADMINS },
  { id: 'go', label: 'rocketmq-client-go/v2', toolchains: ['go'], command: (s) => [GO_BIN, [s]], skip: ADMIN_IS_MQADMINS },
  { id: 'ali-ons', label: 'ali-ons (npm)', toolchains: ['ali-ons'], command: (s) => [NODE, [ALIONS_DRIVER, s]], skip: ADMIN_IS_MQADMINS },
  {
    id: 'mqadmin',
    label: 'mqadmin (rocketmq-tools 5.3.3)',
    toolchains: ['rocketmq-ref', 'java'],
    command: (s) => [NODE, [MQADMIN_DRIVER, s]],
    skip: Object.fromEntries(SCENARIOS.filter((s) => s !== 'admin').map((s) => [s, MQADMIN_ONLY])),
  },
];

// ------------------------------------------------------------------ options

interface Options {
  clients: Client[];
  scenarios: Scenario[];
  keepGoing: boolean;
  verbose: boolean;
  traceCodes: boolean;
  target: string;
}

function usage(code: number): never {
  const out = code === 0 ? process.stdout : process.stderr;
  out.write(`usage: node conformance/rocketmq/run.ts [--client ${CLIENTS.map((c) => c.id).join(',')}]
       [--scenario ${SCENARIOS.join(',')}] [--keep-going] [--verbose] [--target diglot|rocketmq]
       [--trace-codes]   (proxy the RocketMQ ports and list the request codes each cell used)
env: CONFORMANCE_TARGET=diglot (default) | rocketmq
`);
  process.exit(code);
}

function parseArgs(argv: string[]): Options {
  const o: Options = {
    clients: CLIENTS,
    scenarios: [...SCENARIOS],
    keepGoing: false,
    verbose: false,
    traceCodes: false,
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
        o.scenarios = ids.map((id) => ((SCENARIOS as readonly string[]).includes(id) ? (id as Scenario) : (console.error(`unknown scenario ${id}`), usage(2))));
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
      case '--target':
        o.target = value();
        break;
      case '--trace-codes':
        o.traceCodes = true;
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

async function runCell(
  client: Client,
  scenario: Scenario,
  target: Target,
  namesrv: string,
  runId: string,
  logDir: string,
): Promise<Omit<Cell, 'client' | 'scenario'>> {
  const t0 = Date.now();
  const [cmd, args] = client.command(scenario, { logDir });
  const logFile = path.join(logDir, `${client.id}-${scenario}.log`);
  const logOut = fs.createWriteStream(logFile);
  const env = {
    ...process.env,
    NAMESRV: namesrv,
    KAFKA_BOOTSTRAP: target.kafkaBootstrap,
    RUN_ID: runId,
    CONFORMANCE_TARGET: target.name,
    CONFORMANCE_LOG_DIR: logDir,
  };
  logOut.write(`$ ${cmd} ${args.join(' ')}\n# NAMESRV=${env.NAMESRV} KAFKA_BOOTSTRAP=${env.KAFKA_BOOTSTRAP} RUN_ID=${runId} CONFORMANCE_TARGET=${target.name}\n`);
  const child = spawn(cmd, args, { cwd: REPO, env, stdio: ['pipe', 'pipe', 'pipe'], detached: true });
  child.stdin.on('error', () => {});
  let spawnError: string | undefined;
  child.on('error', (e) => {
    spawnError = e.message;
  });
  let result: { ok: boolean; detail: string } | { skip: string } | undefined;
  let restartError: string | undefined;
  let stderrTail: string[] = [];
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    try {
      process.kill(-child.pid!, 'SIGKILL'); // the whole process group: drivers may have children (mqadmin JVMs)
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
    if (msg === null || typeof msg !== 'object') return;
    if (msg['control'] === 'restart-broker') {
      restarts.push(
        (async () => {
          const r0 = Date.now();
          log(`${client.id} ${scenario}: restarting the broker`);
          logOut.write(`# runner: restarting the broker\n`);
          try {
            await target.restart();
            log(`${client.id} ${scenario}: broker back after ${((Date.now() - r0) / 1000).toFixed(1)} s`);
            logOut.write(`# runner: broker back after ${((Date.now() - r0) / 1000).toFixed(1)} s\n`);
            child.stdin.write('restarted\n');
          } catch (e) {
            restartError = String(e instanceof Error ? e.message : e);
            child.stdin.write('restart-failed\n');
          }
        })(),
      );
    } else if (typeof msg['skip'] === 'string') {
      result = { skip: msg['skip'] };
    } else if (typeof msg['ok'] === 'boolean') {
      result = { ok: msg['ok'], detail: String(msg['detail'] ?? '') };
    }
  });
  const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
  clearTimeout(timer);
  await Promise.all(restarts);
  logOut.end();
  const ms = Date.now() - t0;
  const where = ` [log ${path.relative(process.cwd(), logFile)}]`;
  if (spawnError) return { status: 'fail', detail: `could not start ${cmd}: ${spawnError}`, ms };
  if (restartError) return { status: 'fail', detail: `broker restart failed: ${oneLine(restartError)}${where}`, ms };
  if (timedOut) {
    return { status: 'fail', detail: `timed out after ${TIMEOUT_S[scenario]} s; stderr: ${oneLine(stderrTail.join(' | '), 300)}${where}`, ms };
  }
  if (!result) return { status: 'fail', detail: `exited ${code} without a result line; stderr: ${oneLine(stderrTail.join(' | '), 300)}${where}`, ms };
  if ('skip' in result) return { status: 'skip', detail: result.skip, ms };
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
  out.push(`RocketMQ conformance matrix (target: ${target})`);
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
  // Failures with their reasons; skips grouped by reason (mqadmin's ten "admin tool" skips make one line).
  const fails = cells.filter((c) => c.status === 'fail');
  const skips = new Map<string, string[]>();
  for (const c of cells.filter((x) => x.status === 'skip')) {
    const key = c.detail;
    skips.set(key, [...(skips.get(key) ?? []), `${c.client.id} ${c.scenario}`]);
  }
  if (fails.length + skips.size > 0) out.push('');
  for (const c of fails) out.push(`✖ ${c.client.id} ${c.scenario}: ${c.detail}`);
  for (const [reason, which] of skips) out.push(`skip ${which.length > 3 ? `${which.length} cells (${which.slice(0, 2).join(', ')}, …)` : which.join(', ')}: ${reason}`);
  process.stdout.write(out.join('\n') + '\n');
}

// ------------------------------------------------------------------ main

async function main(): Promise<number> {
  const o = parseArgs(process.argv.slice(2));
  const tStart = Date.now();
  const toolchains = new Set(o.clients.flatMap((c) => c.toolchains));
  log(`installing ${[...toolchains].join(', ')} and starting ${o.target}`);
  const [installs, started] = await Promise.all([
    installAll(toolchains, log).then((r) => {
      log(
        `install finished in ${((Date.now() - tStart) / 1000).toFixed(1)} s (${[...r]
          .map(([t, x]) => `${t} ${x.ok ? (x.cached ? 'cached' : `${(x.ms / 1000).toFixed(1)} s`) : 'FAILED'}`)
          .join(', ')})`,
      );
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
  let namesrv = target.namesrv;
  let tracer: CodeTracer | undefined;
  if (o.traceCodes && !target.unavailable) {
    tracer = new CodeTracer();
    const map = await tracer.start(target.rocketmqPorts);
    namesrv = `127.0.0.1:${map.get(target.rocketmqPorts[0]!)}`;
    log(`--trace-codes: drivers get NAMESRV=${namesrv}; proxy ${[...map].map(([u, p]) => `${p}→${u}`).join(', ')}`);
  }
  let interrupted = false;
  process.once('SIGINT', () => {
    interrupted = true;
    log('interrupted: stopping the target');
    void target.stop().then(() => process.exit(130));
  });

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
      if (stop || interrupted) continue;
      const skip = client.skip?.[scenario] ?? TARGET_SKIP[target.name]?.[scenario];
      if (skip) Object.assign(cell, { status: 'skip', detail: skip });
      else if (broken) Object.assign(cell, { status: 'fail', detail: `${broken[0]} toolchain not available: ${oneLine(broken[1].reason ?? '')}` });
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
          if (tracer) tracer.current = `${client.id} ${scenario}`;
          Object.assign(cell, await runCell(client, scenario, target, namesrv, `${runBase}_${n++}`, logDir));
          if (tracer) tracer.current = 'between cells';
          if (!target.alive()) cell.detail += ' (the broker process died during this cell)';
        }
      }
      const secs = cell.ms ? ` ${(cell.ms / 1000).toFixed(1)} s` : '';
      process.stdout.write(`${MARK[cell.status]} ${client.id} ${scenario}${secs}: ${o.verbose || cell.status !== 'pass' ? cell.detail : oneLine(cell.detail, 160)}\n`);
      if (cell.status === 'fail' && !o.keepGoing) stop = true;
    }
  }
  await target.stop();
  if (tracer) {
    await tracer.stop();
    const file = path.join(started.workDir!, 'request-codes.json');
    tracer.write(file);
    process.stdout.write(`\nRequest codes per cell (client → broker/name server; ×count), also in ${file}:\n${tracer.report().join('\n')}\n`);
  }
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
