// The RocketMQ admin codes (mqadmin, dashboards) over a real socket with raw
// remoting frames: topics (create, grow, delete, configs, stats), subscription
// groups, consumer/producer connections, consume stats, offset reset with the
// push to live consumers, broker runtime info and config, query by key and
// by unique key. Object-keyed bodies (TopicStatsTable, ConsumeStats,
// ResetOffsetBody — remoting §13) are parsed the way fastjson does, with a
// small parser below that accepts `{{"brokerName":…}:…}` keys.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { LogManager } from '../src/storage/log-manager.ts';
import { Broker } from '../src/broker/broker.ts';
import { RawRemoting } from './rocketmq-raw-client.ts';
import { startRocketmqListener, type RocketmqListener } from '../src/rocketmq/server.ts';
import { createLogger } from '../src/logger.ts';
import { fastjson, JavaDouble, ObjectKeyedMap, parseJavaProperties, javaProperties } from '../src/rocketmq/admin-bodies.ts';
import {
  decodeProperties,
  decodeStoredMessages,
  encodeProperties,
  RequestCode,
  ResponseCode,
  type RemotingCommand,
} from '../src/protocol/rocketmq/index.ts';

// ---- a fastjson-tolerant parser: objects may have object keys (Java Map<MessageQueue, V>) ----

/** An object some of whose keys were objects; `entries` keeps every pair in order. */
class Keyed {
  readonly entries: Array<[unknown, unknown]>;
  constructor(entries: Array<[unknown, unknown]>) {
    this.entries = entries;
  }
  /** The value under a MessageQueue-like key. */
  get(match: Record<string, unknown>): unknown {
    for (const [k, v] of this.entries) {
      if (k !== null && typeof k === 'object' && Object.entries(match).every(([mk, mv]) => (k as Record<string, unknown>)[mk] === mv)) return v;
    }
    return undefined;
  }
}

function parseFastjson(text: string): unknown {
  let pos = 0;
  const ws = (): void => {
    while (pos < text.length && /\s/.test(text[pos]!)) pos++;
  };
  const value = (): unknown => {
    ws();
    const c = text[pos];
    if (c === '{') {
      pos++;
      const entries: Array<[unknown, unknown]> = [];
      let objectKeys = false;
      ws();
      if (text[pos] === '}') {
        pos++;
        return {};
      }
      for (;;) {
        ws();
        const key = text[pos] === '"' ? value() : ((objectKeys = true), value());
        ws();
        assert.equal(text[pos], ':', `expected : at ${pos}`);
        pos++;
        entries.push([key, value()]);
        ws();
        if (text[pos] === ',') {
          pos++;
          continue;
        }
        assert.equal(text[pos], '}', `expected } at ${pos}`);
        pos++;
        break;
      }
      return objectKeys ? new Keyed(entries) : Object.fromEntries(entries as Array<[string, unknown]>);
    }
    if (c === '[') {
      pos++;
      const out: unknown[] = [];
      ws();
      if (text[pos] === ']') {
        pos++;
        return out;
      }
      for (;;) {
        out.push(value());
        ws();
        if (text[pos] === ',') {
          pos++;
          continue;
        }
        assert.equal(text[pos], ']', `expected ] at ${pos}`);
        pos++;
        return out;
      }
    }
    const m = /^("(?:[^"\\]|\\.)*"|-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?|true|false|null)/.exec(text.slice(pos));
    assert.ok(m, `unexpected input at ${pos}: ${text.slice(pos, pos + 20)}`);
    pos += m[0].length;
    return JSON.parse(m[0]);
  };
  const out = value();
  ws();
  assert.equal(pos, text.length, 'trailing input');
  return out;
}

function body(c: RemotingCommand): Record<string, unknown> {
  return parseFastjson(c.body.toString('utf8')) as Record<string, unknown>;
}

// ---- fixture ----

let dir: string;
let logManager: LogManager;
let broker: Broker;
let listener: RocketmqListener;
let client: RawRemoting;
const BROKER = 'broker-a';

