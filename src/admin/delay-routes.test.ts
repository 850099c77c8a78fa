// The delay REST API (delay-routes.ts) through fastify inject against a real
// Broker on a temporary directory, with real time and short delays.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { Broker } from '../broker/broker.ts';
import { defaultConfig } from '../config/index.ts';
import { createLogger } from '../logger.ts';
import { startServer } from '../server.ts';
import { LogManager } from '../storage/log-manager.ts';
import { forEachBatch, readRecords, type DecodedRecord } from '../storage/records.ts';
import { buildAdminApp } from './app.ts';
import { latenessSummary, murmur2 } from './delay-routes.ts';
import { LIST_SCAN_MAX } from '../delay/service.ts';
import { Health } from './health.ts';
import { BrokerMetrics } from './metrics.ts';

const CONFIG = { nodeId: 1, autoCreateTopics: false, defaultPartitions: 1, maxMessageBytes: 1_048_588, groupInitialRebalanceDelayMs: 0 };
const HOUR = 3_600_000;

let dir: string;
let logManager: LogManager;
let broker: Broker;
/** What the app sees: null while the broker is (re)opening. */
let current: Broker | null = null;
let app: FastifyInstance;

async function openBroker(): Promise<void> {
  logManager = await LogManager.open({ dir, config: { flushIntervalMs: 5 } });
  broker = await Broker.open(logManager, CONFIG);
}

async function closeBroker(): Promise<void> {
  await broker.delays.close(); // the LMDB index is closed before the same directory opens again
  broker.close();
  await logManager.close();
}

interface Answer {
  status: number;
  body: any;
  headers: Record<string, unknown>;
}

async function call(method: 'GET' | 'POST' | 'DELETE', url: string, body?: unknown, target: FastifyInstance = app): Promise<Answer> {
  const res = await target.inject({ method, url, ...(body === undefined ? {} : { payload: body as object }) });
  return { status: res.statusCode, body: res.body === '' ? null : res.json(), headers: res.headers };
}

async function raw(url: string, payload: string): Promise<Answer> {
  const res = await app.inject({ method: 'POST', url, payload, headers: { 'content-type': 'application/json' } });
  return { status: res.statusCode, body: res.json(), headers: res.headers };
}

async function until(what: string, cond: () => Promise<boolean> | boolean, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

function readPartition(topicName: string, partition: number): DecodedRecord[] {
  const topic = broker.topics.get(topicName)!;
  const out: DecodedRecord[] = [];
  let offset = 0;
  for (;;) {
    const r = broker.read(topic, partition, offset, 1 << 20);
    assert.equal(r.errorCode, 'NONE');
    if (r.result === null || r.result.bytes.length === 0) return out;
    const bytes = r.result.bytes;
    forEachBatch(bytes, (pos) => out.push(...readRecords(bytes, pos)));
    if (r.result.nextOffset <= offset) return out;
    offset = r.result.nextOffset;
  }
}

const header = (r: DecodedRecord, key: string): string | undefined => r.headers.find((h) => h.key === key)?.value?.toString('utf8');

/** The records a schedule delivered to its partition, in log order. */
function deliveries(topic: string, partition: number, id: string): DecodedRecord[] {
  return readPartition(topic, partition).filter((r) => header(r, '__delay.id') === id);
}

async function post(body: Record<string, unknown>): Promise<Answer> {
  const res = await call('POST', '/v1/delay-messages', body);
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return res;
}

before(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'diglot-delay-rest-'));
  await openBroker();
  await broker.topics.create('orders', 3, new Map());
  await broker.topics.create('pager', 1, new Map());
  await broker.topics.create('small', 1, new Map([['max.message.bytes', '1024']]));
  app = buildAdminApp({ health: new Health(), metrics: new BrokerMetrics(), logger: createLogger({ level: 'silent' }), delays: () => current });
  await app.ready();
});

