// The Kafka admin APIs over a real socket: kafkajs 2.2.4's admin client for
// what it speaks (CreateTopics v3, DeleteTopics v1, CreatePartitions v1,
// DeleteRecords v1, DescribeConfigs v2, AlterConfigs v1, Metadata), and a
// small raw client built on the generated codecs for what it does not
// (IncrementalAlterConfigs, DescribeCluster, OffsetForLeaderEpoch,
// DescribeTopicPartitions, DeleteTopics by id, CreateTopics v7) and for the
// per-topic error messages kafkajs does not surface.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Kafka, logLevel, type Admin, type ConfigResourceTypes as ResourceType } from 'kafkajs';
import { LogManager } from '../src/storage/log-manager.ts';
import { Broker, type BrokerConfig } from '../src/broker/broker.ts';
import { startKafkaListener, type KafkaListener } from '../src/kafka/server.ts';
import { createLogger } from '../src/logger.ts';
import { Reader, Writer, ZERO_UUID, type Init } from '../src/protocol/kafka/codec/index.ts';
import { APIS, requestHeaderVersion, responseHeaderVersion, type ApiName } from '../src/protocol/kafka/generated/apis.ts';
import { encodeRequestHeader } from '../src/protocol/kafka/generated/request-header.ts';
import { decodeResponseHeader } from '../src/protocol/kafka/generated/response-header.ts';

// kafkajs's ConfigResourceTypes enum is not a named export of its CommonJS module.
const ConfigResourceTypes = { TOPIC: 2 as ResourceType, BROKER: 4 as ResourceType };
const BROKER_CONFIG: BrokerConfig = { nodeId: 1, autoCreateTopics: true, defaultPartitions: 2, maxMessageBytes: 1_048_588, groupInitialRebalanceDelayMs: 0 };
const TOPIC = 2;
const BROKER = 4;
const SET = 0;
const DELETE = 1;
const APPEND = 2;
const SUBTRACT = 3;

type Res = Record<string, any>;

/** A minimal Kafka client: one connection, requests answered in order. */
class RawKafka {
  readonly #socket: net.Socket;
  #buffered = Buffer.alloc(0);
  readonly #waiting: Array<{ resolve: (frame: Buffer) => void; reject: (err: Error) => void }> = [];
  #correlationId = 0;

  private constructor(socket: net.Socket) {
    this.#socket = socket;
    socket.on('data', (chunk: Buffer) => {
      this.#buffered = Buffer.concat([this.#buffered, chunk]);
      while (this.#buffered.length >= 4 && this.#buffered.length >= 4 + this.#buffered.readInt32BE(0)) {
        const size = this.#buffered.readInt32BE(0);
        const frame = this.#buffered.subarray(4, 4 + size);
        this.#buffered = this.#buffered.subarray(4 + size);
        this.#waiting.shift()?.resolve(frame);
      }
    });
    socket.on('close', () => {
      for (const w of this.#waiting.splice(0)) w.reject(new Error('connection closed by the broker'));
    });
  }

  static connect(port: number): Promise<RawKafka> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host: '127.0.0.1', port }, () => resolve(new RawKafka(socket)));
      socket.once('error', reject);
    });
  }

  async request(api: ApiName, version: number, body: Init<any>): Promise<Res> {
    const spec = APIS[api];
    const correlationId = ++this.#correlationId;
    const w = new Writer();
    encodeRequestHeader(w, { requestApiKey: spec.apiKey, requestApiVersion: version, correlationId, clientId: 'raw-admin-test' }, requestHeaderVersion(spec.apiKey, version));
    spec.encodeRequest(w, body as never, version);
    const payload = w.toBuffer();
    const size = Buffer.alloc(4);
    size.writeInt32BE(payload.length, 0);
    const frame = new Promise<Buffer>((resolve, reject) => this.#waiting.push({ resolve, reject }));
    this.#socket.write(Buffer.concat([size, payload]));
    const r = new Reader(await frame);
    assert.equal(decodeResponseHeader(r, responseHeaderVersion(spec.apiKey, version)).correlationId, correlationId);
    return spec.decodeResponse(r, version) as Res;
  }

  close(): void {
    this.#socket.destroy();
  }
}

let dir: string;
let logManager: LogManager;
let broker: Broker;
let listener: KafkaListener;
let kafka: Kafka;
let admin: Admin;
let raw: RawKafka;

before(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'diglot-admin-'));
  logManager = await LogManager.open({ dir });
  broker = await Broker.open(logManager, BROKER_CONFIG);
  listener = await startKafkaListener({ broker, host: '127.0.0.1', port: 0, advertisedHost: '127.0.0.1', nodeId: 1, frameBytesMax: 100 << 20, logger: createLogger({ level: 'silent' }) });
  kafka = new Kafka({ clientId: 'diglot-admin-test', brokers: [`127.0.0.1:${listener.address.port}`], logLevel: logLevel.NOTHING, retry: { retries: 2, initialRetryTime: 50 } });
  admin = kafka.admin();
  await admin.connect();
  raw = await RawKafka.connect(listener.address.port);
});

