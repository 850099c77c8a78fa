// Every handler in the table, at every version it serves: a sample request
// (built from the generated codecs, so it is exactly what a client could send
// at that version) goes through the real handler on a real Broker over a
// temporary data directory, and the response must encode at that version and
// decode back. This catches fields set at versions that do not have them (the
// encoder throws NON_IGNORABLE_FIELD) in every handler, old and new. Where a
// sample is meant to succeed, a check says so, so the success-only fields are
// exercised too. An API key without a sample here gets the all-defaults request.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Broker } from '../../broker/broker.ts';
import { LogManager } from '../../storage/log-manager.ts';
import { buildRecordBatch } from '../../storage/records.ts';
import { BufferPool } from '../../storage/buffer-pool.ts';
import { createLogger } from '../../logger.ts';
import { Reader, Writer, type Init } from '../../protocol/kafka/codec/index.ts';
import { apiByKey, type ApiSpec } from '../../protocol/kafka/generated/apis.ts';
import { buildHandlerTable } from './index.ts';
import { NO_RESPONSE, type RequestContext } from './types.ts';

interface Env {
  broker: Broker;
  /** Id of topic gen-a (2 partitions, 3 records each). */
  topicId: string;
}

type Decoded = Record<string, any>;

interface Sample {
  /** The request to send at version v (deep-partial, spec defaults for the rest). */
  request: (v: number, env: Env) => Promise<Init<any>> | Init<any>;
  /** Checks on the decoded response, for samples meant to succeed. */
  check?: (res: Decoded, v: number) => void;
}

const TOPIC = 'gen-a';
const batch = (n: number): Buffer =>
  buildRecordBatch(Array.from({ length: n }, (_, i) => ({ key: Buffer.from(`k${i}`), value: Buffer.from(`v${i}`), timestampMs: 1_700_000_000_000 + i })));

async function createTopic(env: Env, name: string, partitions: number): Promise<void> {
  if (env.broker.topics.get(name) === undefined) await env.broker.topics.create(name, partitions, new Map());
}