before(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'diglot-rmq-admin-'));
  logManager = await LogManager.open({ dir });
  broker = await Broker.open(logManager, { nodeId: 1, autoCreateTopics: true, defaultPartitions: 1, maxMessageBytes: 1_048_588, groupInitialRebalanceDelayMs: 0 });
  listener = await startRocketmqListener({
    broker,
    host: '127.0.0.1',
    port: 0,
    advertisedHost: '127.0.0.1',
    brokerName: BROKER,
    clusterName: 'DefaultCluster',
    frameBytesMax: 1 << 22,
    defaultQueues: 8,
    maxReconsumeTimes: 16,
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

function createTopic(topic: string, read: number, write: number, extra: Record<string, string | number> = {}): Promise<RemotingCommand> {
  return client.request(RequestCode.UPDATE_AND_CREATE_TOPIC, {
    topic,
    defaultTopic: 'TBW102',
    readQueueNums: read,
    writeQueueNums: write,
    perm: 6,
    topicFilterType: 'SINGLE_TAG',
    topicSysFlag: 0,
    order: false,
    ...extra,
  });
}

function send(topic: string, queueId: number, text: string, properties: Record<string, string>, bornMs = Date.now()): Promise<RemotingCommand> {
  return client.request(
    RequestCode.SEND_MESSAGE_V2,
    { a: 'pg', b: topic, c: 'TBW102', d: 4, e: queueId, f: 0, g: bornMs, h: 0, i: encodeProperties(Object.entries(properties)), j: 0, k: false, m: false },
    Buffer.from(text),
  );
}

function commit(group: string, topic: string, queueId: number, offset: number): Promise<RemotingCommand> {
  return client.request(RequestCode.UPDATE_CONSUMER_OFFSET, { consumerGroup: group, topic, queueId, commitOffset: offset });
}

function heartbeat(c: RawRemoting, clientId: string, group: string, topics: string[], producerGroup?: string): Promise<RemotingCommand> {
  return c.request(
    RequestCode.HEART_BEAT,
    {},
    JSON.stringify({
      clientID: clientId,
      consumerDataSet: [
        {
          groupName: group,
          consumeType: 'CONSUME_PASSIVELY',
          messageModel: 'CLUSTERING',
          consumeFromWhere: 'CONSUME_FROM_LAST_OFFSET',
          subscriptionDataSet: topics.map((topic) => ({ topic, subString: '*', expressionType: 'TAG', subVersion: 7, tagsSet: [], codeSet: [] })),
          unitMode: false,
        },
      ],
      producerDataSet: producerGroup === undefined ? [] : [{ groupName: producerGroup }],
    }),
  );
}

const mq = (topic: string, queueId: number) => ({ brokerName: BROKER, queueId, topic });

// ---- the encoder itself ----

test('fastjson encoding: object keys, Java doubles, and the test parser reads them back', () => {
  const text = fastjson({ offsetTable: new ObjectKeyedMap([[mq('t', 0), { maxOffset: 3 }]]), tps: new JavaDouble(0), half: new JavaDouble(0.5), skip: undefined });
  assert.equal(text, '{"offsetTable":{{"brokerName":"broker-a","queueId":0,"topic":"t"}:{"maxOffset":3}},"tps":0.0,"half":0.5}');
  assert.throws(() => JSON.parse(text), 'object keys are not JSON');
  const parsed = parseFastjson(text) as { offsetTable: Keyed; tps: number };
  assert.deepEqual(parsed.offsetTable.get(mq('t', 0)), { maxOffset: 3 });
  assert.equal(parsed.tps, 0);
  const props = javaProperties([['a key', 'x=y'], ['b', 'line\nbreak'], ['c', 'plain value']]);
  assert.deepEqual(parseJavaProperties(props), [['a key', 'x=y'], ['b', 'line\nbreak'], ['c', 'plain value']]);
  assert.deepEqual(parseJavaProperties('# c\n k1 = v1\nk2:v2\nk3 v3\nk4=a\\\n   b\n'), [['k1', 'v1'], ['k2', 'v2'], ['k3', 'v3'], ['k4', 'ab']]);
});

// ---- topics ----

test('UPDATE_AND_CREATE_TOPIC: creates max(read, write) queues, grows, never shrinks, validates names', async () => {
  const created = await createTopic('AdmT1', 8, 4);
  assert.equal(created.code, ResponseCode.SUCCESS, created.remark ?? '');
  assert.equal(broker.topics.get('AdmT1')?.partitions, 8);
  const route = JSON.parse((await client.request(RequestCode.GET_ROUTEINFO_BY_TOPIC, { topic: 'AdmT1' })).body.toString());
  assert.equal(route.queueDatas[0].writeQueueNums, 8);
  assert.equal((await createTopic('AdmT1', 12, 12)).code, ResponseCode.SUCCESS);
  assert.equal(broker.topics.get('AdmT1')?.partitions, 12);
  const smaller = await createTopic('AdmT1', 4, 4);
  assert.equal(smaller.code, ResponseCode.SUCCESS);
  assert.match(smaller.remark ?? '', /keeps its 12 queues/);
  assert.equal(broker.topics.get('AdmT1')?.partitions, 12);
  const perm = await createTopic('AdmT1', 12, 12, { perm: 4 });
  assert.equal(perm.code, ResponseCode.SUCCESS);
  assert.match(perm.remark ?? '', /perm 4 not applied/);

  for (const bad of ['bad topic', 'x'.repeat(128), 'TBW102', 'SCHEDULE_TOPIC_XXXX', 'rmq_sys_x', '__consumer_offsets', 'a.b']) {
    const r = await createTopic(bad, 4, 4);
    assert.equal(r.code, ResponseCode.INVALID_PARAMETER, bad);
    assert.ok((r.remark ?? '').length > 0);
    if (bad !== '__consumer_offsets') assert.equal(broker.topics.get(bad), undefined);
  }
  assert.equal(broker.topics.get('__consumer_offsets')?.partitions, 1);
  assert.equal((await createTopic('AdmZero', 0, 0)).code, ResponseCode.INVALID_PARAMETER);
  const missing = await client.request(RequestCode.UPDATE_AND_CREATE_TOPIC, { topic: 'AdmT9', writeQueueNums: 4 });
  assert.equal(missing.code, ResponseCode.SYSTEM_ERROR);
  assert.match(missing.remark ?? '', /readQueueNums/);
});

test('UPDATE_AND_CREATE_TOPIC_LIST: all or nothing', async () => {
  const cfg = (topicName: string, n: number) => ({ topicName, readQueueNums: n, writeQueueNums: n, perm: 6, topicFilterType: 'SINGLE_TAG', topicSysFlag: 0, order: false, attributes: {} });
  const bad = await client.request(RequestCode.UPDATE_AND_CREATE_TOPIC_LIST, {}, JSON.stringify({ topicConfigList: [cfg('AdmL1', 2), cfg('bad name', 2)] }));
  assert.equal(bad.code, ResponseCode.INVALID_PARAMETER);
  assert.equal(broker.topics.get('AdmL1'), undefined);
  const ok = await client.request(RequestCode.UPDATE_AND_CREATE_TOPIC_LIST, {}, JSON.stringify({ topicConfigList: [cfg('AdmL1', 2), cfg('AdmL2', 3)] }));
  assert.equal(ok.code, ResponseCode.SUCCESS, ok.remark ?? '');
  assert.equal(broker.topics.get('AdmL1')?.partitions, 2);
  assert.equal(broker.topics.get('AdmL2')?.partitions, 3);
  assert.equal((await client.request(RequestCode.UPDATE_AND_CREATE_TOPIC_LIST, {}, '{}')).code, ResponseCode.INVALID_PARAMETER);
  assert.equal((await client.request(RequestCode.UPDATE_AND_CREATE_TOPIC_LIST, {})).code, ResponseCode.SYSTEM_ERROR, 'no body');
});

test('GET_ALL_TOPIC_CONFIG and GET_TOPIC_CONFIG', async () => {
  assert.equal((await createTopic('AdmCfg', 3, 3)).code, ResponseCode.SUCCESS);
  const all = await client.request(RequestCode.GET_ALL_TOPIC_CONFIG, {});
  assert.equal(all.code, ResponseCode.SUCCESS);
  const b = JSON.parse(all.body.toString());
  assert.equal(typeof b.dataVersion.counter, 'number');
  assert.equal(typeof b.dataVersion.timestamp, 'number');
  assert.deepEqual(b.topicConfigTable.AdmCfg, { attributes: {}, order: false, perm: 6, readQueueNums: 3, topicFilterType: 'SINGLE_TAG', topicName: 'AdmCfg', topicSysFlag: 0, writeQueueNums: 3 });
  assert.equal(b.topicConfigTable.TBW102.perm, 7);
  assert.equal(b.topicConfigTable.__consumer_offsets, undefined, 'internal logs are not RocketMQ topics');
  const one = await client.request(RequestCode.GET_TOPIC_CONFIG, { topic: 'AdmCfg' });
  assert.equal(one.code, ResponseCode.SUCCESS);
  assert.equal(JSON.parse(one.body.toString()).readQueueNums, 3);
  const unknown = await client.request(RequestCode.GET_TOPIC_CONFIG, { topic: 'NoSuchAdm' });
  assert.equal(unknown.code, ResponseCode.TOPIC_NOT_EXIST);
  // order follows the name server's ORDER_TOPIC_CONFIG KV (mqadmin updateTopic -o true)
  await client.request(RequestCode.PUT_KV_CONFIG, { namespace: 'ORDER_TOPIC_CONFIG', key: 'AdmCfg', value: `${BROKER}:3` });
  assert.equal(JSON.parse((await client.request(RequestCode.GET_TOPIC_CONFIG, { topic: 'AdmCfg' })).body.toString()).order, true);
  await client.request(RequestCode.DELETE_KV_CONFIG, { namespace: 'ORDER_TOPIC_CONFIG', key: 'AdmCfg' });
});

test('GET_TOPIC_STATS_INFO: object-keyed offsetTable with min, max and last store time', async () => {
  assert.equal((await createTopic('AdmStats', 2, 2)).code, ResponseCode.SUCCESS);
  const t0 = Date.now() - 5000;
  for (let i = 0; i < 3; i++) assert.equal((await send('AdmStats', 1, `m${i}`, {}, t0 + i)).code, ResponseCode.SUCCESS);
  const r = await client.request(RequestCode.GET_TOPIC_STATS_INFO, { topic: 'AdmStats' });
  assert.equal(r.code, ResponseCode.SUCCESS);
  const text = r.body.toString();
  assert.throws(() => JSON.parse(text));
  assert.match(text, /"topicPutTps":0\.0/);
  const stats = body(r) as { offsetTable: Keyed; topicPutTps: number };
  assert.equal(stats.offsetTable.entries.length, 2);
  assert.deepEqual(stats.offsetTable.get(mq('AdmStats', 0)), { lastUpdateTimestamp: 0, maxOffset: 0, minOffset: 0 });
  assert.deepEqual(stats.offsetTable.get(mq('AdmStats', 1)), { lastUpdateTimestamp: t0 + 2, maxOffset: 3, minOffset: 0 });
  const missing = await client.request(RequestCode.GET_TOPIC_STATS_INFO, { topic: 'NoSuchAdm' });
  assert.equal(missing.code, ResponseCode.TOPIC_NOT_EXIST);
  assert.equal((await client.request(RequestCode.GET_TOPIC_STATS_INFO, { topic: '__consumer_offsets' })).code, ResponseCode.TOPIC_NOT_EXIST);
});

test('DELETE_TOPIC_IN_BROKER deletes the topic and its offsets; DELETE_TOPIC_IN_NAMESRV answers 0', async () => {
  assert.equal((await createTopic('AdmDel', 2, 2)).code, ResponseCode.SUCCESS);
  assert.equal((await send('AdmDel', 0, 'x', {})).code, ResponseCode.SUCCESS);
  assert.equal((await commit('gdel', 'AdmDel', 0, 1)).code, ResponseCode.SUCCESS);
  const del = await client.request(RequestCode.DELETE_TOPIC_IN_BROKER, { topic: 'AdmDel' });
  assert.equal(del.code, ResponseCode.SUCCESS, del.remark ?? '');
  assert.equal(broker.topics.get('AdmDel'), undefined);
  assert.equal(broker.offsets.get('gdel', 'AdmDel', 0), undefined);
  assert.equal((await client.request(RequestCode.GET_ROUTEINFO_BY_TOPIC, { topic: 'AdmDel' })).code, ResponseCode.TOPIC_NOT_EXIST);
  assert.equal((await client.request(RequestCode.DELETE_TOPIC_IN_NAMESRV, { topic: 'AdmDel', clusterName: 'DefaultCluster' })).code, ResponseCode.SUCCESS);
  assert.equal((await client.request(RequestCode.DELETE_TOPIC_IN_BROKER, { topic: 'AdmDel' })).code, ResponseCode.SUCCESS, 'unknown topic is fine');
  assert.equal((await client.request(RequestCode.DELETE_TOPIC_IN_BROKER, { topic: '__consumer_offsets' })).code, ResponseCode.INVALID_PARAMETER);
  assert.equal((await client.request(RequestCode.DELETE_TOPIC_IN_BROKER, { topic: ' ' })).code, ResponseCode.INVALID_PARAMETER);
  assert.equal((await client.request(RequestCode.DELETE_TOPIC_IN_BROKER, {})).code, ResponseCode.SYSTEM_ERROR);
});

// ---- groups, connections, progress ----

test('subscription groups: create, show, list, delete with cleanOffset', async () => {
  const config = {
    groupName: 'gsub',
    consumeEnable: true,
    consumeFromMinEnable: false,
    consumeBroadcastEnable: false,
    consumeMessageOrderly: false,
    retryQueueNums: 1,
    retryMaxTimes: 3,
    groupRetryPolicy: { type: 'CUSTOMIZED' },
    brokerId: 0,
    whichBrokerWhenConsumeSlowly: 1,
    notifyConsumerIdsChangedEnable: true,
    groupSysFlag: 0,
    consumeTimeoutMinute: 15,
    attributes: {},
  };
  const r = await client.request(RequestCode.UPDATE_AND_CREATE_SUBSCRIPTIONGROUP, {}, JSON.stringify(config));
  assert.equal(r.code, ResponseCode.SUCCESS, r.remark ?? '');
  assert.equal(listener.state.subscriptionGroups.get('gsub')?.retryMaxTimes, 3, 'the send and send-back handlers read it here');
  const one = await client.request(RequestCode.GET_SUBSCRIPTIONGROUP_CONFIG, { group: 'gsub' });
  assert.equal(one.code, ResponseCode.SUCCESS);
  const shown = JSON.parse(one.body.toString());
  assert.equal(shown.retryMaxTimes, 3);
  assert.equal(shown.consumeBroadcastEnable, false);
  assert.deepEqual(shown.groupRetryPolicy, { type: 'CUSTOMIZED' });
  assert.deepEqual(Object.keys(shown), [...Object.keys(shown)].sort(), 'fastjson field order');
  const all = JSON.parse((await client.request(RequestCode.GET_ALL_SUBSCRIPTIONGROUP_CONFIG, {})).body.toString());
  assert.equal(all.subscriptionGroupTable.gsub.retryMaxTimes, 3);
  assert.equal(typeof all.dataVersion.counter, 'number');
  // A partial body keeps defaults for the rest.
  assert.equal((await client.request(RequestCode.UPDATE_AND_CREATE_SUBSCRIPTIONGROUP, {}, JSON.stringify({ groupName: 'gpartial' }))).code, ResponseCode.SUCCESS);
  assert.equal(listener.state.subscriptionGroups.get('gpartial')?.retryMaxTimes, 16);
  // Errors
  assert.equal((await client.request(RequestCode.GET_SUBSCRIPTIONGROUP_CONFIG, { group: 'nobody-knows' })).code, ResponseCode.SUBSCRIPTION_GROUP_NOT_EXIST);
  assert.equal((await client.request(RequestCode.UPDATE_AND_CREATE_SUBSCRIPTIONGROUP, {}, JSON.stringify({ retryMaxTimes: 1 }))).code, ResponseCode.INVALID_PARAMETER);
  assert.equal((await client.request(RequestCode.UPDATE_AND_CREATE_SUBSCRIPTIONGROUP, {}, JSON.stringify({ groupName: 'g x' }))).code, ResponseCode.INVALID_PARAMETER);
  assert.equal((await client.request(RequestCode.UPDATE_AND_CREATE_SUBSCRIPTIONGROUP, {}, JSON.stringify({ groupName: 'gy', retryMaxTimes: 'many' }))).code, ResponseCode.INVALID_PARAMETER);
  assert.equal((await client.request(RequestCode.UPDATE_AND_CREATE_SUBSCRIPTIONGROUP, {}, 'not json')).code, ResponseCode.SYSTEM_ERROR);
  // A group known only from committed offsets gets its defaults.
  assert.equal((await createTopic('AdmSub', 1, 1)).code, ResponseCode.SUCCESS);
  assert.equal((await commit('goffsets', 'AdmSub', 0, 0)).code, ResponseCode.SUCCESS);
  assert.equal((await client.request(RequestCode.GET_SUBSCRIPTIONGROUP_CONFIG, { group: 'goffsets' })).code, ResponseCode.SUCCESS);
  // Delete: config gone; offsets only with cleanOffset.
  assert.equal((await commit('gsub', 'AdmSub', 0, 0)).code, ResponseCode.SUCCESS);
  assert.equal((await client.request(RequestCode.DELETE_SUBSCRIPTIONGROUP, { groupName: 'gsub', cleanOffset: false })).code, ResponseCode.SUCCESS);
  assert.equal(listener.state.subscriptionGroups.has('gsub'), false);
  assert.notEqual(broker.offsets.get('gsub', 'AdmSub', 0), undefined);
  assert.equal((await client.request(RequestCode.DELETE_SUBSCRIPTIONGROUP, { groupName: 'gsub', cleanOffset: true })).code, ResponseCode.SUCCESS);
  assert.equal(broker.offsets.get('gsub', 'AdmSub', 0), undefined);
});

test('GET_CONSUMER_CONNECTION_LIST and GET_PRODUCER_CONNECTION_LIST from heartbeats', async () => {
  const member = await RawRemoting.connect(listener.address.port);
  try {
    assert.equal((await heartbeat(member, 'cid-1', 'gconn', ['AdmConnT'], 'pconn')).code, ResponseCode.SUCCESS);
    const r = await client.request(RequestCode.GET_CONSUMER_CONNECTION_LIST, { consumerGroup: 'gconn' });
    assert.equal(r.code, ResponseCode.SUCCESS, r.remark ?? '');
    const cc = JSON.parse(r.body.toString());
    assert.equal(cc.connectionSet.length, 1);
    const { address, port } = member.socket.address() as net.AddressInfo;
    assert.deepEqual(cc.connectionSet[0], { clientAddr: `${address}:${port}`, clientId: 'cid-1', language: 'JAVA', version: 479 });
    assert.equal(cc.consumeType, 'CONSUME_PASSIVELY');
    assert.equal(cc.messageModel, 'CLUSTERING');
    assert.equal(cc.consumeFromWhere, 'CONSUME_FROM_LAST_OFFSET');
    assert.equal(cc.subscriptionTable.AdmConnT.subString, '*');
    assert.equal(cc.subscriptionTable.AdmConnT.subVersion, 7);
    const p = await client.request(RequestCode.GET_PRODUCER_CONNECTION_LIST, { producerGroup: 'pconn' });
    assert.equal(p.code, ResponseCode.SUCCESS);
    assert.equal(JSON.parse(p.body.toString()).connectionSet[0].clientId, 'cid-1');
    assert.equal((await client.request(RequestCode.GET_PRODUCER_CONNECTION_LIST, { producerGroup: 'pnone' })).code, ResponseCode.SYSTEM_ERROR);
  } finally {
    member.close();
  }
  await new Promise((r) => setTimeout(r, 100));
  const gone = await client.request(RequestCode.GET_CONSUMER_CONNECTION_LIST, { consumerGroup: 'gconn' });
  assert.equal(gone.code, ResponseCode.CONSUMER_NOT_ONLINE);
  assert.equal((await client.request(RequestCode.GET_CONSUMER_CONNECTION_LIST, { consumerGroup: 'gnever' })).code, ResponseCode.CONSUMER_NOT_ONLINE);
});

test('GET_CONSUME_STATS, GET_BROKER_CONSUME_STATS, QUERY_TOPIC_CONSUME_BY_WHO, QUERY_TOPICS_BY_CONSUMER', async () => {
  assert.equal((await createTopic('AdmProg', 2, 2)).code, ResponseCode.SUCCESS);
  assert.equal((await createTopic('AdmProg2', 1, 1)).code, ResponseCode.SUCCESS);
  const t0 = Date.now() - 10_000;
  for (let i = 0; i < 4; i++) assert.equal((await send('AdmProg', 0, `p${i}`, {}, t0 + i)).code, ResponseCode.SUCCESS);
  assert.equal((await send('AdmProg', 1, 'q0', {}, t0)).code, ResponseCode.SUCCESS);
  assert.equal((await commit('gprog', 'AdmProg', 0, 3)).code, ResponseCode.SUCCESS);
  assert.equal((await commit('gprog', 'AdmProg2', 0, 0)).code, ResponseCode.SUCCESS);

  const r = await client.request(RequestCode.GET_CONSUME_STATS, { consumerGroup: 'gprog' });
  assert.equal(r.code, ResponseCode.SUCCESS);
  const stats = body(r) as { consumeTps: number; offsetTable: Keyed };
  assert.match(r.body.toString(), /"consumeTps":0\.0/);
  assert.equal(stats.offsetTable.entries.length, 3, 'AdmProg 2 queues + AdmProg2 1 queue');
  assert.deepEqual(stats.offsetTable.get(mq('AdmProg', 0)), { brokerOffset: 4, consumerOffset: 3, lastTimestamp: t0 + 2, pullOffset: 3 });
  assert.deepEqual(stats.offsetTable.get(mq('AdmProg', 1)), { brokerOffset: 1, consumerOffset: 0, lastTimestamp: 0, pullOffset: 0 });
  const one = body(await client.request(RequestCode.GET_CONSUME_STATS, { consumerGroup: 'gprog', topic: 'AdmProg2' })) as { offsetTable: Keyed };
  assert.equal(one.offsetTable.entries.length, 1);
  const listed = body(await client.request(RequestCode.GET_CONSUME_STATS, { consumerGroup: 'gprog', topicList: 'AdmProg;AdmProg2' })) as { offsetTable: Keyed };
  assert.equal(listed.offsetTable.entries.length, 3);
  const empty = await client.request(RequestCode.GET_CONSUME_STATS, { consumerGroup: 'gnothing' });
  assert.equal(empty.code, ResponseCode.SUCCESS);
  assert.equal(empty.body.toString(), '{"consumeTps":0.0,"offsetTable":{}}');
  assert.equal((await client.request(RequestCode.GET_CONSUME_STATS, {})).code, ResponseCode.SYSTEM_ERROR);

  // Live consumers subscribing to AdmProg only: other topics drop out; the retry topic counts.
  const member = await RawRemoting.connect(listener.address.port);
  try {
    assert.equal((await heartbeat(member, 'cid-prog', 'gprog', ['AdmProg', '%RETRY%gprog'])).code, ResponseCode.SUCCESS);
    const sub = body(await client.request(RequestCode.GET_CONSUME_STATS, { consumerGroup: 'gprog' })) as { offsetTable: Keyed };
    assert.deepEqual(sub.offsetTable.entries.map(([k]) => (k as { topic: string }).topic).sort(), ['%RETRY%gprog', 'AdmProg', 'AdmProg']);

    const who = JSON.parse((await client.request(RequestCode.QUERY_TOPIC_CONSUME_BY_WHO, { topic: 'AdmProg' })).body.toString());
    assert.deepEqual(who.groupList, ['gprog']);
    const byWhoRetry = JSON.parse((await client.request(RequestCode.QUERY_TOPIC_CONSUME_BY_WHO, { topic: '%RETRY%gprog' })).body.toString());
    assert.deepEqual(byWhoRetry.groupList, ['gprog'], 'live subscription');
  } finally {
    member.close();
  }
  await new Promise((r) => setTimeout(r, 100));
  const topics = JSON.parse((await client.request(RequestCode.QUERY_TOPICS_BY_CONSUMER, { group: 'gprog' })).body.toString());
  assert.deepEqual(topics.topicList, ['AdmProg', 'AdmProg2']);
  assert.equal(topics.brokerAddr, listener.advertisedAddress);
  assert.deepEqual(JSON.parse((await client.request(RequestCode.QUERY_TOPIC_CONSUME_BY_WHO, { topic: 'NoSuchAdm' })).body.toString()).groupList, []);

  const all = await client.request(RequestCode.GET_BROKER_CONSUME_STATS, { isOrder: false });
  assert.equal(all.code, ResponseCode.SUCCESS);
  const list = body(all) as { brokerAddr: string; consumeStatsList: Array<Record<string, Array<{ offsetTable: Keyed }>>>; totalDiff: number };
  assert.equal(list.brokerAddr, listener.advertisedAddress);
  const gprog = list.consumeStatsList.find((m) => 'gprog' in m)!['gprog']!;
  assert.equal(gprog.length, 2);
  assert.ok(list.totalDiff >= 2);
  const ordered = body(await client.request(RequestCode.GET_BROKER_CONSUME_STATS, { isOrder: true })) as { consumeStatsList: Array<Record<string, unknown[]>> };
  assert.ok(ordered.consumeStatsList.every((m) => Object.values(m).every((l) => l.length === 0)), 'no order topics');
});

test('INVOKE_BROKER_TO_RESET_OFFSET: commits the offsets and pushes RESET_CONSUMER_CLIENT_OFFSET to live consumers', async () => {
  assert.equal((await createTopic('AdmReset', 2, 2)).code, ResponseCode.SUCCESS);
  const t0 = Date.now() - 60_000;
  for (let i = 0; i < 5; i++) assert.equal((await send('AdmReset', 0, `r${i}`, {}, t0 + i * 1000)).code, ResponseCode.SUCCESS);
  assert.equal((await send('AdmReset', 1, 'r1-0', {}, t0)).code, ResponseCode.SUCCESS);
  assert.equal((await commit('greset', 'AdmReset', 0, 5)).code, ResponseCode.SUCCESS);
  const member = await RawRemoting.connect(listener.address.port);
  try {
    assert.equal((await heartbeat(member, 'cid-reset', 'greset', ['AdmReset'])).code, ResponseCode.SUCCESS);
    member.serverRequests.length = 0;
    const r = await client.request(RequestCode.INVOKE_BROKER_TO_RESET_OFFSET, { topic: 'AdmReset', group: 'greset', timestamp: t0 + 2000, isForce: true });
    assert.equal(r.code, ResponseCode.SUCCESS, r.remark ?? '');
    const table = (body(r) as { offsetTable: Keyed }).offsetTable;
    assert.equal(table.get(mq('AdmReset', 0)), 2);
    assert.equal(table.get(mq('AdmReset', 1)), 1, 'nothing at or after the time: the end');
    assert.equal(broker.offsets.get('greset', 'AdmReset', 0)?.offset, 2);
    assert.equal(broker.offsets.get('greset', 'AdmReset', 1)?.offset, 1);
    await new Promise((resolve) => setTimeout(resolve, 50));
    const push = member.serverRequests.find((c) => c.code === RequestCode.RESET_CONSUMER_CLIENT_OFFSET);
    assert.ok(push, 'live consumer told');
    assert.equal(push.flag & 2, 2, 'oneway');
    assert.deepEqual(push.extFields, { topic: 'AdmReset', group: 'greset', timestamp: String(t0 + 2000), isForce: 'true' });
    assert.equal((parseFastjson(push.body.toString()) as { offsetTable: Keyed }).offsetTable.get(mq('AdmReset', 0)), 2);

    // One queue to an explicit offset; out of range → 29.
    const q = await client.request(RequestCode.INVOKE_BROKER_TO_RESET_OFFSET, { topic: 'AdmReset', group: 'greset', timestamp: 0, isForce: true, queueId: 0, offset: 4 });
    assert.equal(q.code, ResponseCode.SUCCESS);
    assert.equal((body(q) as { offsetTable: Keyed }).offsetTable.entries.length, 1);
    assert.equal(broker.offsets.get('greset', 'AdmReset', 0)?.offset, 4);
    assert.equal((await client.request(RequestCode.INVOKE_BROKER_TO_RESET_OFFSET, { topic: 'AdmReset', group: 'greset', timestamp: 0, isForce: true, queueId: 0, offset: 99 })).code, ResponseCode.INVALID_PARAMETER);
    assert.equal((await client.request(RequestCode.INVOKE_BROKER_TO_RESET_OFFSET, { topic: 'AdmReset', group: 'greset', timestamp: 0, isForce: true, queueId: 7 })).code, ResponseCode.INVALID_PARAMETER);
    // Not forced: a queue only moves back.
    const nf = await client.request(RequestCode.INVOKE_BROKER_TO_RESET_OFFSET, { topic: 'AdmReset', group: 'greset', timestamp: -1, isForce: false });
    assert.equal((body(nf) as { offsetTable: Keyed }).offsetTable.get(mq('AdmReset', 0)), 4);
    // timestamp -1 forced: the end.
    const end = await client.request(RequestCode.INVOKE_BROKER_TO_RESET_OFFSET, { topic: 'AdmReset', group: 'greset', timestamp: -1, isForce: true });
    assert.equal((body(end) as { offsetTable: Keyed }).offsetTable.get(mq('AdmReset', 0)), 5);
    // Earliest.
    await client.request(RequestCode.INVOKE_BROKER_TO_RESET_OFFSET, { topic: 'AdmReset', group: 'greset', timestamp: 0, isForce: true });
    assert.equal(broker.offsets.get('greset', 'AdmReset', 0)?.offset, 0);
  } finally {
    member.close();
  }
  assert.equal((await client.request(RequestCode.INVOKE_BROKER_TO_RESET_OFFSET, { topic: 'NoSuchAdm', group: 'greset', timestamp: 0, isForce: true })).code, ResponseCode.TOPIC_NOT_EXIST);
  assert.equal((await client.request(RequestCode.INVOKE_BROKER_TO_RESET_OFFSET, { topic: 'AdmReset', group: 'gunknown', timestamp: 0, isForce: true })).code, ResponseCode.SUBSCRIPTION_GROUP_NOT_EXIST);
  assert.equal((await client.request(RequestCode.INVOKE_BROKER_TO_RESET_OFFSET, { topic: 'AdmReset', group: 'greset' })).code, ResponseCode.SYSTEM_ERROR, 'timestamp is required');
});

// ---- broker ----

test('GET_BROKER_RUNTIME_INFO: the keys mqadmin clusterList parses, parseable as Java would', async () => {
  const r = await client.request(RequestCode.GET_BROKER_RUNTIME_INFO, {});
  assert.equal(r.code, ResponseCode.SUCCESS);
  const table = JSON.parse(r.body.toString()).table as Record<string, string>;
  for (const [k, v] of Object.entries(table)) assert.equal(typeof v, 'string', k);
  const javaDouble = (s: string | undefined) => {
    assert.ok(s !== undefined && /^-?\d+(\.\d+)?(E-?\d+)?$/.test(s), `Double.parseDouble(${s})`);
    return Number(s);
  };
  const javaLong = (s: string | undefined) => {
    assert.ok(s !== undefined && /^-?\d+$/.test(s), `Long.parseLong(${s})`);
    return Number(s);
  };
  javaDouble(table['putTps']!.split(' ')[0]);
  javaDouble(table['getTransferredTps']!.split(' ')[0]);
  javaDouble(table['getTransferedTps']!.split(' ')[0]);
  const earliest = javaLong(table['earliestMessageTimeStamp']);
  assert.ok(earliest > 0 && earliest <= Date.now(), 'messages were sent by earlier tests');
  const ratio = javaDouble(table['commitLogDiskRatio']);
  assert.ok(ratio >= 0 && ratio <= 1);
  for (const k of ['timerReadBehind', 'timerOffsetBehind', 'timerCongestNum', 'msgPutTotalTodayNow', 'msgGetTotalTodayNow', 'msgPutTotalYesterdayMorning', 'bootTimestamp', 'pageCacheLockTimeMills', 'dispatchBehindBytes', 'brokerVersion', 'sendThreadPoolQueueHeadWaitTimeMills', 'pullThreadPoolQueueHeadWaitTimeMills', 'remainTransientStoreBufferNumbs']) {
    javaLong(table[k]);
  }
  javaDouble(table['timerEnqueueTps']);
  assert.equal(table['brokerVersionDesc'], 'V5_3_3');
  assert.equal(table['brokerActive'], 'true');
  assert.ok(Number(table['putMessageTimesTotal']) > 0);
});

test('GET_BROKER_CONFIG, UPDATE_BROKER_CONFIG refused, write-perm switches change nothing', async () => {
  const r = await client.request(RequestCode.GET_BROKER_CONFIG, {});
  assert.equal(r.code, ResponseCode.SUCCESS);
  const props = new Map(parseJavaProperties(r.body.toString()));
  assert.equal(props.get('brokerName'), BROKER);
  assert.equal(props.get('brokerClusterName'), 'DefaultCluster');
  assert.equal(props.get('listenPort'), String(listener.address.port));
  assert.equal(props.get('autoCreateTopicEnable'), 'true');
  assert.equal(props.get('defaultTopicQueueNums'), '8');
  assert.equal(props.get('storePathRootDir'), dir);
  assert.equal(typeof JSON.parse(r.extFields['version']!).counter, 'number');
  const update = await client.request(RequestCode.UPDATE_BROKER_CONFIG, {}, 'autoCreateTopicEnable=false\n');
  assert.equal(update.code, ResponseCode.SYSTEM_ERROR);
  assert.match(update.remark ?? '', /not supported/);
  const wipe = await client.request(RequestCode.WIPE_WRITE_PERM_OF_BROKER, { brokerName: BROKER });
  assert.equal(wipe.code, ResponseCode.SUCCESS);
  assert.equal(wipe.extFields['wipeTopicCount'], '0');
  assert.match(wipe.remark ?? '', /not switchable/);
  const add = await client.request(RequestCode.ADD_WRITE_PERM_OF_BROKER, { brokerName: BROKER });
  assert.equal(add.extFields['addTopicCount'], '0');
  assert.equal((await client.request(RequestCode.WIPE_WRITE_PERM_OF_BROKER, {})).code, ResponseCode.SYSTEM_ERROR);
  // Still writable.
  assert.equal((await send('AdmT1', 0, 'still', {})).code, ResponseCode.SUCCESS);
});

// ---- query ----

test('QUERY_MESSAGE: by key within a time range, by unique key, not found', async () => {
  assert.equal((await createTopic('AdmQ', 3, 3)).code, ResponseCode.SUCCESS);
  const t0 = Date.now() - 3_600_000;
  const sent: RemotingCommand[] = [];
  sent.push(await send('AdmQ', 0, 'a', { KEYS: 'order-1 user-7', UNIQ_KEY: 'UNIQ00000000000000000000000000A1' }, t0));
  sent.push(await send('AdmQ', 1, 'b', { KEYS: 'order-2', UNIQ_KEY: 'UNIQ00000000000000000000000000B2' }, t0 + 1000));
  sent.push(await send('AdmQ', 2, 'c', { KEYS: 'order-1' }, t0 + 2000));
  sent.push(await send('AdmQ', 2, 'd', { KEYS: 'order-10' }, t0 + 3000));
  for (const s of sent) assert.equal(s.code, ResponseCode.SUCCESS);
  const query = (key: string, extra: Record<string, string | number> = {}) =>
    client.request(RequestCode.QUERY_MESSAGE, { topic: 'AdmQ', key, maxNum: 64, beginTimestamp: 0, endTimestamp: '9223372036854775807', ...extra });

  const byKey = await query('order-1');
  assert.equal(byKey.code, ResponseCode.SUCCESS, byKey.remark ?? '');
  assert.ok(Number(byKey.extFields['indexLastUpdateTimestamp']) > 0);
  assert.equal(byKey.extFields['indexLastUpdatePhyoffset'], '0');
  const msgs = decodeStoredMessages(byKey.body);
  assert.deepEqual(msgs.map((m) => m.body.toString()).sort(), ['a', 'c'], 'exact key words only (not order-10)');
  assert.equal(msgs.find((m) => m.body.toString() === 'a')!.topic.toString(), 'AdmQ');
  assert.equal(decodeProperties(msgs[0]!.properties.toString()).get('KEYS')?.split(' ').includes('order-1'), true);
  assert.deepEqual(decodeStoredMessages((await query('user-7')).body).map((m) => m.body.toString()), ['a']);
  // Time range and maxNum
  assert.deepEqual(decodeStoredMessages((await query('order-1', { beginTimestamp: t0 + 1000 })).body).map((m) => m.body.toString()), ['c']);
  assert.deepEqual(decodeStoredMessages((await query('order-1', { endTimestamp: t0 + 500 })).body).map((m) => m.body.toString()), ['a']);
  assert.equal(decodeStoredMessages((await query('order-1', { maxNum: 1 })).body).length, 1);
  const outside = await query('order-1', { beginTimestamp: t0 + 10_000 });
  assert.equal(outside.code, ResponseCode.QUERY_NOT_FOUND);
  assert.ok(outside.extFields['indexLastUpdateTimestamp'] !== undefined, 'required ext on 22 too');
  // Unique key (what queryMsgById falls back to for a client message id)
  const uniq = await query('UNIQ00000000000000000000000000B2', { _UNIQUE_KEY_QUERY: 'true', maxNum: 1 });
  assert.equal(uniq.code, ResponseCode.SUCCESS);
  assert.deepEqual(decodeStoredMessages(uniq.body).map((m) => m.body.toString()), ['b']);
  assert.equal((await query('order-2', { _UNIQUE_KEY_QUERY: 'true' })).code, ResponseCode.QUERY_NOT_FOUND, 'a key is not a unique key');
  assert.equal((await query('UNIQ00000000000000000000000000B2')).code, ResponseCode.QUERY_NOT_FOUND, 'nor the other way round');
  // Unknown key / topic; bad header
  assert.equal((await query('nope')).code, ResponseCode.QUERY_NOT_FOUND);
  assert.equal((await client.request(RequestCode.QUERY_MESSAGE, { topic: 'NoSuchAdm', key: 'k', maxNum: 1, beginTimestamp: 0, endTimestamp: 1 })).code, ResponseCode.QUERY_NOT_FOUND);
  assert.equal((await query('order-1', { endTimestamp: 'soon' })).code, ResponseCode.SYSTEM_ERROR);
  assert.equal((await client.request(RequestCode.QUERY_MESSAGE, { topic: 'AdmQ', key: 'k' })).code, ResponseCode.SYSTEM_ERROR);
  // The offsetMsgId of a send views the same message (queryMsgById's first try).
  const viewed = await client.request(RequestCode.VIEW_MESSAGE_BY_ID, { offset: BigInt('0x' + sent[1]!.extFields['msgId']!.slice(16)).toString() });
  assert.equal(viewed.code, ResponseCode.SUCCESS, viewed.remark ?? '');
  assert.equal(decodeStoredMessages(viewed.body)[0]!.body.toString(), 'b');
});
