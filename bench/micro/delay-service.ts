// In-process rates of the delay service (no network): schedule N messages in
// batches, then fire them all, on a real LogManager + LMDB index in a temp dir.
// `node bench/micro/delay-service.ts [N] [batch] [bodyBytes] [random|ordered] [headers]`. Prints JSON: schedules/s,
// far-tier entries moved into LMDB per second (promotedPerS, done ahead of due time in the broker), fires/s.
// `headers`: string headers per message (default 1, UNIQ_KEY; a RocketMQ timer message carries about 7).
// Due times are spread over a 100 s window: `random` (default) in a scrambled order, `ordered`
// in the order they are scheduled (one delay level / one fixed delay for everything).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { LogManager } from '../../src/storage/log-manager.ts';
import { LmdbDelayIndex } from '../../src/delay/index-store.ts';
import { DELAY_TOPIC } from '../../src/delay/log-records.ts';
import { delayLogOverrides } from '../../src/broker/broker.ts';
import { DelayService, type ScheduleRequest } from '../../src/delay/service.ts';

const n = Number(process.argv[2] ?? 1_000_000);
const batch = Number(process.argv[3] ?? 100);
const bodyBytes = Number(process.argv[4] ?? 128);
const dueOrder = process.argv[5] ?? 'random';
const headerCount = Number(process.argv[6] ?? 1);
const EXTRA_HEADERS = ['KEYS', 'TAGS', 'WAIT', 'TIMER_DELIVER_MS', 'BENCH_SEQ', 'BENCH_DUE', 'CLUSTER', 'MIN_OFFSET', 'MAX_OFFSET'];
if (!Number.isInteger(headerCount) || headerCount < 1 || headerCount > EXTRA_HEADERS.length + 1) throw new Error(`headers ${headerCount}: 1 to ${EXTRA_HEADERS.length + 1}`);
if (dueOrder !== 'random' && dueOrder !== 'ordered') throw new Error(`due order ${dueOrder}: random or ordered`);
const partitions = 8;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'diglot-delay-micro-'));
let now = 1_800_000_000_000;
const lm = await LogManager.open({ dir: path.join(dir, 'logs'), nowMs: () => now });
// The index's clock is the service's, as in the broker: entries due beyond the near tier wait in bucket files.
const index = LmdbDelayIndex.open(path.join(dir, 'index'), { nowMs: () => now });
const service = DelayService.open({
  log: lm.getOrCreate(DELAY_TOPIC, 0, delayLogOverrides(lm.config)), // as the broker opens it
  index,
  targets: {
    partitionCount: () => partitions,
    endOffset: (t, p) => lm.getOrCreate(t, p).logEndOffset,
    append: (t, p, b) => void lm.getOrCreate(t, p).append(b),
    commit: () => lm.commitStaged(),
    read: (t, p, o, m) => lm.getOrCreate(t, p).read(o, m),
  },
  nowMs: () => now,
  horizonMs: 365 * 86_400_000,
  autoDispatch: false,
});
const rssMiB = () => Math.round(process.memoryUsage().rss / 2 ** 20);
const heapMiB = () => Math.round(process.memoryUsage().heapUsed / 2 ** 20);
const rssParts = () => Object.fromEntries(fs.readFileSync('/proc/self/status', 'utf8').split('\n').filter((l) => /^Rss(Anon|File)/.test(l)).map((l) => [l.split(':')[0], l.split(/\s+/)[1]]));
const body = Buffer.alloc(bodyBytes, 'x');
const windowMs = 100_000;
let rssAt10k = 0;
let t = performance.now();
for (let i = 0; i < n; i += batch) {
  const requests: ScheduleRequest[] = [];
  for (let j = i; j < Math.min(n, i + batch); j++) {
    requests.push({ topic: 't', partition: j % partitions, key: null, value: body, headers: [{ key: 'UNIQ_KEY', value: String(j) }, ...EXTRA_HEADERS.slice(0, headerCount - 1).map((key) => ({ key, value: `${key.toLowerCase()}-${j}` }))], timestampMs: now, deliverAtMs: now + 1000 + (dueOrder === 'random' ? (j * 7919) % windowMs : Math.floor((j * windowMs) / n)), repeat: null });
  }
  service.schedule(requests);
  if (i + batch >= 10_000 && rssAt10k === 0) {
    void service.pendingCount; // applies the queue
    (globalThis as { gc?: () => void }).gc?.();
    rssAt10k = rssMiB();
    console.error('10k pending', rssParts(), 'heapUsed MiB', heapMiB());
  }
  if (i % 1000 === 0) await new Promise((r) => setImmediate(r)); // turns end between requests in a server: staged writes and index changes go out
}
void service.pendingCount;
const scheduleS = (performance.now() - t) / 1000;
await new Promise((r) => setTimeout(r, 100));
(globalThis as { gc?: () => void }).gc?.();
const rssAt1M = rssMiB();
{ const sm = fs.readFileSync('/proc/self/smaps', 'utf8').split('\n'); let cur = ''; const agg = new Map<string, number>(); for (const l of sm) { if (/^[0-9a-f]+-/.test(l)) cur = l.split(/\s+/).slice(5).join(' ') || '[anon]'; else if (l.startsWith('Rss:')) agg.set(cur, (agg.get(cur) ?? 0) + Number(l.split(/\s+/)[1])); } console.error([...agg].sort((a, b) => b[1] - a[1]).slice(0, 8)); }
console.error('pending', rssParts(), process.memoryUsage(), 'lmdb MiB', fs.statSync(path.join(dir, 'index', 'data.mdb')).size / 2 ** 20);
now += 1000 + windowMs;
// In the broker the far tier moves into LMDB ahead of due time, a chunk per tick; here at once, timed apart.
t = performance.now();
index.promote(now, Infinity);
const promoteS = (performance.now() - t) / 1000;
t = performance.now();
const fired = service.runDue();
lm.commitStaged();
const fireS = (performance.now() - t) / 1000;
console.log(JSON.stringify({ n, batch, bodyBytes, dueOrder, headers: headerCount, scheduledPerS: Math.round(n / scheduleS), promotedPerS: Math.round(n / promoteS), firedPerS: Math.round(fired / fireS), fired, rssMiBAt10kPending: rssAt10k, rssMiBAtAllPending: rssAt1M, rssMiBAfterFire: rssMiB(), heapMiB: heapMiB() }));
await service.close();
await lm.close();
fs.rmSync(dir, { recursive: true, force: true });
