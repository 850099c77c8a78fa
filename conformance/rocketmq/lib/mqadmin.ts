// Conformance driver for mqadmin (org.apache.rocketmq.tools.command.MQAdminStartup of rocketmq-tools 5.3.3, the jars
// of reference/rocketmq): one JVM per sub-command, output checked as a user would read it.
//
//   node conformance/rocketmq/lib/mqadmin.ts admin
//   env: NAMESRV=host:port, RUN_ID=<unique suffix>, CONFORMANCE_LOG_DIR (optional: where the tool JVMs log)
//
// Data is put in (and consumed, so consumerProgress has offsets) by the Java driver's `admin-data` helper
// (rocketmq-client 5.3.3, conformance/rocketmq/java/v5). Same output contract as the other drivers: progress on
// stderr, last stdout line {"ok":bool,"detail":"..."} or {"skip":"reason"}.
import { spawn } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import process from 'node:process';

import { JAVA_DIR, REFERENCE_TS, javaClasspath } from './install.ts';

const NAMESRV = process.env['NAMESRV'] || '127.0.0.1:9876';
const RUN = (process.env['RUN_ID'] || Date.now().toString(36)).replace(/[^A-Za-z0-9_-]/g, '_');
const LOG_DIR = path.join(process.env['CONFORMANCE_LOG_DIR'] || os.tmpdir(), 'mqadmin-client');

interface ToolResult {
  stdout: string;
  stderr: string;
  code: number | null;
  timedOut: boolean;
  ms: number;
}

interface Reference {
  MQADMIN: string;
  runTool(mainClass: string, args: string[], opts?: { timeoutMs?: number; logDir?: string; heapMb?: number }): Promise<ToolResult>;
}

class Fail extends Error {}

const t0 = Date.now();
function log(msg: string): void {
  process.stderr.write(`[mqadmin +${((Date.now() - t0) / 1000).toFixed(1)}s] ${msg}\n`);
}

function check(cond: unknown, msg: string): asserts cond {
  if (!cond) throw new Fail(msg);
}

function oneLine(s: string, max = 300): string {
  const t = s.replace(/\s+/g, ' ').trim();
  return t.length > max ? t.slice(0, max - 1) + '…' : t;
}

let ref: Reference;
const used: string[] = [];

/** Runs `mqadmin <sub> -n NAMESRV <args>`; logs the command and its output; fails on a timeout or a "command failed". */
async function mqadmin(sub: string, ...args: string[]): Promise<string> {
  used.push(sub);
  const full = [sub, '-n', NAMESRV, ...args];
  log(`$ mqadmin ${full.join(' ')}`);
  const r = await ref.runTool(ref.MQADMIN, full, { timeoutMs: 60_000, logDir: LOG_DIR, heapMb: 256 });
  process.stderr.write(r.stdout.replace(/^/gm, '  | ') + (r.stderr.trim() ? r.stderr.replace(/^/gm, '  ! ') : '') + '\n');
  check(!r.timedOut, `mqadmin ${sub} timed out after 60 s`);
  const all = r.stdout + r.stderr;
  check(!/command failed/.test(all), `mqadmin ${sub} failed (exit ${r.code}): ${oneLine(all)}`);
  check(r.code === 0, `mqadmin ${sub} exited ${r.code}: ${oneLine(all)}`);
  return r.stdout;
}

/** Data rows of a table printed by mqadmin (header lines start with '#'), split on whitespace. */
function rows(out: string): string[][] {
  return out
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => l.split(/\s+/));
}

function topicListHas(out: string, topic: string): boolean {
  return out.split('\n').some((l) => l.trim() === topic);
}