after(async () => {
  raw.close();
  await admin.disconnect();
  await listener.close();
  broker.close();
  await logManager.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

async function describeTopic(name: string): Promise<Map<string, { value: string | null; source: number; readOnly: boolean; synonyms: string[] }>> {
  const { resources } = await admin.describeConfigs({ resources: [{ type: ConfigResourceTypes.TOPIC, name }], includeSynonyms: true });
  assert.equal(resources.length, 1);
  return new Map(
    resources[0]!.configEntries.map((e) => [e.configName, { value: e.configValue, source: e.configSource as number, readOnly: e.readOnly, synonyms: e.configSynonyms.map((s) => `${s.configName}=${s.configValue}@${s.configSource as number}`) }]),
  );
}

/** The kafkajs error type (e.g. INVALID_CONFIG) of a rejected admin call. */
async function kafkajsErrorType(call: Promise<unknown>): Promise<string> {
  try {
    await call;
  } catch (err) {
    type E = { type?: string; errors?: Array<{ type?: string }>; partitions?: Array<{ error?: { type?: string } }>; cause?: E };
    // kafkajs's retrier wraps the broker's error as `cause`.
    for (let e: E | undefined = err as E; e !== undefined; e = e.cause === e ? undefined : e.cause) {
      const type = e.errors?.[0]?.type ?? e.partitions?.[0]?.error?.type ?? e.type;
      if (type !== undefined) return type;
    }
    return String(err);
  }
  assert.fail('the call succeeded');
}

test('CreateTopics: partitions and configs are applied and read back; an existing topic is reported, validateOnly creates nothing', async () => {
  const created = await admin.createTopics({
    topics: [{ topic: 'adm-create', numPartitions: 3, replicationFactor: 1, configEntries: [{ name: 'retention.ms', value: '3600000' }, { name: 'segment.bytes', value: '1048576' }] }],
  });
  assert.equal(created, true);
  const meta = await admin.fetchTopicMetadata({ topics: ['adm-create'] });
  assert.equal(meta.topics[0]!.partitions.length, 3);
  const configs = await describeTopic('adm-create');
  assert.deepEqual(configs.get('retention.ms'), { value: '3600000', source: 1, readOnly: false, synonyms: ['retention.ms=3600000@1', `log.retention.ms=${7 * 24 * 3600 * 1000}@5`] });
  assert.equal(configs.get('segment.bytes')!.value, '1048576');
  assert.equal(configs.get('cleanup.policy')!.value, 'delete');
  assert.equal(configs.get('cleanup.policy')!.source, 5);
  assert.equal(configs.get('max.message.bytes')!.value, String(BROKER_CONFIG.maxMessageBytes));
  // The overrides reached the partition logs.
  assert.equal(logManager.get('adm-create', 2)!.config.retentionMs, 3_600_000);
  assert.equal(logManager.get('adm-create', 0)!.config.segmentBytesMax, 1_048_576);

  // kafkajs reports TOPIC_ALREADY_EXISTS as "not created".
  assert.equal(await admin.createTopics({ topics: [{ topic: 'adm-create', numPartitions: 1 }] }), false);

  assert.equal(await admin.createTopics({ validateOnly: true, waitForLeaders: false, topics: [{ topic: 'adm-validate-only', numPartitions: 4 }] }), true);
  assert.ok(!(await admin.listTopics()).includes('adm-validate-only'));
  assert.equal(broker.topics.get('adm-validate-only'), undefined);
});

test('CreateTopics errors through kafkajs: bad config, replication factor, partitions, topic name', async () => {
  const create = (topic: Record<string, unknown>) => admin.createTopics({ waitForLeaders: false, topics: [{ topic: 'adm-bad', ...topic }] });
  assert.equal(await kafkajsErrorType(create({ configEntries: [{ name: 'no.such.config', value: '1' }] })), 'INVALID_CONFIG');
  assert.equal(await kafkajsErrorType(create({ configEntries: [{ name: 'retention.ms', value: 'soon' }] })), 'INVALID_CONFIG');
  assert.equal(await kafkajsErrorType(create({ replicationFactor: 3 })), 'INVALID_REPLICATION_FACTOR');
  assert.equal(await kafkajsErrorType(create({ numPartitions: 0 })), 'INVALID_PARTITIONS');
  assert.equal(await kafkajsErrorType(admin.createTopics({ waitForLeaders: false, topics: [{ topic: 'bad name!' }] })), 'INVALID_TOPIC_EXCEPTION');
  assert.equal(broker.topics.get('adm-bad'), undefined);
});

test('CreateTopics v7 (raw): defaults, returned configs and ids, messages naming the key, manual assignments, duplicates', async () => {
  const res = await raw.request('CreateTopics', 7, {
    topics: [
      { name: 'adm-raw-default', numPartitions: -1, replicationFactor: -1, configs: [{ name: 'max.message.bytes', value: '2048' }] },
      { name: 'adm-raw-manual', numPartitions: -1, replicationFactor: -1, assignments: [{ partitionIndex: 1, brokerIds: [1] }, { partitionIndex: 0, brokerIds: [1] }] },
      { name: 'adm-raw-other-broker', numPartitions: -1, replicationFactor: -1, assignments: [{ partitionIndex: 0, brokerIds: [2] }] },
      { name: 'adm-raw-gap', numPartitions: -1, replicationFactor: -1, assignments: [{ partitionIndex: 1, brokerIds: [1] }] },
      { name: 'adm-raw-both', numPartitions: 2, replicationFactor: -1, assignments: [{ partitionIndex: 0, brokerIds: [1] }] },
      { name: 'adm-raw-badkey', numPartitions: 1, replicationFactor: 1, configs: [{ name: 'log.retention.hours', value: '1' }] },
      { name: 'adm-raw-null', numPartitions: 1, replicationFactor: 1, configs: [{ name: 'retention.ms', value: null }] },
      { name: 'adm-raw-dup', numPartitions: 1, replicationFactor: 1 },
      { name: 'adm-raw-dup', numPartitions: 1, replicationFactor: 1 },
      { name: 'adm.collide', numPartitions: 1, replicationFactor: 1 },
    ],
    timeoutMs: 5000,
  });
  const byName = new Map<string, Res>(res.topics.map((t: Res) => [t.name, t]));
  const ok = byName.get('adm-raw-default')!;
  assert.equal(ok.errorCode, 0);
  assert.equal(ok.errorMessage, null);
  assert.equal(ok.numPartitions, BROKER_CONFIG.defaultPartitions);
  assert.equal(ok.replicationFactor, 1);
  assert.equal(ok.topicId, broker.topics.get('adm-raw-default')!.id);
  const maxBytes = ok.configs.find((c: Res) => c.name === 'max.message.bytes');
  assert.deepEqual({ value: maxBytes.value, source: maxBytes.configSource, readOnly: maxBytes.readOnly }, { value: '2048', source: 1, readOnly: false });
  assert.equal(ok.configs.find((c: Res) => c.name === 'retention.ms').configSource, 5);

  assert.equal(byName.get('adm-raw-manual')!.errorCode, 0);
  assert.equal(broker.topics.get('adm-raw-manual')!.partitions, 2);
  assert.equal(byName.get('adm-raw-other-broker')!.errorCode, 39);
  assert.match(byName.get('adm-raw-other-broker')!.errorMessage, /broker 2/);
  assert.equal(byName.get('adm-raw-gap')!.errorCode, 39);
  assert.equal(byName.get('adm-raw-both')!.errorCode, 42);
  assert.equal(byName.get('adm-raw-badkey')!.errorCode, 40);
  assert.match(byName.get('adm-raw-badkey')!.errorMessage, /log\.retention\.hours/);
  assert.equal(byName.get('adm-raw-badkey')!.numPartitions, -1);
  assert.equal(byName.get('adm-raw-null')!.errorCode, 40);
  assert.match(byName.get('adm-raw-null')!.errorMessage, /retention\.ms/);
  assert.equal(res.topics.filter((t: Res) => t.name === 'adm-raw-dup').length, 1);
  assert.equal(byName.get('adm-raw-dup')!.errorCode, 42);
  assert.equal(byName.get('adm-raw-dup')!.errorMessage, 'Duplicate topic name.');
  assert.equal(byName.get('adm.collide')!.errorCode, 0);
  for (const name of ['adm-raw-other-broker', 'adm-raw-gap', 'adm-raw-both', 'adm-raw-badkey', 'adm-raw-null', 'adm-raw-dup']) {
    assert.equal(broker.topics.get(name), undefined, `${name} must not exist`);
  }
  // '.' and '_' collide (Kafka's metric names cannot tell them apart).
  const collide = await raw.request('CreateTopics', 4, { topics: [{ name: 'adm_collide', numPartitions: 1, replicationFactor: 1 }] });
  assert.equal(collide.topics[0].errorCode, 17);
  assert.match(collide.topics[0].errorMessage, /collides with existing topic: adm\.collide/);
});

test('AlterConfigs (kafkajs, legacy): replaces the whole override set, applied to the logs; bad keys and broker resources are refused', async () => {
  await admin.createTopics({ topics: [{ topic: 'adm-alter', numPartitions: 1, configEntries: [{ name: 'segment.bytes', value: '1048576' }] }] });
  await admin.alterConfigs({ validateOnly: false, resources: [{ type: ConfigResourceTypes.TOPIC, name: 'adm-alter', configEntries: [{ name: 'retention.ms', value: '120000' }] }] });
  const configs = await describeTopic('adm-alter');
  assert.equal(configs.get('retention.ms')!.value, '120000');
  assert.equal(configs.get('retention.ms')!.source, 1);
  // Not named, so back to the broker default.
  assert.equal(configs.get('segment.bytes')!.source, 5);
  assert.equal(configs.get('segment.bytes')!.value, String(logManager.config.segmentBytesMax));
  assert.equal(logManager.get('adm-alter', 0)!.config.retentionMs, 120_000);
  assert.equal(logManager.get('adm-alter', 0)!.config.segmentBytesMax, logManager.config.segmentBytesMax);

  // validateOnly changes nothing.
  await admin.alterConfigs({ validateOnly: true, resources: [{ type: ConfigResourceTypes.TOPIC, name: 'adm-alter', configEntries: [{ name: 'retention.ms', value: '5000' }] }] });
  assert.equal((await describeTopic('adm-alter')).get('retention.ms')!.value, '120000');

  const alter = (type: ResourceType, name: string, key: string, value: string) => admin.alterConfigs({ validateOnly: false, resources: [{ type, name, configEntries: [{ name: key, value }] }] });
  assert.equal(await kafkajsErrorType(alter(ConfigResourceTypes.TOPIC, 'adm-alter', 'compaction.please', 'yes')), 'INVALID_CONFIG');
  assert.equal(await kafkajsErrorType(alter(ConfigResourceTypes.TOPIC, 'adm-alter', 'cleanup.policy', 'compact')), 'INVALID_CONFIG');
  assert.equal(await kafkajsErrorType(alter(ConfigResourceTypes.TOPIC, 'adm-missing', 'retention.ms', '1')), 'UNKNOWN_TOPIC_OR_PARTITION');
  assert.equal(await kafkajsErrorType(alter(ConfigResourceTypes.BROKER, '1', 'num.partitions', '5')), 'INVALID_REQUEST');
  assert.equal((await describeTopic('adm-alter')).get('retention.ms')!.value, '120000');

  // The messages name the key (raw: kafkajs drops them).
  const res = await raw.request('AlterConfigs', 2, {
    resources: [
      { resourceType: TOPIC, resourceName: 'adm-alter', configs: [{ name: 'retention.ms', value: '1000' }, { name: 'compaction.please', value: 'yes' }] },
      { resourceType: BROKER, resourceName: '1', configs: [{ name: 'num.partitions', value: '5' }] },
      { resourceType: BROKER, resourceName: '9', configs: [] },
      { resourceType: TOPIC, resourceName: 'adm-alter-x', configs: [{ name: 'retention.ms', value: null }] },
    ],
  });
  assert.equal(res.responses[0].errorCode, 40);
  assert.match(res.responses[0].errorMessage, /compaction\.please/);
  assert.equal(res.responses[1].errorCode, 42);
  assert.match(res.responses[1].errorMessage, /config file|DIGLOT_/);
  assert.equal(res.responses[2].errorCode, 42);
  assert.match(res.responses[2].errorMessage, /expected 1/);
  assert.equal(res.responses[3].errorCode, 42);
  assert.equal(logManager.get('adm-alter', 0)!.config.retentionMs, 120_000);
});

test('IncrementalAlterConfigs (raw): SET, DELETE, APPEND/SUBTRACT on lists only, validateOnly, broker refused, duplicates', async () => {
  await admin.createTopics({ topics: [{ topic: 'adm-incr', numPartitions: 1, configEntries: [{ name: 'segment.bytes', value: '1048576' }, { name: 'retention.bytes', value: '5000000' }] }] });
  const alter = (configs: Array<Record<string, unknown>>, validateOnly = false) => raw.request('IncrementalAlterConfigs', 1, { resources: [{ resourceType: TOPIC, resourceName: 'adm-incr', configs }], validateOnly });

  let res = await alter([
    { name: 'retention.ms', configOperation: SET, value: '600000' },
    { name: 'segment.bytes', configOperation: DELETE, value: null },
    { name: 'cleanup.policy', configOperation: APPEND, value: 'delete' },
  ]);
  assert.equal(res.responses[0].errorCode, 0, res.responses[0].errorMessage);
  let configs = await describeTopic('adm-incr');
  assert.equal(configs.get('retention.ms')!.value, '600000');
  assert.equal(configs.get('retention.bytes')!.value, '5000000', 'untouched keys keep their override');
  assert.equal(configs.get('segment.bytes')!.source, 5);
  assert.equal(logManager.get('adm-incr', 0)!.config.retentionMs, 600_000);
  assert.equal(logManager.get('adm-incr', 0)!.config.segmentBytesMax, logManager.config.segmentBytesMax);

  res = await alter([{ name: 'retention.ms', configOperation: APPEND, value: '1' }]);
  assert.equal(res.responses[0].errorCode, 40);
  assert.match(res.responses[0].errorMessage, /APPEND to key retention\.ms because its type is not LIST/);
  res = await alter([{ name: 'cleanup.policy', configOperation: SUBTRACT, value: 'delete' }]);
  assert.equal(res.responses[0].errorCode, 40, 'an empty cleanup.policy is not honoured');
  res = await alter([{ name: 'cleanup.policy', configOperation: APPEND, value: 'compact' }]);
  assert.equal(res.responses[0].errorCode, 40);
  assert.match(res.responses[0].errorMessage, /cleanup\.policy/);
  res = await alter([{ name: 'flush.ms', configOperation: SET, value: '1' }]);
  assert.equal(res.responses[0].errorCode, 40);
  assert.match(res.responses[0].errorMessage, /flush\.ms/);
  res = await alter([{ name: 'retention.ms', configOperation: SET, value: null }]);
  assert.equal(res.responses[0].errorCode, 42);
  res = await alter([{ name: 'retention.ms', configOperation: 9, value: '1' }]);
  assert.equal(res.responses[0].errorCode, 42);
  res = await alter([{ name: 'retention.ms', configOperation: SET, value: '1' }, { name: 'retention.ms', configOperation: DELETE, value: null }]);
  assert.equal(res.responses[0].errorCode, 42);
  res = await alter([{ name: 'retention.ms', configOperation: SET, value: '1' }], true);
  assert.equal(res.responses[0].errorCode, 0);
  configs = await describeTopic('adm-incr');
  assert.equal(configs.get('retention.ms')!.value, '600000', 'validateOnly changed nothing');

  res = await raw.request('IncrementalAlterConfigs', 0, {
    resources: [
      { resourceType: BROKER, resourceName: '1', configs: [{ name: 'log.retention.ms', configOperation: SET, value: '1' }] },
      { resourceType: TOPIC, resourceName: 'adm-incr', configs: [] },
      { resourceType: TOPIC, resourceName: 'adm-incr', configs: [] },
      { resourceType: 8, resourceName: '1', configs: [{ name: 'kafka', configOperation: SET, value: 'DEBUG' }] },
      { resourceType: TOPIC, resourceName: 'adm-missing', configs: [{ name: 'retention.ms', configOperation: SET, value: '1' }] },
    ],
  });
  assert.deepEqual(
    res.responses.map((r: Res) => r.errorCode),
    [42, 42, 42, 42, 3],
  );
  assert.match(res.responses[0].errorMessage, /dynamic broker configs/);
  assert.equal(res.responses[1].errorMessage, 'Each resource must appear at most once.');
});

test('DescribeConfigs: selected keys, documentation, broker resources, unknown topic', async () => {
  const res = await raw.request('DescribeConfigs', 4, {
    resources: [
      { resourceType: TOPIC, resourceName: 'adm-create', configurationKeys: ['retention.ms', 'no.such.key'] },
      { resourceType: BROKER, resourceName: '1', configurationKeys: null },
      { resourceType: BROKER, resourceName: '', configurationKeys: null },
      { resourceType: BROKER, resourceName: '2', configurationKeys: null },
      { resourceType: TOPIC, resourceName: 'adm-missing', configurationKeys: null },
      { resourceType: 32, resourceName: 'some-group', configurationKeys: null },
    ],
    includeSynonyms: false,
    includeDocumentation: true,
  });
  const [topic, broker1, cluster, broker2, missing, group] = res.results as Res[];
  assert.equal(topic!.errorCode, 0);
  assert.deepEqual(topic!.configs.map((c: Res) => c.name), ['retention.ms']);
  assert.equal(topic!.configs[0].configType, 5, 'LONG');
  assert.ok(topic!.configs[0].documentation.length > 0);
  assert.deepEqual(topic!.configs[0].synonyms, []);
  assert.equal(broker1!.errorCode, 0);
  const brokerConfigs = new Map<string, Res>(broker1!.configs.map((c: Res) => [c.name, c]));
  assert.equal(brokerConfigs.get('num.partitions')!.value, String(BROKER_CONFIG.defaultPartitions));
  assert.equal(brokerConfigs.get('auto.create.topics.enable')!.value, 'true');
  assert.equal(brokerConfigs.get('message.max.bytes')!.value, String(BROKER_CONFIG.maxMessageBytes));
  assert.equal(brokerConfigs.get('log.retention.ms')!.value, String(logManager.config.retentionMs));
  assert.equal(brokerConfigs.get('log.segment.bytes')!.value, String(logManager.config.segmentBytesMax));
  assert.equal(brokerConfigs.get('default.replication.factor')!.value, '1');
  assert.ok([...brokerConfigs.values()].every((c) => c.readOnly === true && c.isSensitive === false));
  assert.deepEqual({ code: cluster!.errorCode, configs: cluster!.configs }, { code: 0, configs: [] });
  assert.equal(broker2!.errorCode, 42);
  assert.equal(missing!.errorCode, 3);
  assert.equal(group!.errorCode, 42);

  // kafkajs: the broker resource, and an unknown topic as an error.
  const { resources } = await admin.describeConfigs({ resources: [{ type: ConfigResourceTypes.BROKER, name: '1', configNames: ['num.partitions'] }], includeSynonyms: false });
  assert.deepEqual(resources[0]!.configEntries.map((e) => [e.configName, e.configValue, e.readOnly]), [['num.partitions', '2', true]]);
  assert.equal(await kafkajsErrorType(admin.describeConfigs({ resources: [{ type: ConfigResourceTypes.TOPIC, name: 'adm-missing' }], includeSynonyms: false })), 'UNKNOWN_TOPIC_OR_PARTITION');
});

test('CreatePartitions: grows a topic that then takes writes; lowering, unknown topics and foreign assignments are refused', async () => {
  await admin.createTopics({ topics: [{ topic: 'adm-grow', numPartitions: 2 }] });
  await admin.createPartitions({ topicPartitions: [{ topic: 'adm-grow', count: 5 }] });
  const meta = await admin.fetchTopicMetadata({ topics: ['adm-grow'] });
  assert.deepEqual(meta.topics[0]!.partitions.map((p) => p.partitionId).sort(), [0, 1, 2, 3, 4]);
  const producer = kafka.producer();
  await producer.connect();
  const [sent] = await producer.send({ topic: 'adm-grow', messages: [{ partition: 4, value: 'to the new partition' }] });
  await producer.disconnect();
  assert.equal(sent!.partition, 4);
  assert.equal(sent!.errorCode, 0);

  await admin.createPartitions({ validateOnly: true, topicPartitions: [{ topic: 'adm-grow', count: 9 }] });
  assert.equal(broker.topics.get('adm-grow')!.partitions, 5);
  assert.equal(await kafkajsErrorType(admin.createPartitions({ topicPartitions: [{ topic: 'adm-grow', count: 3 }] })), 'INVALID_PARTITIONS');
  assert.equal(await kafkajsErrorType(admin.createPartitions({ topicPartitions: [{ topic: 'adm-missing', count: 3 }] })), 'UNKNOWN_TOPIC_OR_PARTITION');

  const res = await raw.request('CreatePartitions', 3, {
    topics: [
      { name: 'adm-grow', count: 5, assignments: null },
      { name: 'adm-grow-x', count: 2, assignments: null },
      { name: 'adm-grow-x', count: 2, assignments: null },
    ],
  });
  assert.equal(res.results.length, 2);
  const byName = new Map<string, Res>(res.results.map((r: Res) => [r.name, r]));
  assert.equal(byName.get('adm-grow')!.errorCode, 37);
  assert.equal(byName.get('adm-grow')!.errorMessage, 'Topic already has 5 partition(s).');
  assert.equal(byName.get('adm-grow-x')!.errorCode, 42);
  const assigned = await raw.request('CreatePartitions', 1, { topics: [{ name: 'adm-grow', count: 7, assignments: [{ brokerIds: [1] }, { brokerIds: [1, 1] }] }] });
  assert.equal(assigned.results[0].errorCode, 39);
  const short = await raw.request('CreatePartitions', 1, { topics: [{ name: 'adm-grow', count: 7, assignments: [{ brokerIds: [1] }] }] });
  assert.equal(short.results[0].errorCode, 39);
  assert.match(short.results[0].errorMessage, /Attempted to add 2 additional partition\(s\), but only 1/);
  const good = await raw.request('CreatePartitions', 0, { topics: [{ name: 'adm-grow', count: 7, assignments: [{ brokerIds: [1] }, { brokerIds: [1] }] }] });
  assert.equal(good.results[0].errorCode, 0);
  assert.equal(broker.topics.get('adm-grow')!.partitions, 7);
});

test('DeleteRecords: the low watermark moves, consumers start there, the end is the limit', async () => {
  await admin.createTopics({ topics: [{ topic: 'adm-dr', numPartitions: 2 }] });
  const producer = kafka.producer();
  await producer.connect();
  for (let i = 0; i < 10; i++) await producer.send({ topic: 'adm-dr', messages: [{ partition: 0, value: `m${i}` }, { partition: 1, value: `n${i}` }] });
  await producer.disconnect();

  // kafkajs finds partition leaders only for topics its cluster tracks; fetchTopicOffsets adds it.
  assert.equal((await admin.fetchTopicOffsets('adm-dr')).length, 2);
  await admin.deleteTopicRecords({ topic: 'adm-dr', partitions: [{ partition: 0, offset: '4' }] });
  let offsets = await admin.fetchTopicOffsets('adm-dr');
  assert.deepEqual(offsets.map((o) => [o.partition, o.low, o.high]).sort(), [[0, '4', '10'], [1, '0', '10']]);

  // A consumer from the beginning starts at the new low watermark.
  const consumer = kafka.consumer({ groupId: 'adm-dr-group', maxWaitTimeInMs: 100 });
  await consumer.connect();
  const seen: Array<[number, string, string]> = [];
  try {
    await consumer.subscribe({ topic: 'adm-dr', fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`consumed ${seen.length} of 16`)), 20_000);
      void consumer.run({
        eachMessage: async ({ partition, message }) => {
          seen.push([partition, message.offset, message.value!.toString()]);
          if (seen.length >= 16) {
            clearTimeout(timer);
            resolve();
          }
        },
      });
    });
  } finally {
    await consumer.disconnect();
  }
  const p0 = seen.filter(([p]) => p === 0);
  assert.deepEqual(p0.map(([, o, v]) => [o, v]), Array.from({ length: 6 }, (_, i) => [String(i + 4), `m${i + 4}`]));
  assert.equal(seen.filter(([p]) => p === 1).length, 10);

  // Beyond the end: OFFSET_OUT_OF_RANGE, nothing moves; -1 is the high watermark; below the start is a no-op.
  assert.equal(await kafkajsErrorType(admin.deleteTopicRecords({ topic: 'adm-dr', partitions: [{ partition: 0, offset: '11' }] })), 'OFFSET_OUT_OF_RANGE');
  const res = await raw.request('DeleteRecords', 2, {
    topics: [
      { name: 'adm-dr', partitions: [{ partitionIndex: 1, offset: -1 }, { partitionIndex: 0, offset: 2 }, { partitionIndex: 9, offset: 0 }] },
      { name: 'adm-missing', partitions: [{ partitionIndex: 0, offset: 0 }] },
      { name: '__consumer_offsets', partitions: [{ partitionIndex: 0, offset: 0 }] },
    ],
  });
  assert.deepEqual(
    res.topics.map((t: Res) => t.partitions.map((p: Res) => [p.partitionIndex, p.errorCode, p.lowWatermark])),
    [[[1, 0, 10], [0, 0, 4], [9, 3, -1]], [[0, 3, -1]], [[0, 44, -1]]],
  );
  offsets = await admin.fetchTopicOffsets('adm-dr');
  assert.deepEqual(offsets.map((o) => [o.partition, o.low, o.high]).sort(), [[0, '4', '10'], [1, '10', '10']]);

  // Fetching below the low watermark is out of range.
  const fetch = await raw.request('Fetch', 11, { maxWaitMs: 0, minBytes: 1, maxBytes: 1 << 20, topics: [{ topic: 'adm-dr', partitions: [{ partition: 0, fetchOffset: 1, partitionMaxBytes: 1 << 20 }] }] });
  assert.equal(fetch.responses[0].partitions[0].errorCode, 1);
  assert.equal(fetch.responses[0].partitions[0].logStartOffset, 4);
});