after(async () => {
  await app?.close();
  if (broker !== undefined) await closeBroker().catch(() => {});
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('delay REST API', () => {
  it('answers 503 while the broker is starting', async () => {
    for (const [method, url] of [['POST', '/v1/delay-messages'], ['GET', '/v1/delay-messages/1'], ['DELETE', '/v1/delay-messages/1'], ['GET', '/v1/delay-messages?topic=orders'], ['GET', '/v1/delay-stats']] as const) {
      const res = await call(method, url, method === 'POST' ? { topic: 'orders', value: 'x', delayMs: 0 } : undefined);
      assert.equal(res.status, 503, `${method} ${url}`);
      assert.deepEqual(res.body, { error_code: 503, message: 'broker is starting' });
    }
    current = broker;
  });

  let deliveredId = '';

  it('POST schedules a message; GET shows it pending, then delivered into its partition with __delay headers', async () => {
    const before = Date.now();
    const res = await post({ topic: 'orders', key: 'k1', value: 'héllo', headers: { h: 'v' }, delayMs: 200 });
    const b = res.body;
    assert.match(b.id, /^\d+$/);
    assert.equal(b.kind, 'DelayMessage');
    assert.equal(b.metadata.self, `/v1/delay-messages/${b.id}`);
    assert.equal(res.headers.location, b.metadata.self);
    assert.equal(b.topic, 'orders');
    assert.equal(b.partition, (murmur2(Buffer.from('k1')) & 0x7fffffff) % 3);
    assert.equal(b.state, 'pending');
    assert.equal(b.fires, 0);
    assert.equal(b.repeat, null);
    assert.ok(b.deliverAtMs >= before + 200 && b.deliverAtMs <= Date.now() + 200, `deliverAtMs ${b.deliverAtMs}`);
    assert.equal(b.nextFireMs, b.deliverAtMs);
    assert.deepEqual([b.key, b.value, b.headers], ['k1', 'héllo', { h: 'v' }]);

    const got = await call('GET', b.metadata.self);
    assert.equal(got.status, 200);
    assert.equal(got.body.state, 'pending');
    assert.deepEqual([got.body.key, got.body.value, got.body.headers, got.body.fires], ['k1', 'héllo', { h: 'v' }, 0]);
    assert.ok(got.body.timestampMs >= before);
    assert.equal(deliveries('orders', b.partition, b.id).length, 0, 'not delivered early');

    await until('delivery', async () => (await call('GET', b.metadata.self)).body.state === 'delivered');
    assert.ok(Date.now() >= b.deliverAtMs);
    const done = (await call('GET', b.metadata.self)).body;
    assert.equal(done.fires, 1);
    assert.equal(done.nextFireMs, b.deliverAtMs);
    const records = deliveries('orders', b.partition, b.id);
    assert.equal(records.length, 1);
    const r = records[0]!;
    assert.equal(r.key?.toString('utf8'), 'k1');
    assert.equal(r.value?.toString('utf8'), 'héllo');
    assert.equal(header(r, 'h'), 'v');
    assert.equal(header(r, '__delay.fire'), '1');
    deliveredId = b.id;
  });

  it('picks the partition: explicit, by key hash (Kafka murmur2), else round robin', async () => {
    // Kafka's own murmur2 test vectors (UtilsTest).
    const vectors: Array<[string, number]> = [['21', -973932308], ['foobar', -790332482], ['a-little-bit-long-string', -985981536], ['a-little-bit-longer-string', -1486304829], ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58897971], ['abc', 479470107]];
    for (const [s, h] of vectors) assert.equal(murmur2(Buffer.from(s)), h, s);
    const at = Date.now() + HOUR;
    const keyed = await Promise.all(['a', 'a', 'b', 'c', 'd'].map((key) => post({ topic: 'orders', key, value: 'x', deliverAtMs: at })));
    for (const res of keyed) assert.equal(res.body.partition, (murmur2(Buffer.from(res.body.key)) & 0x7fffffff) % 3);
    const unkeyed = [];
    for (let i = 0; i < 3; i++) unkeyed.push((await post({ topic: 'orders', value: 'x', key: null, deliverAtMs: at })).body.partition);
    assert.deepEqual([...unkeyed].sort(), [0, 1, 2]);
    assert.equal((await post({ topic: 'orders', key: 'a', value: null, partition: 2, deliverAtMs: at })).body.partition, 2);
  });

  it('refuses bad input with 400 naming the field, unknown targets with 404, internal topics with 403, big values with 413; nothing is stored', async () => {
    const scheduledBefore = broker.delays.stats().scheduled;
    const at = Date.now() + HOUR;
    const cases: Array<[body: unknown, status: number, message: RegExp]> = [
      [[], 400, /body must be a JSON object/],
      [{ topic: 'orders', value: 'x', delayMs: 0, repeat: { intervalMs: 10, times: 2, maxIntervalMs: 5 } }, 400, /^repeat\.maxIntervalMs must be an integer ≥ 10/],
      [{ value: 'x', delayMs: 0 }, 400, /topic is required/],
      [{ topic: 5, value: 'x', delayMs: 0 }, 400, /^topic must be/],
      [{ topic: 'orders', delayMs: 0 }, 400, /^value is required/],
      [{ topic: 'orders', value: 5, delayMs: 0 }, 400, /^value must be a string or null/],
      [{ topic: 'orders', value: 'x', key: { a: 1 }, delayMs: 0 }, 400, /^key must be a string or null/],
      [{ topic: 'orders', value: 'x', headers: 'h', delayMs: 0 }, 400, /^headers must be an object/],
      [{ topic: 'orders', value: 'x', headers: { a: 1 }, delayMs: 0 }, 400, /^headers\.a must be a string/],
      [{ topic: 'orders', value: 'x', headers: { '__delay.id': '7' }, delayMs: 0 }, 400, /^headers\.__delay\.id: .*reserved/],
      [{ topic: 'orders', value: 'x', partition: 'one', delayMs: 0 }, 400, /^partition must be an integer/],
      [{ topic: 'orders', value: 'x', partition: -1, delayMs: 0 }, 400, /^partition must be an integer ≥ 0/],
      [{ topic: 'orders', value: 'x', partition: 1.5, delayMs: 0 }, 400, /^partition must be an integer/],
      [{ topic: 'orders', value: 'x' }, 400, /exactly one of deliverAtMs and delayMs is required, got neither/],
      [{ topic: 'orders', value: 'x', delayMs: 5, deliverAtMs: at }, 400, /exactly one of deliverAtMs and delayMs is required, got both/],
      [{ topic: 'orders', value: 'x', delayMs: -5 }, 400, /^delayMs must be an integer ≥ 0/],
      [{ topic: 'orders', value: 'x', delayMs: 'soon' }, 400, /^delayMs must be an integer/],
      [{ topic: 'orders', value: 'x', deliverAtMs: 1.5 }, 400, /^deliverAtMs must be an integer/],
      [{ topic: 'orders', value: 'x', delayMs: 2 * 365 * 24 * HOUR }, 400, /^delayMs: .*beyond the horizon/],
      [{ topic: 'orders', value: 'x', deliverAtMs: Date.now() + 2 * 365 * 24 * HOUR }, 400, /^deliverAtMs: .*beyond the horizon/],
      [{ topic: 'orders', value: 'x', delayMS: 5 }, 400, /^delayMS is not a known field/],
      [{ topic: 'orders', value: 'x', delayMs: 0, repeat: 5 }, 400, /^repeat must be an object/],
      [{ topic: 'orders', value: 'x', delayMs: 0, repeat: { times: 2 } }, 400, /^repeat\.intervalMs is required/],
      [{ topic: 'orders', value: 'x', delayMs: 0, repeat: { intervalMs: 0, times: 2 } }, 400, /^repeat\.intervalMs must be an integer ≥ 1/],
      [{ topic: 'orders', value: 'x', delayMs: 0, repeat: { intervalMs: 10 } }, 400, /^repeat needs times or untilMs/],
      [{ topic: 'orders', value: 'x', delayMs: 0, repeat: { intervalMs: 10, times: 2, multiplier: 0.5 } }, 400, /^repeat\.multiplier must be a number from 1/],
      [{ topic: 'orders', value: 'x', delayMs: 0, repeat: { intervalMs: 10, times: 2, multiplier: 'x' } }, 400, /^repeat\.multiplier must be a number/],
      [{ topic: 'orders', value: 'x', delayMs: 0, repeat: { intervalMs: 10, times: 0 } }, 400, /^repeat\.times must be an integer ≥ 1/],
      [{ topic: 'orders', value: 'x', delayMs: 0, repeat: { intervalMs: 10, times: 2, every: 1 } }, 400, /^repeat\.every is not a known field/],
      [{ topic: 'orders', value: 'x', deliverAtMs: at, repeat: { intervalMs: 10, untilMs: at - 1 } }, 400, /^repeat\.untilMs must be an integer ≥ /],
      [{ topic: 'nope', value: 'x', delayMs: 0 }, 404, /topic nope does not exist/],
      [{ topic: 'orders', value: 'x', partition: 7, delayMs: 0 }, 404, /^partition 7 of orders does not exist/],
      [{ topic: '__delay', value: 'x', delayMs: 0 }, 403, /topic __delay is internal/],
      [{ topic: '__consumer_offsets', value: 'x', delayMs: 0 }, 403, /topic __consumer_offsets is internal/],
      [{ topic: '__new', value: 'x', delayMs: 0 }, 403, /topic __new is internal/],
      [{ topic: 'small', value: 'x'.repeat(2000), delayMs: 0 }, 413, /^value: .*max\.message\.bytes 1024 of topic small/],
    ];
    for (const [body, status, message] of cases) {
      const res = await call('POST', '/v1/delay-messages', body);
      assert.equal(res.status, status, `${JSON.stringify(body)} → ${JSON.stringify(res.body)}`);
      assert.equal(res.body.error_code, status);
      assert.match(res.body.message, message, JSON.stringify(body));
    }
    // Fits once the value is small enough.
    await post({ topic: 'small', value: 'x'.repeat(500), deliverAtMs: at });

    const malformed = await raw('/v1/delay-messages', '{"topic": "orders", "value": ');
    assert.equal(malformed.status, 400);
    assert.match(malformed.body.message, /^body is not valid JSON: /);
    const empty = await raw('/v1/delay-messages', '');
    assert.equal(empty.status, 400);
    assert.match(empty.body.message, /body is empty/);

    // A body beyond the route's limit: 413 naming value.
    const tight = buildAdminApp({ health: new Health(), metrics: new BrokerMetrics(), logger: createLogger({ level: 'silent' }), delays: () => broker, delayBodyLimitBytes: 1000 });
    try {
      const res = await call('POST', '/v1/delay-messages', { topic: 'orders', value: 'y'.repeat(2000), delayMs: 0 }, tight);
      assert.equal(res.status, 413);
      assert.deepEqual(Object.keys(res.body), ['error_code', 'message']);
      assert.match(res.body.message, /value/);
    } finally {
      await tight.close();
    }
    assert.equal(broker.delays.stats().scheduled, scheduledBefore + 1, 'only the valid one was stored');
  });

  let cancelledId = '';

  it('DELETE cancels a pending one (GET then shows cancelled); 409 when no longer pending, 404 unknown, 400 bad id', async () => {
    const { body } = await post({ topic: 'orders', key: 'c', value: 'to cancel', deliverAtMs: Date.now() + HOUR });
    // Some clients send a JSON content type with no body on every request.
    const delRes = await app.inject({ method: 'DELETE', url: body.metadata.self, headers: { 'content-type': 'application/json' } });
    const del = { status: delRes.statusCode, body: delRes.json() };
    assert.equal(del.status, 200);
    assert.equal(del.body.kind, 'DelayMessage');
    assert.equal(del.body.id, body.id);
    assert.equal(del.body.state, 'cancelled');
    assert.equal(del.body.value, 'to cancel');
    const got = await call('GET', body.metadata.self);
    assert.equal(got.status, 200);
    assert.equal(got.body.state, 'cancelled');
    assert.equal(got.body.value, 'to cancel');
    cancelledId = body.id;

    const again = await call('DELETE', body.metadata.self);
    assert.equal(again.status, 409);
    assert.match(again.body.message, /is cancelled/);
    const delivered = await call('DELETE', `/v1/delay-messages/${deliveredId}`);
    assert.equal(delivered.status, 409);
    assert.match(delivered.body.message, /is delivered/);

    for (const method of ['GET', 'DELETE'] as const) {
      const unknown = await call(method, '/v1/delay-messages/987654321');
      assert.equal(unknown.status, 404, method);
      assert.deepEqual(unknown.body, { error_code: 404, message: 'no delay message 987654321' });
      for (const bad of ['abc', '1e3', '-1', '99999999999999999999']) {
        const res = await call(method, `/v1/delay-messages/${bad}`);
        assert.equal(res.status, 400, `${method} ${bad}`);
        assert.match(res.body.message, /^id must be/);
      }
    }
  });

  it('lists pending ones of a topic in due order, paged without duplicates or gaps; window and parameter errors', async () => {
    const base = Date.now() + HOUR;
    // 23 in the window (ties on due time are ordered by id), one cancelled, one after the window.
    const posted = await Promise.all(Array.from({ length: 23 }, (_, i) => post({ topic: 'pager', value: `m${i}`, deliverAtMs: base + (i % 5) * 1000 })));
    const cancelled = await post({ topic: 'pager', value: 'gone', deliverAtMs: base });
    assert.equal((await call('DELETE', cancelled.body.metadata.self)).status, 200);
    await post({ topic: 'pager', value: 'late', deliverAtMs: base + 10 * HOUR });
    const expected = posted
      .map((p) => p.body)
      .sort((a, b) => a.deliverAtMs - b.deliverAtMs || Number(a.id) - Number(b.id))
      .map((b) => b.id);

    const firstUrl = `/v1/delay-messages?topic=pager&fromMs=${base}&toMs=${base + 5000}&limit=5`;
    let url: string | null = firstUrl;
    const seen: string[] = [];
    let pages = 0;
    while (url !== null) {
      const res = await call('GET', url);
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.equal(res.body.kind, 'DelayMessageList');
      assert.equal(res.body.metadata.self, url);
      assert.ok(res.body.data.length <= 5);
      for (const m of res.body.data) {
        assert.equal(m.kind, 'DelayMessage');
        assert.equal(m.state, 'pending');
        assert.equal(m.topic, 'pager');
        assert.match(m.value, /^m\d+$/);
        seen.push(m.id);
      }
      pages++;
      url = res.body.metadata.next;
      if (url !== null) assert.match(url, /^\/v1\/delay-messages\?topic=pager&fromMs=\d+&toMs=\d+&limit=5&pageToken=/);
      assert.equal(res.body.metadata.next_page_token === null, url === null);
    }
    assert.equal(pages, 5);
    assert.deepEqual(seen, expected, 'every one once, in due order');

    // Without a limit: one page (default 100); the late one is there without toMs.
    const all = await call('GET', '/v1/delay-messages?topic=pager');
    assert.equal(all.body.data.length, 24);
    assert.equal(all.body.metadata.next, null);
    assert.equal(all.body.data[23].value, 'late');
    // [fromMs, toMs): due times base+1000 and base+2000 only.
    const window = await call('GET', `/v1/delay-messages?topic=pager&fromMs=${base + 1000}&toMs=${base + 3000}`);
    assert.deepEqual(
      window.body.data.map((m: { deliverAtMs: number }) => m.deliverAtMs - base),
      [...Array(5).fill(1000), ...Array(5).fill(2000)],
    );
    const nothing = await call('GET', '/v1/delay-messages?topic=orders&toMs=1');
    assert.deepEqual([nothing.status, nothing.body.data, nothing.body.metadata.next], [200, [], null]);

    const errors: Array<[string, number, RegExp]> = [
      ['/v1/delay-messages', 400, /^topic is required/],
      ['/v1/delay-messages?topic=', 400, /^topic is required/],
      ['/v1/delay-messages?topic=pager&limit=0', 400, /^limit must be an integer from 1 to 1000/],
      ['/v1/delay-messages?topic=pager&limit=1001', 400, /^limit must be/],
      ['/v1/delay-messages?topic=pager&limit=ten', 400, /^limit must be/],
      ['/v1/delay-messages?topic=pager&fromMs=x', 400, /^fromMs must be/],
      ['/v1/delay-messages?topic=pager&toMs=-1', 400, /^toMs must be/],
      ['/v1/delay-messages?topic=pager&topic=orders', 400, /^topic is given more than once/],
      ['/v1/delay-messages?topic=pager&pageToken=garbage', 400, /^pageToken /],
      ['/v1/delay-messages?topic=nope', 404, /topic nope does not exist/],
      ['/v1/delay-messages?topic=__delay', 403, /internal/],
    ];
    for (const [u, status, message] of errors) {
      const res = await call('GET', u);
      assert.equal(res.status, status, u);
      assert.match(res.body.message, message, u);
    }
  });

  it('repeating schedules fire several times: fixed interval, back-off capped by maxIntervalMs, until a time', async () => {
    const fixed = (await post({ topic: 'orders', partition: 0, value: 'tick', delayMs: 100, repeat: { intervalMs: 150, times: 3 } })).body;
    const backoff = (await post({ topic: 'orders', partition: 1, value: 'retry', delayMs: 50, repeat: { intervalMs: 40, multiplier: 2, maxIntervalMs: 100, times: 4 } })).body;
    const untilBody = { topic: 'orders', partition: 2, value: 'until', deliverAtMs: Date.now() + 50, repeat: { intervalMs: 50, untilMs: 0 } };
    untilBody.repeat.untilMs = untilBody.deliverAtMs + 120;
    const bounded = (await post(untilBody)).body;
    assert.deepEqual(fixed.repeat, { intervalMs: 150, multiplier: 1, maxIntervalMs: null, times: 3, untilMs: null });

    // Between fires: still pending, the next fire one interval after the last.
    let mid: { state: string; fires: number; nextFireMs: number } | undefined;
    await until('first fire of the fixed schedule', async () => {
      mid = (await call('GET', fixed.metadata.self)).body;
      return mid!.fires >= 1;
    });
    assert.equal(mid!.state, mid!.fires < 3 ? 'pending' : 'delivered');
    assert.equal(mid!.nextFireMs, fixed.deliverAtMs + Math.min(mid!.fires, 2) * 150);

    for (const s of [fixed, backoff, bounded]) {
      await until(`${s.value} delivered`, async () => (await call('GET', s.metadata.self)).body.state === 'delivered');
    }
    const expectations: Array<[typeof fixed, number, number[]]> = [
      [fixed, 0, [0, 150, 300]],
      [backoff, 1, [0, 40, 120, 220]], // 40, 80, then 160 capped at 100
      [bounded, 2, [0, 50, 100]], // 150 would be after untilMs
    ];
    for (const [s, partition, offsets] of expectations) {
      const got = (await call('GET', s.metadata.self)).body;
      assert.equal(got.fires, offsets.length, s.value);
      assert.equal(got.nextFireMs, s.deliverAtMs + offsets[offsets.length - 1]!, `${s.value}: last fire time`);
      const records = deliveries('orders', partition, s.id);
      assert.deepEqual(records.map((r) => header(r, '__delay.fire')), offsets.map((_, i) => String(i + 1)), s.value);
      for (const r of records) assert.equal(r.value?.toString(), s.value);
    }
    // Delivered ones are no longer listed.
    const listed = await call('GET', '/v1/delay-messages?topic=orders&limit=1000');
    assert.ok(!listed.body.data.some((m: { id: string }) => [fixed.id, backoff.id, bounded.id].includes(m.id)));
  });

  it('GET /v1/delay-stats gives the counts and lateness percentiles', async () => {
    const res = await call('GET', '/v1/delay-stats');
    assert.equal(res.status, 200);
    const s = res.body;
    assert.equal(s.kind, 'DelayStats');
    assert.equal(s.metadata.self, '/v1/delay-stats');
    assert.equal(s.pending, broker.delays.pendingCount);
    assert.ok(s.scheduled >= 40, `scheduled ${s.scheduled}`);
    assert.equal(s.fired, 1 + 3 + 4 + 3);
    assert.equal(s.cancelled, 2);
    assert.equal(s.failed, 0);
    assert.equal(s.lateness.count, s.fired);
    assert.ok(s.lateness.p50Ms <= s.lateness.p99Ms && s.lateness.p99Ms <= s.lateness.maxMs);
    assert.equal(s.lateness.buckets.reduce((a: number, b: { count: number }) => a + b.count, 0), s.lateness.count);

    const buckets = new Array<number>(32).fill(0);
    assert.deepEqual(latenessSummary({ latenessBuckets: buckets, latenessMaxMs: 0 }), { count: 0, p50Ms: null, p99Ms: null, maxMs: null, buckets: [] });
    buckets[0] = 60; // < 1 ms
    buckets[3] = 39; // [4, 8)
    buckets[6] = 1; // [32, 64)
    assert.deepEqual(latenessSummary({ latenessBuckets: buckets, latenessMaxMs: 40 }), {
      count: 100,
      p50Ms: 1,
      p99Ms: 8,
      maxMs: 40,
      buckets: [{ upToMs: 1, count: 60 }, { upToMs: 8, count: 39 }, { upToMs: 64, count: 1 }],
    });
    buckets[31] = 1000;
    assert.equal(latenessSummary({ latenessBuckets: buckets, latenessMaxMs: 5e9 }).p99Ms, 5e9);
  });

  it('keeps pending, cancelled and delivered states across a broker restart', async () => {
    const pending = await call('GET', '/v1/delay-messages?topic=pager&limit=1000');
    assert.equal(pending.body.data.length, 24);
    current = null;
    assert.equal((await call('GET', `/v1/delay-messages/${cancelledId}`)).status, 503);
    await closeBroker();
    await openBroker();
    current = broker;

    const after = await call('GET', '/v1/delay-messages?topic=pager&limit=1000');
    assert.deepEqual(after.body.data, pending.body.data);
    assert.equal((await call('GET', `/v1/delay-messages/${cancelledId}`)).body.state, 'cancelled');
    const delivered = (await call('GET', `/v1/delay-messages/${deliveredId}`)).body;
    assert.deepEqual([delivered.state, delivered.fires, delivered.value], ['delivered', 1, 'héllo']);
    // Still cancellable after the restart, and new schedules fire.
    const first = pending.body.data[0];
    assert.equal((await call('DELETE', first.metadata.self)).body.state, 'cancelled');
    const fresh = (await post({ topic: 'pager', value: 'after restart', delayMs: 20 })).body;
    await until('delivery after restart', async () => (await call('GET', fresh.metadata.self)).body.state === 'delivered');
    assert.equal(deliveries('pager', 0, fresh.id).length, 1);
  });
});

describe('delay REST API, binary messages', () => {
  it('GET shows bytes that are not UTF-8 (a binary message from a client) as keyBase64 / valueBase64', async () => {
    const value = Buffer.from([0xff, 0x00, 0xfe, 0x41]);
    const key = Buffer.from([0xc3, 0x28]);
    const { ids } = broker.delays.schedule([{ topic: 'orders', partition: 0, key, value, headers: [], timestampMs: Date.now(), deliverAtMs: Date.now() + 60_000, repeat: null }]);
    const res = await call('GET', `/v1/delay-messages/${ids[0]}`);
    assert.equal(res.status, 200);
    assert.equal(res.body.value, null);
    assert.equal(res.body.valueBase64, value.toString('base64'));
    assert.equal(res.body.key, null);
    assert.equal(res.body.keyBase64, key.toString('base64'));
    await broker.delays.cancel(ids[0]!);
  });
});

describe('delay REST API in the server', () => {
  it('is served by startServer once the broker is open', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'diglot-delay-rest-server-'));
    const server = await startServer({ ...defaultConfig(), host: '127.0.0.1', adminPort: 0, kafkaPort: 0, rocketmqPort: 0, dataDir, flushIntervalMs: 5 }, { logger: createLogger({ level: 'silent' }) });
    try {
      const base = server.adminAddress.url;
      // A new topic is created as a produce would create it (autoCreateTopics is on by default).
      const res = await fetch(`${base}/v1/delay-messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ topic: 'fresh', value: 'x', delayMs: 60_000 }) });
      assert.equal(res.status, 201);
      assert.equal(((await res.json()) as { topic: string }).topic, 'fresh');
      const listed = await fetch(`${base}/v1/delay-messages?topic=fresh`);
      assert.equal(((await listed.json()) as { data: unknown[] }).data.length, 1);
      const unknown = await fetch(`${base}/v1/delay-messages?topic=nope`);
      assert.equal(unknown.status, 404);
      const stats = await fetch(`${base}/v1/delay-stats`);
      assert.equal(stats.status, 200);
      assert.equal(((await stats.json()) as { pending: number }).pending, 1);
    } finally {
      await server.close();
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

// Last: it leaves 25,000 schedules pending, which the counts checked above must not see.
describe('delay REST API, crowded listing', () => {
  it('a window crowded by other topics pages through every one of this topic, in order', async () => {
    // Due hours ahead: in the index's bucket files, which a listing reads a whole bucket at a time (the
    // LMDB tier's scan bound, where pages end short, is tested in index-store.test.ts).
    const base = Date.now() + 3 * HOUR;
    // More schedules of another topic in the window than one request looks at, around 7 of this one.
    const crowd = LIST_SCAN_MAX + 5_000;
    const mine = [0, 1, 2, LIST_SCAN_MAX - 2, LIST_SCAN_MAX + 10, crowd - 1, crowd + 5];
    const requests = [];
    for (let i = 0; i < crowd; i++) requests.push({ topic: 'orders', partition: 0, key: null, value: Buffer.from('x'), headers: [], timestampMs: 0, deliverAtMs: base + i * 50, repeat: null });
    for (const at of mine) requests.push({ topic: 'pager', partition: 0, key: null, value: Buffer.from(`c${at}`), headers: [], timestampMs: 0, deliverAtMs: base + at * 50, repeat: null });
    broker.delays.schedule(requests);
    let url: string | null = `/v1/delay-messages?topic=pager&fromMs=${base}&toMs=${base + (crowd + 10) * 50}&limit=3`;
    const seen: string[] = [];
    for (let pages = 0; url !== null; pages++) {
      assert.ok(pages < 20, 'paging does not end');
      const res: Answer = await call('GET', url);
      assert.equal(res.status, 200, JSON.stringify(res.body));
      for (const m of res.body.data) seen.push(m.value);
      url = res.body.metadata.next;
    }
    assert.deepEqual(seen, mine.map((at) => `c${at}`));
  });
});