/** The Java driver's admin-data helper (rocketmq-client 5.3.3): sends n messages with KEYS=key, consumes them with group. */
function adminData(topic: string, group: string, key: string, n: number): Promise<{ uniq: string[]; offset: string[] }> {
  return new Promise((resolve, reject) => {
    const args = [
      '-Xmx256m', '-XX:+UseSerialGC', '-XX:TieredStopAtLevel=1',
      `-Drocketmq.client.logRoot=${LOG_DIR}`, '-Drocketmq.client.logLevel=WARN', '-Drocketmq.log.level=warn',
      `-Drmq.logback.configurationFile=${path.join(JAVA_DIR, 'logback-stderr.xml')}`,
      `-Dlogback.configurationFile=${path.join(JAVA_DIR, 'logback-stderr.xml')}`,
      '-cp', javaClasspath('v5'), 'Conformance', 'admin-data', topic, group, key, String(n),
    ];
    log(`$ java … Conformance admin-data ${topic} ${group} ${key} ${n}`);
    const child = spawn('java', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => process.stderr.write(d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 90_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      const lines = out.trim().split('\n');
      let ids: { uniq: string[]; offset: string[] } | undefined;
      let result: { ok?: boolean; detail?: string } = {};
      for (const l of lines) {
        try {
          const j = JSON.parse(l) as Record<string, unknown>;
          if (Array.isArray(j['uniq'])) ids = j as unknown as { uniq: string[]; offset: string[] };
          if (typeof j['ok'] === 'boolean') result = j as { ok: boolean; detail: string };
        } catch {
          /* not ours */
        }
      }
      if (result.ok && ids) resolve(ids);
      else reject(new Fail(`admin-data helper failed (exit ${code}): ${result.detail ?? oneLine(out)}`));
    });
  });
}