test('DeleteRecords survives a restart (the new log start is checkpointed before the answer)', async () => {
  const ownDir = fs.mkdtempSync(path.join(os.tmpdir(), 'diglot-admin-dr-'));
  try {
    let lm = await LogManager.open({ dir: ownDir });
    let b = await Broker.open(lm, BROKER_CONFIG);
    const l = await startKafkaListener({ broker: b, host: '127.0.0.1', port: 0, advertisedHost: '127.0.0.1', nodeId: 1, frameBytesMax: 1 << 20, logger: createLogger({ level: 'silent' }) });
    const client = await RawKafka.connect(l.address.port);
    await client.request('CreateTopics', 3, { topics: [{ name: 'dr-restart', numPartitions: 1, replicationFactor: 1 }] });
    const topic = b.topics.get('dr-restart')!;
    const { buildRecordBatch } = await import('../src/storage/records.ts');
    for (let i = 0; i < 5; i++) b.appendBatch(topic, 0, buildRecordBatch([{ key: null, value: Buffer.from(`r${i}`), timestampMs: Date.now() }]));
    b.commitStaged();
    const res = await client.request('DeleteRecords', 1, { topics: [{ name: 'dr-restart', partitions: [{ partitionIndex: 0, offset: 3 }] }] });
    assert.equal(res.topics[0].partitions[0].lowWatermark, 3);
    client.close();
    await l.close();
    b.close();
    // No clean close: drop the manager as after a crash, once the answer was sent.
    lm.abandon();
    lm = await LogManager.open({ dir: ownDir });
    b = await Broker.open(lm, BROKER_CONFIG);
    assert.equal(b.topics.partitionLog(b.topics.get('dr-restart')!, 0).logStartOffset, 3);
    b.close();
    await lm.close();
  } finally {
    fs.rmSync(ownDir, { recursive: true, force: true });
  }
});