const SAMPLES: Record<number, Sample> = {
  // Produce
  0: {
    request: (v, env) => ({ acks: 1, timeoutMs: 1000, topicData: [{ name: v < 13 ? TOPIC : '', topicId: env.topicId, partitionData: [{ index: 0, records: batch(2) }] }] }),
    check: (res) => assert.equal(res.responses[0].partitionResponses[0].errorCode, 0),
  },
  // Fetch
  1: {
    request: (v, env) => ({
      maxWaitMs: 0,
      minBytes: 1,
      topics: [{ topic: v < 13 ? TOPIC : '', topicId: env.topicId, partitions: [{ partition: 0, fetchOffset: 0, partitionMaxBytes: 1 << 20 }, { partition: 7, fetchOffset: 0, partitionMaxBytes: 1024 }] }],
    }),
    check: (res) => {
      assert.equal(res.responses[0].partitions[0].errorCode, 0);
      assert.ok(res.responses[0].partitions[0].records.length > 0);
    },
  },
  // ListOffsets
  2: {
    request: () => ({ replicaId: -1, topics: [{ name: TOPIC, partitions: [{ partitionIndex: 0, timestamp: -1 }, { partitionIndex: 1, timestamp: -2 }] }] }),
    check: (res) => assert.equal(res.topics[0].partitions[0].errorCode, 0),
  },
  // Metadata
  3: {
    request: () => ({ topics: [{ name: TOPIC }, { name: 'gen-auto' }], allowAutoTopicCreation: true }),
    check: (res) => assert.equal(res.topics[0].errorCode, 0),
  },
  // OffsetCommit (a simple consumer's commit: no generation)
  8: {
    request: (v, env) => ({
      groupId: 'gen-commit',
      generationIdOrMemberEpoch: -1,
      memberId: '',
      topics: [{ name: v < 10 ? TOPIC : '', topicId: env.topicId, partitions: [{ partitionIndex: 0, committedOffset: 1, committedMetadata: '' }] }],
    }),
    check: (res) => assert.equal(res.topics[0].partitions[0].errorCode, 0),
  },
  // OffsetFetch
  9: {
    request: (v, env) =>
      v < 8
        ? { groupId: 'gen-commit', topics: [{ name: TOPIC, partitionIndexes: [0] }] }
        : { groups: [{ groupId: 'gen-commit', topics: [{ name: v < 10 ? TOPIC : '', topicId: env.topicId, partitionIndexes: [0] }] }] },
  },
  // FindCoordinator
  10: { request: (v) => (v < 4 ? { key: 'gen-commit', keyType: 0 } : { keyType: 0, coordinatorKeys: ['gen-commit', 'other'] }) },
  // JoinGroup: a fresh group per version (v0-3 join at once, v4+ get MEMBER_ID_REQUIRED)
  11: {
    request: (v) => ({
      groupId: `gen-join-v${v}`,
      sessionTimeoutMs: 10_000,
      rebalanceTimeoutMs: 10_000,
      memberId: '',
      protocolType: 'consumer',
      protocols: [{ name: 'range', metadata: Buffer.from([0, 1, 0, 0, 0, 0]) }],
    }),
  },
  12: { request: () => ({ groupId: 'gen-none', generationId: 1, memberId: 'm' }) },
  13: { request: (v) => (v < 3 ? { groupId: 'gen-none', memberId: 'm' } : { groupId: 'gen-none', members: [{ memberId: 'm', groupInstanceId: null }] }) },
  14: { request: () => ({ groupId: 'gen-none', generationId: 1, memberId: 'm', assignments: [] }) },
  15: { request: () => ({ groups: ['gen-commit', 'gen-none'] }) },
  16: { request: () => ({}) },
  18: { request: () => ({ clientSoftwareName: 'gen', clientSoftwareVersion: '1' }), check: (res) => assert.equal(res.errorCode, 0) },
  // CreateTopics: one to create (with a config), one that exists
  19: {
    request: (v) => ({
      topics: [
        { name: `gen-create-v${v}`, numPartitions: 2, replicationFactor: 1, assignments: [], configs: [{ name: 'retention.ms', value: '3600000' }] },
        { name: TOPIC, numPartitions: 1, replicationFactor: -1, assignments: [], configs: [] },
      ],
      timeoutMs: 1000,
    }),
    check: (res, v) => {
      assert.equal(res.topics[0].errorCode, 0, res.topics[0].errorMessage);
      assert.equal(res.topics[1].errorCode, 36);
      if (v >= 5) assert.ok(res.topics[0].configs.some((c: Decoded) => c.name === 'retention.ms' && c.value === '3600000'));
    },
  },
  // DeleteTopics: one that exists (by name before v6, by id at v6) and one that does not
  20: {
    request: async (v, env) => {
      const name = `gen-delete-v${v}`;
      await createTopic(env, name, 1);
      const id = env.broker.topics.get(name)!.id;
      return v < 6 ? { topicNames: [name, 'gen-missing'], timeoutMs: 1000 } : { topics: [{ name: null, topicId: id }, { name: 'gen-missing', topicId: undefined }], timeoutMs: 1000 };
    },
    check: (res) => {
      assert.equal(res.responses.length, 2);
      assert.equal(res.responses.filter((r: Decoded) => r.errorCode === 0).length, 1);
    },
  },
  // DeleteRecords on its own topic (moves the log start)
  21: {
    request: async (_v, env) => {
      await createTopic(env, 'gen-dr', 1);
      const topic = env.broker.topics.get('gen-dr')!;
      env.broker.appendBatch(topic, 0, batch(2));
      env.broker.commitStaged();
      return { topics: [{ name: 'gen-dr', partitions: [{ partitionIndex: 0, offset: -1 }, { partitionIndex: 3, offset: 0 }] }], timeoutMs: 1000 };
    },
    check: (res) => {
      assert.equal(res.topics[0].partitions[0].errorCode, 0);
      assert.equal(res.topics[0].partitions[1].errorCode, 3);
    },
  },
  // OffsetForLeaderEpoch
  23: {
    request: () => ({ replicaId: -1, topics: [{ topic: TOPIC, partitions: [{ partition: 0, currentLeaderEpoch: 0, leaderEpoch: 0 }, { partition: 1, currentLeaderEpoch: -1, leaderEpoch: 3 }] }] }),
    check: (res) => {
      assert.equal(res.topics[0].partitions[0].errorCode, 0);
      assert.ok(res.topics[0].partitions[0].endOffset > 0);
    },
  },
  // DescribeConfigs: a topic, this broker, a missing topic
  32: {
    request: (v) => ({
      resources: [
        { resourceType: 2, resourceName: TOPIC, configurationKeys: null },
        { resourceType: 4, resourceName: '1', configurationKeys: null },
        { resourceType: 2, resourceName: 'gen-missing', configurationKeys: null },
      ],
      includeSynonyms: true,
      includeDocumentation: v >= 3,
    }),
    check: (res) => {
      assert.equal(res.results[0].errorCode, 0);
      assert.ok(res.results[0].configs.length > 0);
      assert.equal(res.results[1].errorCode, 0);
      assert.equal(res.results[2].errorCode, 3);
    },
  },
  // AlterConfigs (legacy) and IncrementalAlterConfigs
  33: {
    request: (v) => ({ resources: [{ resourceType: 2, resourceName: TOPIC, configs: [{ name: 'retention.ms', value: String(86_400_000 + v) }] }], validateOnly: false }),
    check: (res) => assert.equal(res.responses[0].errorCode, 0, res.responses[0].errorMessage),
  },
  37: {
    request: async (v, env) => {
      await createTopic(env, `gen-partitions-v${v}`, 1);
      return { topics: [{ name: `gen-partitions-v${v}`, count: 3, assignments: null }, { name: 'gen-missing', count: 2, assignments: null }], timeoutMs: 1000 };
    },
    check: (res) => {
      assert.equal(res.results[0].errorCode, 0, res.results[0].errorMessage);
      assert.equal(res.results[1].errorCode, 3);
    },
  },
  42: { request: () => ({ groupsNames: ['gen-missing-group'] }) },
  44: {
    request: () => ({
      resources: [{ resourceType: 2, resourceName: TOPIC, configs: [{ name: 'retention.bytes', configOperation: 0, value: '1000000' }, { name: 'cleanup.policy', configOperation: 2, value: 'delete' }] }],
      validateOnly: false,
    }),
    check: (res) => assert.equal(res.responses[0].errorCode, 0, res.responses[0].errorMessage),
  },
  47: { request: () => ({ groupId: 'gen-commit', topics: [{ name: TOPIC, partitions: [{ partitionIndex: 1 }] }] }) },
  60: {
    request: (v) => (v >= 1 ? { includeClusterAuthorizedOperations: true, endpointType: 1, includeFencedBrokers: v >= 2 } : { includeClusterAuthorizedOperations: true }),
    check: (res) => {
      assert.equal(res.errorCode, 0);
      assert.equal(res.brokers.length, 1);
    },
  },
  75: {
    request: () => ({ topics: [{ name: TOPIC }, { name: 'gen-missing' }], responsePartitionLimit: 1 }),
    check: (res) => {
      assert.equal(res.topics[0].errorCode, 0);
      assert.equal(res.nextCursor.topicName, TOPIC);
    },
  },
};

