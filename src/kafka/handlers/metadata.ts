// Metadata (key 3), v0-13. One node: it leads every partition, replicas = ISR
// = [self]. Topics are auto-created when the request allows it (v4+, always
// before) and the broker's auto-create setting is on. v10+ carry topic ids;
// v13 adds the top-level error code (KIP-1102), always NONE here.

import type { MetadataRequest } from '../../protocol/kafka/generated/metadata-request.ts';
import type { MetadataResponse, MetadataResponsePartition, MetadataResponseTopic } from '../../protocol/kafka/generated/metadata-response.ts';
import { ZERO_UUID, type Init } from '../../protocol/kafka/codec/index.ts';
import { BrokerError } from '../../broker/errors.ts';
import { validateTopicName, type Topic } from '../../broker/topics.ts';
import { KAFKA_ERROR, kafkaError } from '../error-codes.ts';
import { AUTHORIZED_OPERATIONS_OMITTED } from './admin-common.ts';
import type { Handler, RequestContext } from './types.ts';


export function topicMetadata(ctx: RequestContext, topic: Topic): Init<MetadataResponseTopic> {
  const nodeId = ctx.listener.nodeId;
  const partitions: Init<MetadataResponsePartition>[] = [];
  for (let p = 0; p < topic.partitions; p++) {
    partitions.push({ errorCode: 0, partitionIndex: p, leaderId: nodeId, leaderEpoch: 0, replicaNodes: [nodeId], isrNodes: [nodeId], offlineReplicas: [] });
  }
  return { errorCode: 0, name: topic.name, topicId: topic.id, isInternal: topic.internal, partitions, topicAuthorizedOperations: AUTHORIZED_OPERATIONS_OMITTED };
}

export const metadataHandler: Handler<MetadataRequest, Init<MetadataResponse>> = {
  apiKey: 3,
  minVersion: 0,
  maxVersion: 13,
  async handle(ctx, request) {
    const { broker, listener } = ctx;
    const topics: Init<MetadataResponseTopic>[] = [];
    if (request.topics === null || (ctx.apiVersion === 0 && request.topics.length === 0)) {
      // null (v1+) or an empty list at v0 means every topic.
      for (const topic of broker.topics.listed()) topics.push(topicMetadata(ctx, topic));
    } else {
      const allowAutoCreate = ctx.apiVersion < 4 || request.allowAutoTopicCreation;
      for (const wanted of request.topics) {
        if (wanted.name === null || wanted.name === '') {
          const topic = broker.topics.byId(wanted.topicId);
          topics.push(topic === undefined ? { errorCode: KAFKA_ERROR.UNKNOWN_TOPIC_ID, name: null, topicId: wanted.topicId, partitions: [] } : topicMetadata(ctx, topic));
          continue;
        }
        try {
          validateTopicName(wanted.name);
          const topic = await broker.topicOrCreate(wanted.name, allowAutoCreate && !wanted.name.startsWith('__'));
          topics.push(topic === undefined ? { errorCode: KAFKA_ERROR.UNKNOWN_TOPIC_OR_PARTITION, name: wanted.name, topicId: ZERO_UUID, partitions: [] } : topicMetadata(ctx, topic));
        } catch (err) {
          if (!(err instanceof BrokerError)) throw err;
          topics.push({ errorCode: kafkaError(err.code), name: wanted.name, topicId: ZERO_UUID, partitions: [] });
        }
      }
    }
    return {
      throttleTimeMs: 0,
      brokers: [{ nodeId: listener.nodeId, host: listener.advertisedHost, port: listener.advertisedPort, rack: null }],
      clusterId: broker.clusterId,
      controllerId: listener.nodeId,
      topics,
      clusterAuthorizedOperations: AUTHORIZED_OPERATIONS_OMITTED,
      errorCode: 0,
    };
  },
};