test('DeleteTopics: by name (kafkajs), by id (v6), unknown names and ids, duplicates; a recreated topic starts empty', async () => {
  await admin.createTopics({ topics: [{ topic: 'adm-del', numPartitions: 2 }, { topic: 'adm-del-id', numPartitions: 1 }] });
  const producer = kafka.producer();
  await producer.connect();
  await producer.send({ topic: 'adm-del', messages: [{ partition: 0, value: 'gone soon' }] });
  await producer.disconnect();
  await admin.deleteTopics({ topics: ['adm-del'] });
  assert.ok(!(await admin.listTopics()).includes('adm-del'));
  assert.equal(logManager.get('adm-del', 0), undefined);

  const id = broker.topics.get('adm-del-id')!.id;
  const res = await raw.request('DeleteTopics', 6, {
    topics: [
      { name: null, topicId: id },
      { name: 'adm-missing', topicId: ZERO_UUID },
      { name: null, topicId: '0b5f2d5e-6a6b-4f5e-9a0e-4b1f3c2d1e0f' },
      { name: 'adm-create', topicId: broker.topics.get('adm-create')!.id },
      { name: null, topicId: ZERO_UUID },
    ],
    timeoutMs: 1000,
  });
  const codes = res.responses.map((r: Res) => [r.name, r.errorCode]).sort((a: unknown[], b: unknown[]) => `${String(a[0])}:${String(a[1])}`.localeCompare(`${String(b[0])}:${String(b[1])}`));
  assert.deepEqual(codes, [
    ['adm-create', 42],
    ['adm-del-id', 0],
    ['adm-missing', 3],
    [null, 100],
    [null, 42],
  ]);
  assert.equal(broker.topics.get('adm-del-id'), undefined);
  assert.ok(broker.topics.get('adm-create') !== undefined, 'both name and id given: not deleted');

  const v1 = await raw.request('DeleteTopics', 1, { topicNames: ['adm-grow', 'adm-grow', 'adm-missing'], timeoutMs: 1000 });
  assert.deepEqual(v1.responses.map((r: Res) => [r.name, r.errorCode]).sort(), [['adm-grow', 42], ['adm-missing', 3]]);

  await admin.createTopics({ topics: [{ topic: 'adm-del', numPartitions: 1 }] });
  const offsets = await admin.fetchTopicOffsets('adm-del');
  assert.deepEqual(offsets.map((o) => [o.low, o.high]), [['0', '0']]);
});

