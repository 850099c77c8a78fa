// The RocketMQ listener over a real socket with raw remoting frames (JSON and
// ROCKETMQ binary headers): routes, send (V1, V2, batch), pull with tag
// filters and long polling, offsets, message ids, retry/DLQ, bad input. The
// real clients' view is in conformance/rocketmq; this pins the wire details.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { LogManager } from '../src/storage/log-manager.ts';
import { Broker } from '../src/broker/broker.ts';
import { RawRemoting } from './rocketmq-raw-client.ts';
import { startRocketmqListener, type RocketmqListener } from '../src/rocketmq/server.ts';
import { createLogger } from '../src/logger.ts';
import {
  decodeOffsetMsgId,
  decodeProperties,
  decodeStoredMessages,
  encodeBatchBody,
  encodeProperties,
  RequestCode,
  ResponseCode,
  type RemotingCommand,
} from '../src/protocol/rocketmq/index.ts';

/** Short delay levels so retries and DELAY sends are seen within a test: level 1 = 300 ms ... */
const DELAY_LEVELS = '300ms 400ms 500ms 600ms 700ms';
const delayOfLevelMs = (level: number) => 200 + 100 * level;

let dir: string;
let logManager: LogManager;
let broker: Broker;
let listener: RocketmqListener;
let client: RawRemoting;

before(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'diglot-rmq-wire-'));
  logManager = await LogManager.open({ dir });
  broker = await Broker.open(logManager, { nodeId: 1, autoCreateTopics: true, defaultPartitions: 1, maxMessageBytes: 1_048_588, groupInitialRebalanceDelayMs: 0, delayLevels: DELAY_LEVELS });
  listener = await startRocketmqListener({
    broker,
    host: '127.0.0.1',
    port: 0,
    advertisedHost: '127.0.0.1',
    brokerName: 'broker-a',
    clusterName: 'DefaultCluster',
    frameBytesMax: 1 << 20,
    defaultQueues: 8,
    maxReconsumeTimes: 2,
    logger: createLogger({ level: 'silent' }),
  });
  client = await RawRemoting.connect(listener.address.port);
});

