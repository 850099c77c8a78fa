// Conformance driver for kcat (Debian's kcat, librdkafka inside), run as a child process. See common.ts for the
// protocol. kcat has no admin operations, so topics are created beforehand with kafkajs's admin client (a setup
// step only; every record is produced and consumed by kcat).
import { spawn } from 'node:child_process';

import kafkajs from 'kafkajs';

import { BOOTSTRAP, RUN_ID, Fail, check, checkOrder, compareRoundtrip, log, main, sleep, specs, type Got, type ORec, type Spec } from './common.ts';

const { Kafka, logLevel } = kafkajs;

async function createTopic(topic: string, numPartitions: number): Promise<void> {
  const kafka = new Kafka({ clientId: 'conformance-kcat-setup', brokers: [BOOTSTRAP], logLevel: logLevel.NOTHING });
  const a = kafka.admin();
  await a.connect();
  try {
    await a.createTopics({ topics: [{ topic, numPartitions, replicationFactor: 1 }], waitForLeaders: true, timeout: 30_000 });
  } finally {
    await a.disconnect();
  }
}

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function kcat(args: string[], input?: string, timeoutMs = 120_000): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn('kcat', ['-b', BOOTSTRAP, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      process.stderr.write(d);
    });
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.on('error', () => {});
    child.stdin.end(input ?? '');
  });
}

async function produce(args: string[], lines: string[]): Promise<void> {
  const r = await kcat(['-P', '-X', 'acks=all', ...args], lines.join('\n') + '\n');
  check(r.code === 0, () => `kcat -P exited ${r.code}: ${r.stderr.trim().split('\n').slice(-3).join(' | ')}`);
}

interface JsonMsg {
  topic: string;
  partition: number;
  offset: number;
  tstype: string;
  ts: number;
  key: string | null;
  payload: string | null;
  headers?: string[];
}

/** Consumes with -J from the given start until the end of every partition (-e). */
async function consume(topic: string, args: string[]): Promise<JsonMsg[]> {
  const r = await kcat(['-C', '-t', topic, '-e', '-J', '-Z', '-q', ...args]);
  check(r.code === 0, () => `kcat -C exited ${r.code}: ${r.stderr.trim().split('\n').slice(-3).join(' | ')}`);
  return r.stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as JsonMsg);
}

const HEADERS: Array<[string, string]> = [['h1', 'x'], ['h2', '\u00fcber'], ['h1', 'dup'], ['empty', '']];

async function roundtrip(): Promise<string> {
  const done: string[] = [];
  for (const codec of ['none', 'gzip', 'snappy', 'lz4', 'zstd']) {
    const topic = `rt-${codec}-kcat-${RUN_ID}`;
    await createTopic(topic, 1);
    // kcat sets no per-record timestamps or headers: every record gets the same -H headers and CreateTime = now.
    const want: Spec[] = specs(0).map((s) => ({ ...s, headers: HEADERS, ts: null }));
    const before = Date.now();
    // -K '\t' splits key and value; -Z sends an empty key or value as null.
    const lines = want.map((s) => `${s.key ?? ''}\t${s.value ?? ''}`);
    await produce(['-t', topic, '-p', '0', '-K', '\t', '-Z', '-X', `compression.codec=${codec}`, '-X', 'linger.ms=20', ...HEADERS.flatMap(([k, v]) => ['-H', `${k}=${v}`])], lines);
    const after = Date.now();
    const got: Got[] = (await consume(topic, ['-p', '0', '-o', 'beginning'])).map((m) => {
      check(m.tstype === 'create', `${codec}: timestamp type ${m.tstype}, want create`);
      const hs: Array<[string, string]> = [];
      for (let i = 0; i + 1 < (m.headers ?? []).length; i += 2) hs.push([m.headers![i]!, m.headers![i + 1] ?? '']);
      return { offset: m.offset, key: m.key, value: m.payload, headers: hs, ts: m.ts };
    });
    compareRoundtrip(codec, want, got, before, after);
    done.push(codec);
    log(`roundtrip ${codec} ok`);
  }
  return `20 records × ${done.join('/')}: keys, null key/value (-Z), headers (same -H set on every record, dup keys, empty), CreateTime now`;
}

