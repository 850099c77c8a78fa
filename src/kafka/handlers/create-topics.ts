// CreateTopics (key 19), v2-7 (v0-1 removed by KIP-896; v5 flexible and
// returns the created topic's partitions, replication factor and configs
// (KIP-525); v6 controller mutation quotas (KIP-599, none here); v7 topic ids
// (KIP-516)). Checks in the order of Kafka's controller
// (ControllerApis.createTopics, ReplicationControlManager.createTopics):
//   - a name given twice in one request: INVALID_REQUEST "Duplicate topic name."
//     for that name, once;
//   - illegal names, or names that collide with an existing topic once '.' and
//     '_' are unified: INVALID_TOPIC_EXCEPTION; existing: TOPIC_ALREADY_EXISTS;
//   - configs: a null value or any key Diglot does not honour is INVALID_CONFIG
//     naming the key (broker/topic-configs.ts);
//   - numPartitions -1 → the broker default (num.partitions), 0 or < -1 →
//     INVALID_PARTITIONS; replicationFactor -1 or 1 is fine, 0 or < -1 or more
//     than the one node → INVALID_REPLICATION_FACTOR;
//   - manual assignments need numPartitions = replicationFactor = -1
//     (INVALID_REQUEST), consecutive 0-based partitions, each replica list
//     exactly [this node] (INVALID_REPLICA_ASSIGNMENT otherwise).
// validateOnly runs every check and creates nothing. Errors carry a message
// per topic. timeoutMs is not needed: creation is complete (and durable in the
// metadata log) when the response is sent.

import type { CreatableTopic, CreateTopicsRequest } from '../../protocol/kafka/generated/create-topics-request.ts';
import type { CreatableTopicResult, CreateTopicsResponse } from '../../protocol/kafka/generated/create-topics-response.ts';
import { ZERO_UUID, type Init } from '../../protocol/kafka/codec/index.ts';
import { validateTopicConfig } from '../../broker/topic-configs.ts';
import { validateTopicName } from '../../broker/topics.ts';
import { KAFKA_ERROR } from '../error-codes.ts';
import { KafkaApiError, apiErrorOf, checkReplicaAssignment } from './admin-common.ts';
import { topicConfigEntries } from './describe-configs.ts';
import type { Handler, RequestContext } from './types.ts';

function failed(name: string, errorCode: number, errorMessage: string): Init<CreatableTopicResult> {
  return { name, topicId: ZERO_UUID, errorCode, errorMessage, numPartitions: -1, replicationFactor: -1, configs: [] };
}

/** Kafka's Topic.unifyCollisionChars: '.' and '_' may not tell two topics apart. */
function collisionKey(name: string): string {
  return name.replaceAll('.', '_');
}

/** The partition count a creation asks for, after Kafka's checks. */
function partitionCount(ctx: RequestContext, t: CreatableTopic): number {
  const nodeId = ctx.listener.nodeId;
  if (t.assignments.length > 0) {
    if (t.replicationFactor !== -1) {
      throw new KafkaApiError(KAFKA_ERROR.INVALID_REQUEST, 'A manual partition assignment was specified, but replication factor was not set to -1.');
    }
    if (t.numPartitions !== -1) {
      throw new KafkaApiError(KAFKA_ERROR.INVALID_REQUEST, 'A manual partition assignment was specified, but numPartitions was not set to -1.');
    }
    const seen = new Set<number>();
    for (const a of t.assignments) {
      if (seen.has(a.partitionIndex)) {
        throw new KafkaApiError(KAFKA_ERROR.INVALID_REPLICA_ASSIGNMENT, `Found multiple manual partition assignments for partition ${a.partitionIndex}`);
      }
      checkReplicaAssignment(a.brokerIds, nodeId);
      seen.add(a.partitionIndex);
    }
    for (let p = 0; p < seen.size; p++) {
      if (!seen.has(p)) throw new KafkaApiError(KAFKA_ERROR.INVALID_REPLICA_ASSIGNMENT, 'partitions should be a consecutive 0-based integer sequence');
    }
    return seen.size;
  }
  const rf = t.replicationFactor;
  if (rf < -1 || rf === 0) {
    throw new KafkaApiError(KAFKA_ERROR.INVALID_REPLICATION_FACTOR, 'Replication factor must be larger than 0, or -1 to use the default value.');
  }
  if (t.numPartitions < -1 || t.numPartitions === 0) {
    throw new KafkaApiError(KAFKA_ERROR.INVALID_PARTITIONS, 'Number of partitions was set to an invalid non-positive value.');
  }
  if (rf > 1) {
    throw new KafkaApiError(KAFKA_ERROR.INVALID_REPLICATION_FACTOR, `Unable to replicate the partition ${rf} time(s): The target replication factor of ${rf} cannot be reached because only 1 broker(s) are registered.`);
  }
  return t.numPartitions === -1 ? ctx.broker.config.defaultPartitions : t.numPartitions;
}

async function createOne(ctx: RequestContext, t: CreatableTopic, validateOnly: boolean): Promise<Init<CreatableTopicResult>> {
  const { broker } = ctx;
  try {
    validateTopicName(t.name);
    if (broker.topics.get(t.name) !== undefined) throw new KafkaApiError(KAFKA_ERROR.TOPIC_ALREADY_EXISTS, `Topic '${t.name}' already exists.`);
    if (/[._]/.test(t.name)) {
      const key = collisionKey(t.name);
      for (const other of broker.topics.list()) {
        if (collisionKey(other.name) === key) throw new KafkaApiError(KAFKA_ERROR.INVALID_TOPIC_EXCEPTION, `Topic '${t.name}' collides with existing topic: ${other.name}`);
      }
    }
    const nulls = t.configs.filter((c) => c.value === null).map((c) => c.name);
    if (nulls.length > 0) throw new KafkaApiError(KAFKA_ERROR.INVALID_CONFIG, `Null value not supported for topic configs: ${nulls.join(',')}`);
    const configs = new Map<string, string>();
    for (const c of t.configs) configs.set(c.name, validateTopicConfig(c.name, c.value)!);
    const partitions = partitionCount(ctx, t);
    const topic = await broker.topics.create(t.name, partitions, configs, validateOnly);
    return {
      name: t.name,
      topicId: topic.id,
      errorCode: 0,
      errorMessage: null,
      numPartitions: topic.partitions,
      replicationFactor: 1,
      configs: topicConfigEntries(broker, topic.configs).map((e) => ({ name: e.name, value: e.value, readOnly: e.readOnly, configSource: e.source, isSensitive: false })),
    };
  } catch (err) {
    const { errorCode, errorMessage } = apiErrorOf(err);
    return failed(t.name, errorCode, errorMessage);
  }
}

export const createTopicsHandler: Handler<CreateTopicsRequest, Init<CreateTopicsResponse>> = {
  apiKey: 19,
  minVersion: 2,
  maxVersion: 7,
  async handle(ctx, request) {
    const counts = new Map<string, number>();
    for (const t of request.topics) counts.set(t.name, (counts.get(t.name) ?? 0) + 1);
    const topics: Init<CreatableTopicResult>[] = [];
    for (const t of request.topics) {
      if (counts.get(t.name)! > 1) continue;
      topics.push(await createOne(ctx, t, request.validateOnly));
    }
    for (const [name, n] of counts) if (n > 1) topics.push(failed(name, KAFKA_ERROR.INVALID_REQUEST, 'Duplicate topic name.'));
    return { throttleTimeMs: 0, topics };
  },
};