test('DescribeCluster: this node at its advertised address, the cluster id, the controller; endpoint types', async () => {
  const meta = await admin.describeCluster();
  for (const v of [0, 1, 2]) {
    const res = await raw.request('DescribeCluster', v, { includeClusterAuthorizedOperations: false, ...(v >= 1 ? { endpointType: 1 } : {}), ...(v >= 2 ? { includeFencedBrokers: true } : {}) });
    assert.equal(res.errorCode, 0);
    assert.equal(res.clusterId, meta.clusterId);
    assert.equal(res.controllerId, 1);
    assert.deepEqual(
      res.brokers.map((b: Res) => [b.brokerId, b.host, b.port, b.rack]),
      [[1, '127.0.0.1', listener.address.port, null]],
    );
    assert.equal(res.clusterAuthorizedOperations, -2147483648);
    if (v >= 1) assert.equal(res.endpointType, 1);
    if (v >= 2) assert.equal(res.brokers[0].isFenced, false);
  }
  assert.equal(meta.brokers[0]!.nodeId, 1);
  const ops = await raw.request('DescribeCluster', 1, { includeClusterAuthorizedOperations: true, endpointType: 1 });
  assert.ok(ops.clusterAuthorizedOperations > 0 && (ops.clusterAuthorizedOperations & (1 << 8)) !== 0, 'DESCRIBE is allowed');
  const controllers = await raw.request('DescribeCluster', 1, { endpointType: 2 });
  assert.equal(controllers.errorCode, 114);
  const unknown = await raw.request('DescribeCluster', 2, { endpointType: 7 });
  assert.equal(unknown.errorCode, 115);
});