async function idempotent(): Promise<string> {
  const n = 5000;
  const topic = `idem-kcat-${RUN_ID}`;
  await createTopic(topic, 1);
  const lines = Array.from({ length: n }, (_, i) => `k${i % 10}\t${i}`);
  await produce(['-t', topic, '-p', '0', '-K', '\t', '-X', 'enable.idempotence=true', '-X', 'max.in.flight=5', '-X', 'batch.num.messages=50', '-X', 'linger.ms=1'], lines);
  const got = await consume(topic, ['-p', '0', '-o', 'beginning']);
  check(got.length === n, `consumed ${got.length} records, want exactly ${n}`);
  got.forEach((m, i) => check(m.payload === String(i) && m.offset === i, () => `record at offset ${m.offset} is ${m.payload}`));
  return `${n} records, -X enable.idempotence=true (5 in flight, batches of 50): exactly once, in order`;
}

async function order100k(): Promise<string> {
  const n = 100_000;
  const parts = 6;
  const topic = `order-kcat-${RUN_ID}`;
  await createTopic(topic, parts);
  const t0 = Date.now();
  const lines = Array.from({ length: n }, (_, i) => `key-${i % 1000}\t${i}`);
  // No -p: librdkafka's partitioner hashes the key.
  await produce(['-t', topic, '-K', '\t', '-X', 'enable.idempotence=true', '-X', 'linger.ms=5'], lines);
  const t1 = Date.now();
  const recs: ORec[] = (await consume(topic, ['-o', 'beginning'])).map((m) => ({ partition: m.partition, offset: m.offset, key: m.key ?? '', value: m.payload ?? '' }));
  // kcat interleaves partitions; checkOrder only needs each partition's records in order.
  return checkOrder(recs, n, parts) + ` (produce ${t1 - t0} ms, consume ${Date.now() - t1} ms)`;
}

async function seekTimestamp(): Promise<string> {
  const topic = `ts-kcat-${RUN_ID}`;
  await createTopic(topic, 1);
  // kcat cannot set record timestamps: two batches a second apart, then look up the time between them.
  await produce(['-t', topic, '-p', '0', '-K', '\t'], Array.from({ length: 10 }, (_, i) => `k${i}\tv${i}`));
  await sleep(1100);
  const t = Date.now();
  await sleep(100);
  await produce(['-t', topic, '-p', '0', '-K', '\t'], Array.from({ length: 10 }, (_, i) => `k${10 + i}\tv${10 + i}`));
  const all = await consume(topic, ['-p', '0', '-o', 'beginning']);
  check(all.length === 20, `consumed ${all.length} records, want 20`);
  check(all[9]!.ts < t && all[10]!.ts > t, `record timestamps ${all[9]!.ts} / ${all[10]!.ts} do not straddle ${t}`);
  const query = async (ts: number): Promise<number> => {
    const r = await kcat(['-Q', '-t', `${topic}:0:${ts}`]);
    check(r.code === 0, () => `kcat -Q exited ${r.code}: ${r.stderr.trim()}`);
    const m = /offset (-?\d+)/.exec(r.stdout);
    if (!m) throw new Fail(`kcat -Q printed no offset: ${r.stdout.trim()}`);
    return Number(m[1]);
  };
  check((await query(t)) === 10, `kcat -Q at ${t} = ${await query(t)}, want 10`);
  check((await query(all[10]!.ts)) === 10, `kcat -Q at ts of #10 = ${await query(all[10]!.ts)}, want 10`);
  check((await query(all[0]!.ts - 100_000)) === 0, `kcat -Q before first = ${await query(all[0]!.ts - 100_000)}, want 0`);
  check((await query(Date.now() + 3_600_000)) === -1, `kcat -Q after last = ${await query(Date.now() + 3_600_000)}, want -1`);
  const from = await consume(topic, ['-p', '0', '-o', `s@${t}`]);
  check(from.length === 10 && from.every((m, i) => m.offset === 10 + i && m.payload === `v${10 + i}`),
    () => `consume -o s@${t}: offsets ${from.map((m) => m.offset).join(',')}, want 10..19`);
  return 'kcat -Q by timestamp (between batches, exact, before first, after last) ok; consumed 10..19 with -o s@<ts>';
}

await main('kcat', {
  roundtrip,
  idempotent,
  order100k,
  'seek-timestamp': seekTimestamp,
});