/** Encodes a deep-partial request at version v and decodes it: the complete request a client would send. */
function complete(spec: ApiSpec, init: Init<any>, v: number): unknown {
  const w = new Writer();
  spec.encodeRequest(w, init, v);
  return spec.decodeRequest(new Reader(w.toBuffer()), v);
}

async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([promise, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms} ms`)), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

test('every handler answers a sample request at every version it serves, and the response encodes at that version', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'diglot-all-versions-'));
  const logManager = await LogManager.open({ dir });
  const broker = await Broker.open(logManager, { nodeId: 1, autoCreateTopics: true, defaultPartitions: 1, maxMessageBytes: 1_048_588, groupInitialRebalanceDelayMs: 0 });
  try {
    const gen = await broker.topics.create(TOPIC, 2, new Map());
    for (const p of [0, 1]) broker.appendBatch(gen, p, batch(3));
    broker.commitStaged();
    const env: Env = { broker, topicId: gen.id };
    const { handlers, apiVersions } = buildHandlerTable();
    const logger = createLogger({ level: 'silent' });
    const pool = new BufferPool(1 << 20, 4);
    let cases = 0;
    for (const handler of [...handlers.values()].sort((a, b) => a.apiKey - b.apiKey)) {
      const spec = apiByKey(handler.apiKey);
      assert.ok(spec, `no codec for API key ${handler.apiKey}`);
      assert.ok(handler.minVersion >= spec.minVersion && handler.maxVersion <= spec.maxVersion, `${spec.name} serves ${handler.minVersion}-${handler.maxVersion}, the codec knows ${spec.minVersion}-${spec.maxVersion}`);
      const advertised = apiVersions.find((a) => a.apiKey === handler.apiKey);
      assert.equal(advertised?.maxVersion, handler.maxVersion);
      const sample = SAMPLES[handler.apiKey];
      for (let v = handler.minVersion; v <= handler.maxVersion; v++) {
        await t.test(`${spec.name} (${handler.apiKey}) v${v}`, async () => {
          const request = complete(spec, sample === undefined ? {} : await sample.request(v, env), v);
          const ctx: RequestContext = {
            broker,
            listener: { nodeId: 1, advertisedHost: '127.0.0.1', advertisedPort: 9092 },
            clientId: 'all-versions',
            clientHost: '127.0.0.1',
            apiVersion: v,
            logger,
            services: {},
            pool,
            afterResponseWritten: (fn) => fn(),
          };
          const response = await withTimeout(Promise.resolve(handler.handle(ctx, request)), 10_000, `${spec.name} v${v}`);
          assert.notEqual(response, NO_RESPONSE, 'samples ask for a response');
          const w = new Writer();
          spec.encodeResponse(w, response as Init<any>, v);
          const decoded = spec.decodeResponse(new Reader(w.toBuffer()), v) as Decoded;
          sample?.check?.(decoded, v);
        });
        cases++;
      }
    }
    assert.ok(cases > 100, `only ${cases} cases`);
    for (const key of [19, 20, 21, 23, 32, 33, 37, 44, 60, 75]) assert.ok(handlers.has(key), `API key ${key} is not in the table`);
  } finally {
    broker.close();
    await logManager.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('the sample table covers only keys that are in the handler table', () => {
  const { handlers } = buildHandlerTable();
  for (const key of Object.keys(SAMPLES).map(Number)) assert.ok(handlers.has(key), `sample for API key ${key}, which no handler serves`);
});