test('OffsetForLeaderEpoch: epoch 0 ends at the log end, later epochs are unknown, fencing on currentLeaderEpoch', async () => {
  await admin.createTopics({ topics: [{ topic: 'adm-epoch', numPartitions: 1 }] });
  const producer = kafka.producer();
  await producer.connect();
  await producer.send({ topic: 'adm-epoch', messages: Array.from({ length: 7 }, (_, i) => ({ partition: 0, value: `e${i}` })) });
  await producer.disconnect();
  for (const v of [2, 3, 4]) {
    const res = await raw.request('OffsetForLeaderEpoch', v, {
      replicaId: -1,
      topics: [
        {
          topic: 'adm-epoch',
          partitions: [
            { partition: 0, currentLeaderEpoch: 0, leaderEpoch: 0 },
            { partition: 0, currentLeaderEpoch: -1, leaderEpoch: 3 },
            { partition: 0, currentLeaderEpoch: -1, leaderEpoch: -1 },
            { partition: 0, currentLeaderEpoch: 1, leaderEpoch: 0 },
            { partition: 0, currentLeaderEpoch: -3, leaderEpoch: 0 },
            { partition: 5, currentLeaderEpoch: 0, leaderEpoch: 0 },
          ],
        },
        { topic: 'adm-missing', partitions: [{ partition: 0, currentLeaderEpoch: -1, leaderEpoch: 0 }] },
      ],
    });
    const answers = res.topics.map((t: Res) => t.partitions.map((p: Res) => [p.errorCode, p.leaderEpoch, p.endOffset]));
    assert.deepEqual(answers, [
      [
        [0, 0, 7],
        [0, -1, -1],
        [0, -1, -1],
        [75, -1, -1],
        [74, -1, -1],
        [3, -1, -1],
      ],
      [[3, -1, -1]],
    ], `v${v}`);
  }
});

