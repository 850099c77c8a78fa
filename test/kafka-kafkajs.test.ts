// The Kafka data path through a real client (kafkajs 2.2.4) over a real socket:
// produce with keys, headers and null values (acks 1, -1 and 0, gzip), consume
// back in order, idempotent retries, ListOffsets, and the long poll.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Kafka, CompressionTypes, logLevel, type Consumer } from 'kafkajs';
import type { Broker } from '../src/broker/broker.ts';
import { startKafkaTestBroker, type KafkaTestBroker } from './kafka-test-broker.ts';

let broker: Broker;
let kafka: Kafka;
let server: KafkaTestBroker;

before(async () => {
  server = await startKafkaTestBroker('diglot-kafkajs-', { defaultPartitions: 3 });
  broker = server.broker;
  kafka = new Kafka({ clientId: 'diglot-test', brokers: [server.bootstrap], logLevel: logLevel.NOTHING, retry: { retries: 3 } });
});

after(() => server.close());

async function consumeAll(topic: string, expected: number, groupId: string): Promise<Array<{ partition: number; offset: string; key: string | null; value: string | null; headers: Record<string, string> }>> {
  const consumer: Consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 100 });
  const seen: Array<{ partition: number; offset: string; key: string | null; value: string | null; headers: Record<string, string> }> = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`consumed ${seen.length} of ${expected}`)), 20_000);
      void consumer.run({
        eachMessage: async ({ partition, message }) => {
          const headers: Record<string, string> = {};
          for (const [k, v] of Object.entries(message.headers ?? {})) headers[k] = String(v);
          seen.push({ partition, offset: message.offset, key: message.key?.toString() ?? null, value: message.value?.toString() ?? null, headers });
          if (seen.length >= expected) {
            clearTimeout(timer);
            resolve();
          }
        },
      });
    });
  } finally {
    await consumer.disconnect();
  }
  return seen;
}

test('kafkajs produces with keys, headers and null values and consumes them back in per-partition order', async () => {
  const producer = kafka.producer();
  await producer.connect();
  const messages = Array.from({ length: 60 }, (_, i) => ({
    key: `key-${i % 7}`,
    value: i % 10 === 9 ? null : `value-${i}`,
    headers: { n: String(i), origin: 'kafkajs' },
  }));
  await producer.send({ topic: 'kjs-roundtrip', acks: 1, messages: messages.slice(0, 20) });
  await producer.send({ topic: 'kjs-roundtrip', acks: -1, messages: messages.slice(20, 40) });
  await producer.send({ topic: 'kjs-roundtrip', acks: 1, compression: CompressionTypes.GZIP, messages: messages.slice(40) });
  await producer.disconnect();
  const seen = await consumeAll('kjs-roundtrip', 60, 'g-roundtrip');
  assert.equal(seen.length, 60);
  const byN = new Map(seen.map((m) => [Number(m.headers.n), m]));
  for (let i = 0; i < 60; i++) {
    const m = byN.get(i);
    assert.ok(m, `message ${i} missing`);
    assert.equal(m.key, `key-${i % 7}`);
    assert.equal(m.value, i % 10 === 9 ? null : `value-${i}`);
    assert.equal(m.headers.origin, 'kafkajs');
  }
  // Same key, same partition, increasing n within each partition.
  const lastN = new Map<number, number>();
  for (const m of seen) {
    const n = Number(m.headers.n);
    assert.ok((lastN.get(m.partition) ?? -1) < n, `partition ${m.partition} out of order at ${n}`);
    lastN.set(m.partition, n);
  }
});

test('an every-topic Metadata lists __consumer_offsets as internal and hides the broker metadata log', async () => {
  const admin = kafka.admin();
  await admin.connect();
  try {
    // kafkajs asks for every topic (a null list) when given none.
    const names = await admin.listTopics();
    assert.ok(names.includes('__consumer_offsets'), `listed: ${names.join(', ')}`);
    assert.ok(!names.includes('__diglot_metadata'));
  } finally {
    await admin.disconnect();
  }
});

test('kafkajs idempotent producer: offsets are dense and nothing is duplicated', async () => {
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  for (let batch = 0; batch < 10; batch++) {
    await producer.send({ topic: 'kjs-idem', acks: -1, messages: Array.from({ length: 10 }, (_, i) => ({ key: 'k', value: `${batch}-${i}` })) });
  }
  await producer.disconnect();
  const admin = kafka.admin();
  await admin.connect();
  const offsets = await admin.fetchTopicOffsets('kjs-idem');
  await admin.disconnect();
  const total = offsets.reduce((n, p) => n + Number(p.high) - Number(p.low), 0);
  assert.equal(total, 100);
});

test('acks=0 produces without a response and the data still lands', async () => {
  const producer = kafka.producer();
  await producer.connect();
  await producer.send({ topic: 'kjs-acks0', acks: 0, messages: [{ value: 'fire-and-forget' }] });
  await producer.send({ topic: 'kjs-acks0', acks: 1, messages: [{ value: 'after' }] });
  await producer.disconnect();
  const seen = await consumeAll('kjs-acks0', 2, 'g-acks0');
  assert.deepEqual(seen.map((m) => m.value).sort(), ['after', 'fire-and-forget']);
});

test('ListOffsets: earliest, latest and by timestamp', async () => {
  const producer = kafka.producer();
  await producer.connect();
  const t0 = 1_700_000_000_000;
  await producer.send({ topic: 'kjs-time', messages: Array.from({ length: 10 }, (_, i) => ({ partition: 0, value: `v${i}`, timestamp: String(t0 + i * 1000) })) });
  await producer.disconnect();
  const admin = kafka.admin();
  await admin.connect();
  try {
    const latest = await admin.fetchTopicOffsets('kjs-time');
    const p0 = latest.find((p) => p.partition === 0)!;
    assert.equal(p0.low, '0');
    assert.equal(p0.high, '10');
    const byTime = await admin.fetchTopicOffsetsByTimestamp('kjs-time', t0 + 4500);
    assert.equal(byTime.find((p) => p.partition === 0)!.offset, '5');
    const beyond = await admin.fetchTopicOffsetsByTimestamp('kjs-time', t0 + 1e9);
    // Past the last record Kafka answers -1, and kafkajs maps that to the latest offset.
    assert.ok(['-1', '10'].includes(beyond.find((p) => p.partition === 0)!.offset));
  } finally {
    await admin.disconnect();
  }
});

test('a fetch waits for data (long poll) and returns as soon as it arrives', async () => {
  const producer = kafka.producer();
  await producer.connect();
  await producer.send({ topic: 'kjs-poll', messages: [{ partition: 0, value: 'first' }] });
  const consumer = kafka.consumer({ groupId: 'g-poll', maxWaitTimeInMs: 5_000 });
  await consumer.connect();
  await consumer.subscribe({ topic: 'kjs-poll', fromBeginning: true });
  const got: string[] = [];
  const gotSecond = new Promise<number>((resolve) => {
    void consumer.run({
      eachMessage: async ({ message }) => {
        got.push(message.value!.toString());
        if (got.length === 2) resolve(Date.now());
      },
    });
  });
  while (got.length < 1) await new Promise((r) => setTimeout(r, 20));
  await new Promise((r) => setTimeout(r, 300)); // the consumer is now parked in a long poll
  const sentAt = Date.now();
  await producer.send({ topic: 'kjs-poll', messages: [{ partition: 0, value: 'second' }] });
  const receivedAt = await gotSecond;
  assert.ok(receivedAt - sentAt < 2_000, `the long poll took ${receivedAt - sentAt} ms to deliver`);
  await consumer.disconnect();
  await producer.disconnect();
});
