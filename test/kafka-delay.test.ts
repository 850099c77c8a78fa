// Kafka delay topics through a real client (kafkajs 2.2.4): records with
// TIMER_DELAY_MS / TIMER_DELIVER_MS / TIMER_DELAY_SEC / DELAY headers on a
// topic with diglot.delay.enable=true are held until due; the others, and
// every record of a normal topic, are appended at once.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Kafka, logLevel, type Consumer } from 'kafkajs';
import type { Broker } from '../src/broker/broker.ts';
import { startKafkaTestBroker, type KafkaTestBroker } from './kafka-test-broker.ts';

let broker: Broker;
let kafka: Kafka;
let server: KafkaTestBroker;

before(async () => {
  server = await startKafkaTestBroker('diglot-kafka-delay-', { defaultPartitions: 2, delayLevels: '400ms 800ms' });
  broker = server.broker;
  kafka = new Kafka({ clientId: 'diglot-delay-test', brokers: [server.bootstrap], logLevel: logLevel.NOTHING, retry: { retries: 2 } });
});

after(() => server.close());

interface Seen {
  atMs: number;
  partition: number;
  key: string | null;
  value: string | null;
  headers: Record<string, string>;
}

/** Starts a group consumer from the beginning; resolves with what it saw once `expected` records came. */
async function startConsumer(topic: string, expected: number, groupId: string): Promise<{ done: Promise<Seen[]> }> {
  const consumer: Consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 20 });
  const seen: Seen[] = [];
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const all = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`consumed ${seen.length} of ${expected}`)), 15_000);
    void consumer.run({
      eachMessage: async ({ partition, message }) => {
        const headers: Record<string, string> = {};
        for (const [k, v] of Object.entries(message.headers ?? {})) headers[k] = String(v);
        seen.push({ atMs: Date.now(), partition, key: message.key?.toString() ?? null, value: message.value?.toString() ?? null, headers });
        if (seen.length >= expected) {
          clearTimeout(timer);
          resolve();
        }
      },
    });
  });
  const done = all.finally(() => consumer.disconnect()).then(() => seen);
  return { done };
}

test('kafka delay topic: held records arrive at their time with __delay headers, the others at once', async () => {
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic: 'DelayT', numPartitions: 2, configEntries: [{ name: 'diglot.delay.enable', value: 'true' }] }] });
  const described = await admin.describeConfigs({ resources: [{ type: 2, name: 'DelayT', configNames: ['diglot.delay.enable'] }], includeSynonyms: false });
  assert.equal(described.resources[0]!.configEntries[0]!.configValue, 'true');
  await admin.disconnect();

  const consumer = await startConsumer('DelayT', 6, 'g-delay');
  const producer = kafka.producer({ idempotent: true });
  await producer.connect();
  const t0 = Date.now();
  const result = await producer.send({
    topic: 'DelayT',
    acks: -1,
    messages: [
      { partition: 0, key: 'k1', value: 'after-600ms', headers: { TIMER_DELAY_MS: '600', color: 'blue' } },
      { partition: 0, key: 'k2', value: 'now-1' },
      { partition: 1, key: 'k3', value: 'at-t0+900', headers: { TIMER_DELIVER_MS: String(t0 + 900) } },
      { partition: 1, key: 'k4', value: 'level-1', headers: { DELAY: '1' } },
      { partition: 1, key: 'k5', value: 'sec-1', headers: { TIMER_DELAY_SEC: '1' } },
      { partition: 1, key: 'k6', value: 'now-2', headers: { plain: 'yes' } },
    ],
  });
  assert.deepEqual(result.map((r) => [r.partition, r.errorCode, r.baseOffset]).sort(), [[0, 0, '-1'], [1, 0, '-1']]);
  await producer.disconnect();
  const seen = await consumer.done;
  const byValue = new Map(seen.map((s) => [s.value!, s]));
  assert.equal(byValue.size, 6, 'each record exactly once');
  const due: Record<string, number> = { 'after-600ms': 600, 'at-t0+900': 900, 'level-1': 400, 'sec-1': 1000, 'now-1': 0, 'now-2': 0 };
  for (const [value, dueMs] of Object.entries(due)) {
    const s = byValue.get(value)!;
    assert.ok(s.atMs - t0 >= dueMs - 10, `${value} seen at +${s.atMs - t0} ms, due +${dueMs}`);
    if (dueMs === 0) assert.ok(s.atMs - t0 < 400, `${value} (not delayed) seen only at +${s.atMs - t0} ms`);
    else {
      assert.ok(s.atMs - t0 <= dueMs + 1000, `${value} seen at +${s.atMs - t0} ms, due +${dueMs}`);
      assert.match(s.headers['__delay.id'] ?? '', /^\d+$/);
      assert.equal(s.headers['__delay.fire'], '1');
    }
  }
  assert.equal(byValue.get('after-600ms')!.key, 'k1');
  assert.equal(byValue.get('after-600ms')!.headers['color'], 'blue');
  assert.equal(byValue.get('after-600ms')!.partition, 0);
  assert.equal(byValue.get('sec-1')!.partition, 1);
  assert.equal(byValue.get('now-2')!.headers['plain'], 'yes');
});

test('kafka delay topic: bad delay headers are INVALID_RECORD; a normal topic ignores delay headers', async () => {
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic: 'DelayBad', numPartitions: 1, configEntries: [{ name: 'diglot.delay.enable', value: 'true' }] }, { topic: 'PlainT', numPartitions: 1 }] });
  await admin.disconnect();
  const producer = kafka.producer({ retry: { retries: 0 } });
  await producer.connect();
  await assert.rejects(producer.send({ topic: 'DelayBad', messages: [{ value: 'x', headers: { TIMER_DELAY_MS: 'soon' } }] }), (e: { type?: string }) => e.type === 'INVALID_RECORD');
  await assert.rejects(producer.send({ topic: 'DelayBad', messages: [{ value: 'x', headers: { TIMER_DELIVER_MS: String(Date.now() + 400 * 86_400_000) } }] }), (e: { type?: string }) => e.type === 'INVALID_RECORD');
  const plain = await producer.send({ topic: 'PlainT', messages: [{ value: 'x', headers: { TIMER_DELAY_MS: '60000' } }] });
  assert.equal(plain[0]!.baseOffset, '0'); // appended at once, as received
  await producer.disconnect();
  assert.equal(broker.delays.pendingCount, 0);
});