test('DescribeTopicPartitions: leaders and replicas, pages with a cursor, unknown topics', async () => {
  await admin.createTopics({ topics: [{ topic: 'adm-pages', numPartitions: 5 }] });
  let res = await raw.request('DescribeTopicPartitions', 0, { topics: [{ name: 'adm-pages' }, { name: 'adm-epoch' }, { name: 'adm-missing' }], responsePartitionLimit: 3, cursor: null });
  // Sorted by name: adm-epoch (1 partition), adm-missing (error), then adm-pages cut after 2.
  assert.deepEqual(
    res.topics.map((t: Res) => [t.name, t.errorCode, t.partitions.map((p: Res) => p.partitionIndex)]),
    [
      ['adm-epoch', 0, [0]],
      ['adm-missing', 3, []],
      ['adm-pages', 0, [0, 1]],
    ],
  );
  const first = res.topics[0];
  assert.equal(first.topicId, broker.topics.get('adm-epoch')!.id);
  assert.deepEqual([first.partitions[0].leaderId, first.partitions[0].leaderEpoch, first.partitions[0].replicaNodes, first.partitions[0].isrNodes], [1, 0, [1], [1]]);
  assert.deepEqual(res.nextCursor, { topicName: 'adm-pages', partitionIndex: 2 });

  res = await raw.request('DescribeTopicPartitions', 0, { topics: [{ name: 'adm-pages' }, { name: 'adm-epoch' }], responsePartitionLimit: 3, cursor: res.nextCursor });
  assert.deepEqual(
    res.topics.map((t: Res) => [t.name, t.partitions.map((p: Res) => p.partitionIndex)]),
    [['adm-pages', [2, 3, 4]]],
  );
  assert.equal(res.nextCursor, null);

  res = await raw.request('DescribeTopicPartitions', 0, { topics: [{ name: 'adm-epoch' }], responsePartitionLimit: 10, cursor: { topicName: 'adm-pages', partitionIndex: 0 } });
  assert.deepEqual(res.topics.map((t: Res) => [t.name, t.errorCode]), [['adm-epoch', 42]]);

  // Every listed topic in name order: user topics and __consumer_offsets (internal, as Kafka lists it),
  // never the broker's own metadata log.
  res = await raw.request('DescribeTopicPartitions', 0, { topics: [], responsePartitionLimit: 2000, cursor: null });
  const names = res.topics.map((t: Res) => t.name);
  assert.deepEqual(names, [...names].sort());
  assert.ok(names.includes('adm-pages'));
  assert.deepEqual(names.filter((n: string) => n.startsWith('__')), ['__consumer_offsets']);
  assert.equal(res.topics.find((t: Res) => t.name === '__consumer_offsets').isInternal, true);
});