after(async () => {
  client.close();
  await listener.close();
  broker.close();
  await logManager.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

function props(entries: Record<string, string>): string {
  return encodeProperties(Object.entries(entries));
}

function sendV2(topic: string, queueId: number, body: string, properties: Record<string, string>, binary = false): Promise<RemotingCommand> {
  return client.request(
    RequestCode.SEND_MESSAGE_V2,
    { a: 'pg', b: topic, c: 'TBW102', d: 4, e: queueId, f: 0, g: Date.now(), h: 0, i: props(properties), j: 0, k: false, m: false },
    Buffer.from(body),
    binary,
  );
}

function pullRequest(topic: string, queueId: number, offset: number, extra: Record<string, string | number> = {}): Promise<RemotingCommand> {
  return client.request(RequestCode.PULL_MESSAGE, {
    consumerGroup: 'g1',
    topic,
    queueId,
    queueOffset: offset,
    maxMsgNums: 32,
    sysFlag: 0x4,
    commitOffset: 0,
    suspendTimeoutMillis: 0,
    subscription: '*',
    subVersion: 0,
    expressionType: 'TAG',
    ...extra,
  });
}

test('route: TBW102 is routable with perm 7 and unknown topics get TOPIC_NOT_EXIST', async () => {
  const route = await client.request(RequestCode.GET_ROUTEINFO_BY_TOPIC, { topic: 'TBW102' });
  assert.equal(route.code, ResponseCode.SUCCESS);
  const data = JSON.parse(route.body.toString());
  assert.deepEqual(data.brokerDatas[0].brokerAddrs, { '0': `127.0.0.1:${listener.address.port}` });
  assert.equal(data.queueDatas[0].perm, 7);
  assert.equal(data.queueDatas[0].writeQueueNums, 8);
  const missing = await client.request(RequestCode.GET_ROUTEINFO_BY_TOPIC, { topic: 'NoSuchTopic' });
  assert.equal(missing.code, ResponseCode.TOPIC_NOT_EXIST);
  assert.match(missing.remark ?? '', /No topic route info/);
  const hidden = await client.request(RequestCode.GET_ROUTEINFO_BY_TOPIC, { topic: '__consumer_offsets' });
  assert.equal(hidden.code, ResponseCode.TOPIC_NOT_EXIST);
});

test('send V2 (JSON and binary headers) auto-creates the topic; pull returns the messages with properties and ids', async () => {
  const a = await sendV2('WireT1', 1, 'hello', { TAGS: 'TagA', KEYS: 'k1 k2', color: 'red' });
  assert.equal(a.code, ResponseCode.SUCCESS, a.remark ?? '');
  assert.equal(a.extFields['queueId'], '1');
  assert.equal(a.extFields['queueOffset'], '0');
  assert.equal(a.extFields['MSG_REGION'], 'DefaultRegion');
  const b = await sendV2('WireT1', 1, 'world', { TAGS: 'TagB', UNIQ_KEY: 'MYUNIQ' }, true);
  assert.equal(b.code, ResponseCode.SUCCESS, b.remark ?? '');
  assert.equal(b.extFields['queueOffset'], '1');
  assert.equal(b.extFields['transactionId'], 'MYUNIQ');
  const route = JSON.parse((await client.request(RequestCode.GET_ROUTEINFO_BY_TOPIC, { topic: 'WireT1' })).body.toString());
  assert.equal(route.queueDatas[0].readQueueNums, 4, 'created with defaultTopicQueueNums');

  const pulled = await pullRequest('WireT1', 1, 0);
  assert.equal(pulled.code, ResponseCode.SUCCESS, pulled.remark ?? '');
  assert.equal(pulled.extFields['nextBeginOffset'], '2');
  assert.equal(pulled.extFields['maxOffset'], '2');
  const msgs = decodeStoredMessages(pulled.body);
  assert.equal(msgs.length, 2);
  assert.equal(msgs[0]!.body.toString(), 'hello');
  assert.equal(msgs[0]!.topic.toString(), 'WireT1');
  assert.equal(msgs[0]!.queueOffset, 0);
  const p0 = decodeProperties(msgs[0]!.properties.toString());
  assert.equal(p0.get('TAGS'), 'TagA');
  assert.equal(p0.get('KEYS'), 'k1 k2');
  assert.equal(p0.get('color'), 'red');
  assert.equal(p0.get('CLUSTER'), 'DefaultCluster');
  assert.match(p0.get('UNIQ_KEY') ?? '', /^[0-9A-F]{32}$/);
  // The offsetMsgId from the send decodes to this broker and views back the same message.
  const id = decodeOffsetMsgId(a.extFields['msgId']!)!;
  assert.equal(id.port, listener.address.port);
  assert.equal(id.location.queueId, 1);
  assert.equal(id.location.queueOffset, 0);
  const phys = (BigInt(msgs[0]!.physicalHigh) << 32n) | BigInt(msgs[0]!.physicalLow);
  const viewed = await client.request(RequestCode.VIEW_MESSAGE_BY_ID, { offset: BigInt.asIntN(64, phys).toString() });
  assert.equal(viewed.code, ResponseCode.SUCCESS, viewed.remark ?? '');
  assert.equal(decodeStoredMessages(viewed.body)[0]!.body.toString(), 'hello');
});

test('send V1 names and batch: consecutive offsets, one id per message', async () => {
  const v1 = await client.request(
    RequestCode.SEND_MESSAGE,
    { producerGroup: 'pg', topic: 'WireT2', defaultTopic: 'TBW102', defaultTopicQueueNums: 2, queueId: 0, sysFlag: 0, bornTimestamp: Date.now(), flag: 7, properties: props({ TAGS: 'x' }) },
    Buffer.from('v1'),
  );
  assert.equal(v1.code, ResponseCode.SUCCESS, v1.remark ?? '');
  const batch = await client.request(
    RequestCode.SEND_BATCH_MESSAGE,
    { a: 'pg', b: 'WireT2', c: 'TBW102', d: 2, e: 0, f: 0, g: Date.now(), h: 0, i: '', m: true },
    encodeBatchBody([
      { body: Buffer.from('b1'), properties: props({ KEYS: 'kb1' }) },
      { body: Buffer.from('b2'), properties: props({ KEYS: 'kb2' }) },
      { body: Buffer.from('b3'), properties: '' },
    ]),
  );
  assert.equal(batch.code, ResponseCode.SUCCESS, batch.remark ?? '');
  assert.equal(batch.extFields['queueOffset'], '1');
  assert.equal(batch.extFields['msgId']!.split(',').length, 3);
  const msgs = decodeStoredMessages((await pullRequest('WireT2', 0, 0)).body);
  assert.deepEqual(msgs.map((m) => m.body.toString()), ['v1', 'b1', 'b2', 'b3']);
  assert.equal(msgs[0]!.flag, 7);
  assert.deepEqual(msgs.map((m) => m.queueOffset), [0, 1, 2, 3]);
});

test('pull: consecutive pulls served from the queue\'s kept read return exactly their messages, also across appends, seeks back and a recreated topic', async () => {
  const topic = 'WireReadAhead';
  let sent = 0;
  const sendSome = async (n: number, tag: string) => {
    const entries = Array.from({ length: n }, (_, i) => ({ body: Buffer.from(`${tag}-${sent + i}-${'x'.repeat((sent + i) % 50)}`), properties: props({ KEYS: `k${sent + i}` }) }));
    const r = await client.request(RequestCode.SEND_BATCH_MESSAGE, { a: 'pg', b: topic, c: 'TBW102', d: 1, e: 0, f: 0, g: Date.now(), h: 0, i: '', m: true }, encodeBatchBody(entries));
    assert.equal(r.code, ResponseCode.SUCCESS, r.remark ?? '');
    sent += n;
  };
  const expectPull = async (offset: number, max: number, tag: (i: number) => string) => {
    const r = await pullRequest(topic, 0, offset, { maxMsgNums: max });
    assert.equal(r.code, ResponseCode.SUCCESS, `pull at ${offset}: ${r.remark}`);
    const msgs = decodeStoredMessages(r.body);
    const want = Math.min(max, sent - offset);
    assert.equal(msgs.length, want, `pull at ${offset}`);
    msgs.forEach((m, i) => {
      assert.equal(m.queueOffset, offset + i);
      assert.equal(m.body.toString(), `${tag(offset + i)}-${offset + i}-${'x'.repeat((offset + i) % 50)}`);
      assert.equal(decodeProperties(m.properties.toString()).get('KEYS'), `k${offset + i}`);
    });
    assert.equal(r.extFields['nextBeginOffset'], String(offset + want));
    return offset + want;
  };
  // Batches of 40 read 64 KiB at a time are far more than a pull of 7: most pulls are served from the kept read.
  for (let i = 0; i < 10; i++) await sendSome(40, 'a');
  let at = 0;
  for (let i = 0; i < 20; i++) at = await expectPull(at, 7, () => 'a');
  await sendSome(25, 'a'); // appended after the kept read was taken
  while (at < sent) at = await expectPull(at, 32, () => 'a');
  await expectPull(3, 5, () => 'a'); // back to an earlier offset, then on again
  await expectPull(399, 32, () => 'a');
  // Deleted and created again under the same name: offsets restart, the old kept bytes must not answer.
  assert.equal((await client.request(RequestCode.DELETE_TOPIC_IN_BROKER, { topic })).code, ResponseCode.SUCCESS);
  sent = 0;
  await sendSome(30, 'b');
  await expectPull(0, 7, () => 'b');
  await expectPull(7, 32, () => 'b');
});

test('pull: tag filter, offset rules and long polling', async () => {
  for (const tag of ['TagA', 'TagB', 'TagC']) assert.equal((await sendV2('WireT3', 0, tag, { TAGS: tag })).code, ResponseCode.SUCCESS);
  const filtered = await pullRequest('WireT3', 0, 0, { subscription: 'TagA || TagC' });
  assert.deepEqual(decodeStoredMessages(filtered.body).map((m) => m.body.toString()), ['TagA', 'TagC']);
  const noMatch = await pullRequest('WireT3', 0, 1, { subscription: 'TagZ' });
  assert.equal(noMatch.code, ResponseCode.PULL_RETRY_IMMEDIATELY);
  assert.equal(noMatch.extFields['nextBeginOffset'], '3');
  const caughtUp = await pullRequest('WireT3', 0, 3);
  assert.equal(caughtUp.code, ResponseCode.PULL_NOT_FOUND);
  assert.equal(caughtUp.extFields['nextBeginOffset'], '3');
  const beyond = await pullRequest('WireT3', 0, 10);
  assert.equal(beyond.code, ResponseCode.PULL_OFFSET_MOVED);
  assert.equal(beyond.extFields['nextBeginOffset'], '3');
  // Held pull (SUSPEND) answers when a message arrives, not before.
  const t0 = Date.now();
  const held = pullRequest('WireT3', 0, 3, { sysFlag: 0x4 | 0x2, suspendTimeoutMillis: 5000 });
  await new Promise((r) => setTimeout(r, 200));
  assert.equal((await sendV2('WireT3', 0, 'late', { TAGS: 'TagA' })).code, ResponseCode.SUCCESS);
  const woke = await held;
  assert.equal(woke.code, ResponseCode.SUCCESS);
  assert.equal(decodeStoredMessages(woke.body)[0]!.body.toString(), 'late');
  assert.ok(Date.now() - t0 < 3000);
  // A held pull times out with PULL_NOT_FOUND.
  const timedOut = await pullRequest('WireT3', 0, 4, { sysFlag: 0x4 | 0x2, suspendTimeoutMillis: 300 });
  assert.equal(timedOut.code, ResponseCode.PULL_NOT_FOUND);
});

test('heartbeat subscriptions drive push pulls; consumer list; notify on membership change; offsets', async () => {
  const other = await RawRemoting.connect(listener.address.port);
  const hb = (c: RawRemoting, id: string) =>
    c.request(
      RequestCode.HEART_BEAT,
      {},
      Buffer.from(
        JSON.stringify({
          clientID: id,
          consumerDataSet: [
            { groupName: 'gpush', consumeType: 'CONSUME_PASSIVELY', messageModel: 'CLUSTERING', consumeFromWhere: 'CONSUME_FROM_FIRST_OFFSET', subscriptionDataSet: [{ topic: 'WireT3', subString: 'TagC', expressionType: 'TAG', subVersion: 1, tagsSet: ['TagC'], codeSet: [] }] },
          ],
          producerDataSet: [],
        }),
      ),
    );
  assert.equal((await hb(client, 'c1')).code, ResponseCode.SUCCESS);
  const list1 = await client.request(RequestCode.GET_CONSUMER_LIST_BY_GROUP, { consumerGroup: 'gpush' });
  assert.deepEqual(JSON.parse(list1.body.toString()).consumerIdList, ['c1']);
  assert.equal((await hb(other, 'c2')).code, ResponseCode.SUCCESS);
  assert.ok(client.serverRequests.some((r) => r.code === RequestCode.NOTIFY_CONSUMER_IDS_CHANGED && r.extFields['consumerGroup'] === 'gpush'));
  // The retry topic exists once a clustering group has a heartbeat.
  assert.equal((await client.request(RequestCode.GET_ROUTEINFO_BY_TOPIC, { topic: '%RETRY%gpush' })).code, ResponseCode.SUCCESS);
  // A push pull (no SUBSCRIPTION bit) uses the heartbeat's TagC.
  const pushed = await client.request(RequestCode.PULL_MESSAGE, { consumerGroup: 'gpush', topic: 'WireT3', queueId: 0, queueOffset: 0, maxMsgNums: 32, sysFlag: 0x1, commitOffset: 0, suspendTimeoutMillis: 0, subVersion: 1 });
  assert.deepEqual(decodeStoredMessages(pushed.body).map((m) => m.body.toString()), ['TagC']);
  const noSub = await client.request(RequestCode.PULL_MESSAGE, { consumerGroup: 'nobody', topic: 'WireT3', queueId: 0, queueOffset: 0, maxMsgNums: 32, sysFlag: 0, commitOffset: 0, suspendTimeoutMillis: 0, subVersion: 1 });
  assert.equal(noSub.code, ResponseCode.SUBSCRIPTION_NOT_EXIST);
  client.serverRequests.length = 0;
  other.close();
  await new Promise((r) => setTimeout(r, 100));
  assert.ok(client.serverRequests.some((r) => r.code === RequestCode.NOTIFY_CONSUMER_IDS_CHANGED), 'members are told when one leaves');
  const list2 = await client.request(RequestCode.GET_CONSUMER_LIST_BY_GROUP, { consumerGroup: 'gpush' });
  assert.deepEqual(JSON.parse(list2.body.toString()).consumerIdList, ['c1']);

  assert.equal((await client.request(RequestCode.QUERY_CONSUMER_OFFSET, { consumerGroup: 'gnew', topic: 'WireT3', queueId: 0, setZeroIfNotFound: false })).code, ResponseCode.QUERY_NOT_FOUND);
  const zero = await client.request(RequestCode.QUERY_CONSUMER_OFFSET, { consumerGroup: 'gnew', topic: 'WireT3', queueId: 0 });
  assert.equal(zero.extFields['offset'], '0');
  assert.equal((await client.request(RequestCode.UPDATE_CONSUMER_OFFSET, { consumerGroup: 'gnew', topic: 'WireT3', queueId: 0, commitOffset: 2 })).code, ResponseCode.SUCCESS);
  assert.equal((await client.request(RequestCode.QUERY_CONSUMER_OFFSET, { consumerGroup: 'gnew', topic: 'WireT3', queueId: 0 })).extFields['offset'], '2');
  assert.equal(broker.offsets.get('gnew', 'WireT3', 0)?.offset, 2, 'one offset store for both protocols');
  assert.equal((await client.request(RequestCode.GET_MAX_OFFSET, { topic: 'WireT3', queueId: 0 })).extFields['offset'], '4');
  assert.equal((await client.request(RequestCode.GET_MIN_OFFSET, { topic: 'WireT3', queueId: 0 })).extFields['offset'], '0');
  const search = await client.request(RequestCode.SEARCH_OFFSET_BY_TIMESTAMP, { topic: 'WireT3', queueId: 0, timestamp: 0 });
  assert.equal(search.extFields['offset'], '0');
  const future = await client.request(RequestCode.SEARCH_OFFSET_BY_TIMESTAMP, { topic: 'WireT3', queueId: 0, timestamp: Date.now() + 3_600_000 });
  assert.equal(future.extFields['offset'], '4');
});

/** Pulls until a message shows up (or `timeoutMs`); returns them with the time they were first seen. */
async function pullUntil(topic: string, queueId: number, offset: number, timeoutMs = 5000): Promise<{ messages: ReturnType<typeof decodeStoredMessages>; atMs: number }> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const r = await pullRequest(topic, queueId, offset);
    if (r.code === ResponseCode.SUCCESS) return { messages: decodeStoredMessages(r.body), atMs: Date.now() };
    assert.ok(Date.now() < deadline, `nothing in ${topic}/${queueId} at ${offset} after ${timeoutMs} ms (last code ${r.code})`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

test('consumer send-back: retry after delay level 3 + reconsumeTimes, with reconsumeTimes + 1, then the DLQ', async () => {
  const sent = await sendV2('WireT4', 0, 'fail-me', { TAGS: 'T' });
  const pulled = decodeStoredMessages((await pullRequest('WireT4', 0, 0)).body)[0]!;
  let phys = BigInt.asIntN(64, (BigInt(pulled.physicalHigh) << 32n) | BigInt(pulled.physicalLow)).toString();
  for (let attempt = 1; attempt <= 3; attempt++) {
    const backAtMs = Date.now();
    const back = await client.request(RequestCode.CONSUMER_SEND_MSG_BACK, { offset: phys, group: 'gretry', delayLevel: 0, originMsgId: sent.extFields['msgId']!, originTopic: 'WireT4', maxReconsumeTimes: 2 });
    assert.equal(back.code, ResponseCode.SUCCESS, back.remark ?? '');
    if (attempt === 3) break;
    const { messages, atMs } = await pullUntil('%RETRY%gretry', 0, attempt - 1);
    // level 3 + reconsumeTimes (0, then 1)
    assert.ok(atMs - backAtMs >= delayOfLevelMs(3 + attempt - 1) - 5, `retry ${attempt} seen after ${atMs - backAtMs} ms`);
    const retry = messages[0]!;
    assert.equal(retry.reconsumeTimes, attempt);
    const p = decodeProperties(retry.properties.toString());
    assert.equal(p.get('RETRY_TOPIC'), 'WireT4');
    assert.equal(p.get('ORIGIN_MESSAGE_ID'), sent.extFields['msgId']);
    assert.equal(p.get('REAL_TOPIC'), '%RETRY%gretry');
    assert.equal(p.has('DELAY'), false);
    phys = BigInt.asIntN(64, (BigInt(retry.physicalHigh) << 32n) | BigInt(retry.physicalLow)).toString();
  }
  const dlq = decodeStoredMessages((await pullRequest('%DLQ%gretry', 0, 0)).body);
  assert.equal(dlq.length, 1);
  assert.equal(dlq[0]!.body.toString(), 'fail-me');
});

test('delayed sends: DELAY level and TIMER_* properties hold a message until due, then it lands in its queue with REAL_TOPIC / REAL_QID', async () => {
  const t0 = Date.now();
  const cases: Array<[string, Record<string, string>, number]> = [
    ['level-2', { DELAY: '2' }, delayOfLevelMs(2)],
    ['level-99', { DELAY: '99' }, delayOfLevelMs(5)], // clamped to the last level
    ['timer-deliver', { TIMER_DELIVER_MS: String(t0 + 350) }, 350],
    ['timer-sec', { TIMER_DELAY_SEC: '1' }, 1000],
    ['timer-ms', { TIMER_DELAY_MS: '450' }, 450],
    ['start-deliver', { __STARTDELIVERTIME: String(t0 + 250) }, 250],
    ['past', { TIMER_DELIVER_MS: '1' }, 0],
  ];
  for (const [body, properties] of cases) {
    const r = await sendV2('WireDelay', 1, body, { ...properties, KEYS: `k-${body}`, TAGS: 'TD', color: 'red' });
    assert.equal(r.code, ResponseCode.SUCCESS, r.remark ?? '');
  }
  const seen = new Map<string, number>();
  let offset = 0;
  while (seen.size < cases.length) {
    const { messages, atMs } = await pullUntil('WireDelay', 1, offset, 3000);
    for (const m of messages) {
      const p = decodeProperties(m.properties.toString());
      assert.equal(p.get('REAL_TOPIC'), 'WireDelay');
      assert.equal(p.get('REAL_QID'), '1');
      assert.equal(p.get('KEYS'), `k-${m.body.toString()}`);
      assert.equal(p.get('TAGS'), 'TD');
      assert.equal(p.get('color'), 'red');
      assert.equal(m.queueId, 1);
      assert.equal(seen.has(m.body.toString()), false, `${m.body.toString()} delivered twice`);
      seen.set(m.body.toString(), atMs - t0);
      offset++;
    }
  }
  for (const [body, , dueMs] of cases) {
    // Seen no earlier than due (10 ms for the clock granularity of this poll loop), and not much later.
    assert.ok(seen.get(body)! >= dueMs - 10, `${body} seen at +${seen.get(body)} ms, due at +${dueMs}`);
    assert.ok(seen.get(body)! <= dueMs + 500, `${body} seen at +${seen.get(body)} ms, due at +${dueMs}`);
  }
  // Bad values are refused, nothing stored.
  const bad = await sendV2('WireDelay', 0, 'bad', { TIMER_DELAY_MS: 'soon' });
  assert.equal(bad.code, ResponseCode.MESSAGE_ILLEGAL);
  assert.match(bad.remark ?? '', /TIMER_DELAY_MS/);
  const far = await sendV2('WireDelay', 0, 'far', { TIMER_DELIVER_MS: String(t0 + 400 * 86_400_000) });
  assert.equal(far.code, ResponseCode.MESSAGE_ILLEGAL);
  assert.match(far.remark ?? '', /horizon/);
  assert.notEqual((await pullRequest('WireDelay', 0, 0)).code, ResponseCode.SUCCESS);
});

test('locks: one holder per queue, renewable, released by unlock', async () => {
  const mq = [{ topic: 'WireT3', brokerName: 'broker-a', queueId: 0 }];
  const lock = (clientId: string) => client.request(RequestCode.LOCK_BATCH_MQ, {}, Buffer.from(JSON.stringify({ consumerGroup: 'gord', clientId, mqSet: mq })));
  assert.equal(JSON.parse((await lock('a')).body.toString()).lockOKMQSet.length, 1);
  assert.equal(JSON.parse((await lock('b')).body.toString()).lockOKMQSet.length, 0);
  assert.equal(JSON.parse((await lock('a')).body.toString()).lockOKMQSet.length, 1);
  await client.request(RequestCode.UNLOCK_BATCH_MQ, {}, Buffer.from(JSON.stringify({ consumerGroup: 'gord', clientId: 'a', mqSet: mq })));
  assert.equal(JSON.parse((await lock('b')).body.toString()).lockOKMQSet.length, 1);
});

test('bad input: unknown code, missing header field, illegal topic, oversize frame closes only that connection', async () => {
  const unknown = await client.request(9999, {});
  assert.equal(unknown.code, ResponseCode.REQUEST_CODE_NOT_SUPPORTED);
  const missing = await client.request(RequestCode.GET_ROUTEINFO_BY_TOPIC, {});
  assert.equal(missing.code, ResponseCode.SYSTEM_ERROR);
  assert.match(missing.remark ?? '', /custom field <topic> is null/);
  const badTopic = await sendV2('bad topic!', 0, 'x', {});
  assert.equal(badTopic.code, ResponseCode.INVALID_PARAMETER);
  const forbidden = await sendV2('SCHEDULE_TOPIC_XXXX', 0, 'x', {});
  assert.equal(forbidden.code, ResponseCode.NO_PERMISSION);
  const txn = await sendV2('WireT5', 0, 'x', { TRAN_MSG: 'true' });
  assert.equal(txn.code, ResponseCode.NO_PERMISSION);
  const sql = await pullRequest('WireT3', 0, 0, { expressionType: 'SQL92', subscription: 'a >' });
  assert.equal(sql.code, ResponseCode.SUBSCRIPTION_PARSE_FAILED);

  const victim = await RawRemoting.connect(listener.address.port);
  const big = Buffer.alloc(8);
  big.writeInt32BE((1 << 20) + 1, 0);
  victim.socket.write(big);
  await new Promise((r) => setTimeout(r, 100));
  assert.ok(victim.closed);
  const garbage = await RawRemoting.connect(listener.address.port);
  const frame = Buffer.from([0, 0, 0, 8, 0, 0, 0, 4, 0x7b, 0x7b, 0x7b, 0x7b]);
  garbage.socket.write(frame);
  await new Promise((r) => setTimeout(r, 100));
  assert.ok(garbage.closed);
  // Others are unaffected.
  assert.equal((await client.request(RequestCode.GET_BROKER_CLUSTER_INFO, {})).code, ResponseCode.SUCCESS);
});