async function admin(): Promise<string> {
  ref = (await import(REFERENCE_TS)) as Reference;
  const topic = `T_admin_${RUN}`;
  const group = `G_admin_${RUN}`;
  const group2 = `G_admin2_${RUN}`;
  const key = `AK_${RUN}`;

  // clusterList: 106 + 28 per broker
  const cl = rows(await mqadmin('clusterList'));
  check(cl.length >= 1 && cl[0]!.length >= 4, `clusterList lists no broker`);
  const [cluster, brokerName, bid, addr] = cl[0]!;
  check(bid === '0' && /^[\d.]+:\d+$/.test(addr!), `clusterList row ${cl[0]!.join(' ')}: want BID 0 and an address`);

  // updateTopic: 106 + 17
  const ut = await mqadmin('updateTopic', '-c', cluster!, '-t', topic, '-r', '4', '-w', '4');
  check(new RegExp(`create topic to ${addr!.replace(/\./g, '\\.')} success`).test(ut), `updateTopic: ${oneLine(ut)}`);

  const tl = await mqadmin('topicList');
  check(topicListHas(tl, topic), `topicList does not list ${topic}`);

  // topicRoute: 105 (fastjson output with unquoted numeric keys: check text, not JSON.parse)
  const tr = await mqadmin('topicRoute', '-t', topic);
  check(tr.includes(`"brokerName":"${brokerName}"`) && tr.includes(`"${addr}"`), `topicRoute does not name ${brokerName} at ${addr}: ${oneLine(tr)}`);
  check(/"readQueueNums":4/.test(tr) && /"writeQueueNums":4/.test(tr), `topicRoute: want 4 read and 4 write queues: ${oneLine(tr)}`);

  const before = Date.now() - 2_000;
  const ids = await adminData(topic, group, key, 8);

  // topicStatus: 105 + 202
  const ts = rows(await mqadmin('topicStatus', '-t', topic)).filter((r) => r[0] === brokerName);
  check(ts.length === 4, `topicStatus: ${ts.length} queue rows, want 4`);
  const maxSum = ts.reduce((s, r) => s + Number(r[3]), 0);
  check(ts.every((r) => r[2] === '0') && maxSum === 8, `topicStatus: min offsets ${ts.map((r) => r[2])} max offsets ${ts.map((r) => r[3])}, want min 0 and 8 in all`);

  // updateSubGroup: 106 + 200
  const us = await mqadmin('updateSubGroup', '-c', cluster!, '-g', group2);
  check(/create subscription group to .* success/.test(us) && us.includes(`groupName=${group2}`), `updateSubGroup: ${oneLine(us)}`);

  // consumerProgress: 105 on %RETRY% + 208 (+ 203)
  const progress = async (want: number, what: string) => {
    const out = await mqadmin('consumerProgress', '-g', group);
    const rs = rows(out).filter((r) => r[0] === topic);
    check(rs.length === 4, `consumerProgress ${what}: ${rs.length} rows for ${topic}, want 4: ${oneLine(out)}`);
    const m = /Diff Total:\s*(\d+)/.exec(out);
    check(m && Number(m[1]) === want, `consumerProgress ${what}: "Diff Total" ${m?.[1]}, want ${want}`);
    return rs;
  };
  const p1 = await progress(0, 'after consuming');
  check(p1.every((r) => r[3] === '2' && r[4] === '2'), `consumerProgress: broker/consumer offsets ${p1.map((r) => `${r[3]}/${r[4]}`)}, want 2/2 per queue`);

  // queryMsgById (offsetMsgId → 33 at the broker that stored it), queryMsgByUniqueKey (105 + 12 unique-key query)
  const qi = await mqadmin('queryMsgById', '-i', ids.offset[0]!, '-t', topic);
  check(new RegExp(`Topic:\\s+${topic}\\b`).test(qi) && new RegExp(`Keys:\\s+\\[${key}\\]`).test(qi), `queryMsgById: ${oneLine(qi)}`);
  check(qi.includes(`UNIQ_KEY=${ids.uniq[0]}`), `queryMsgById: properties lack UNIQ_KEY=${ids.uniq[0]}`);
  const qu = await mqadmin('queryMsgByUniqueKey', '-i', ids.uniq[1]!, '-t', topic);
  check(new RegExp(`Topic:\\s+${topic}\\b`).test(qu) && qu.includes(`UNIQ_KEY=${ids.uniq[1]}`), `queryMsgByUniqueKey: ${oneLine(qu)}`);

  // queryMsgByKey: 105 + 12
  const qk = await mqadmin('queryMsgByKey', '-t', topic, '-k', key);
  const found = new Set(rows(qk).map((r) => r[0]));
  const missingIds = ids.uniq.filter((id) => !found.has(id));
  check(missingIds.length === 0, `queryMsgByKey ${key}: ${missingIds.length} of 8 message ids missing: ${oneLine(qk)}`);

  // resetOffsetByTime to before the messages: 222 (consumer offline → the old path: 208 + 15 per queue)
  const ro = await mqadmin('resetOffsetByTime', '-g', group, '-t', topic, '-s', String(before));
  const reset = rows(ro).filter((r) => r[0] === brokerName);
  check(reset.length === 4 && reset.every((r) => r[2] === '0'), `resetOffsetByTime: want 4 queues reset to 0: ${oneLine(ro)}`);
  const p2 = await progress(8, 'after resetOffsetByTime');
  check(p2.every((r) => r[4] === '0'), `consumerProgress after reset: consumer offsets ${p2.map((r) => r[4])}, want 0`);

  // deleteTopic: 106 + 215 + 216
  const dt = await mqadmin('deleteTopic', '-c', cluster!, '-t', topic);
  check(/delete topic \[.*\] from cluster \[.*\] success/.test(dt) && /from NameServer success/.test(dt), `deleteTopic: ${oneLine(dt)}`);
  const tl2 = await mqadmin('topicList');
  check(!topicListHas(tl2, topic), `topicList still lists ${topic} after deleteTopic`);

  return `${used.length} mqadmin commands (${[...new Set(used)].join(', ')}) on cluster ${cluster} / ${brokerName} ${addr}: outputs checked`;
}

async function main(): Promise<number> {
  const scenario = process.argv[2] ?? '';
  try {
    if (scenario !== 'admin') {
      process.stdout.write(JSON.stringify({ skip: 'mqadmin is an admin tool' }) + '\n');
      return 0;
    }
    const detail = await admin();
    process.stdout.write(JSON.stringify({ ok: true, detail }) + '\n');
    return 0;
  } catch (e) {
    const detail = e instanceof Fail ? e.message : String(e instanceof Error ? (e.stack ?? e.message) : e);
    process.stdout.write(JSON.stringify({ ok: false, detail }) + '\n');
    return 1;
  }
}

process.exitCode = await main();
