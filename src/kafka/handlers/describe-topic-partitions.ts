// DescribeTopicPartitions (key 75), v0 (KIP-966) — the Java Admin's
// describeTopics, which falls back to Metadata without it. Paginated as
// Kafka's DescribeTopicPartitionsRequestHandler and KRaftMetadataCache:
// topics are answered in name order from the cursor on (an empty topic list
// means every listed topic, as in Metadata: user topics and __consumer_offsets); at most min(responsePartitionLimit, 2000) partitions, at least 1,
// are returned, and when the limit cuts a topic short (or another topic
// remains) nextCursor names where to go on. A cursor topic missing from a
// non-empty topic list, or a negative cursor partition, fails every topic with
// INVALID_REQUEST. Unknown names answer UNKNOWN_TOPIC_OR_PARTITION (illegal
// ones INVALID_TOPIC_EXCEPTION). One node: it leads every partition at epoch
// 0, replicas = ISR = [self], no ELR (KIP-966 lists empty). Authorized
// operations list every topic operation: no ACLs, as Kafka without an authorizer.

import type { DescribeTopicPartitionsRequest } from '../../protocol/kafka/generated/describe-topic-partitions-request.ts';
import type {
  Cursor,
  DescribeTopicPartitionsResponse,
  DescribeTopicPartitionsResponsePartition,
  DescribeTopicPartitionsResponseTopic,
} from '../../protocol/kafka/generated/describe-topic-partitions-response.ts';
import { ZERO_UUID, type Init } from '../../protocol/kafka/codec/index.ts';
import { BrokerError } from '../../broker/errors.ts';
import { validateTopicName } from '../../broker/topics.ts';
import { KAFKA_ERROR } from '../error-codes.ts';
import { TOPIC_AUTHORIZED_OPERATIONS } from './admin-common.ts';
import type { Handler } from './types.ts';

/** Kafka's max.request.partition.size.limit default. */
const PARTITION_LIMIT_MAX = 2000;

export const describeTopicPartitionsHandler: Handler<DescribeTopicPartitionsRequest, Init<DescribeTopicPartitionsResponse>> = {
  apiKey: 75,
  minVersion: 0,
  maxVersion: 0,
  handle(ctx, request) {
    const { broker } = ctx;
    const nodeId = ctx.listener.nodeId;
    const cursor = request.cursor;
    const cursorTopic = cursor?.topicName ?? '';
    const all = request.topics.length === 0;
    const names = new Set<string>();
    if (all) {
      for (const t of broker.topics.listed()) if (t.name >= cursorTopic) names.add(t.name);
    } else {
      for (const t of request.topics) if (t.name >= cursorTopic) names.add(t.name);
    }
    const invalid = (message: string): Init<DescribeTopicPartitionsResponse> => {
      // The response has no message field; the reason goes to the debug log.
      ctx.logger.debug({ reason: message }, 'DescribeTopicPartitions refused');
      const topics = request.topics.map((t) => ({ errorCode: KAFKA_ERROR.INVALID_REQUEST, name: t.name, topicId: ZERO_UUID, isInternal: false, partitions: [], topicAuthorizedOperations: TOPIC_AUTHORIZED_OPERATIONS }));
      return { throttleTimeMs: 0, topics, nextCursor: null };
    };
    if (cursor !== null && !all && !names.has(cursor.topicName)) return invalid(`DescribeTopicPartitionsRequest topic list should contain the cursor topic: ${cursor.topicName}`);
    if (cursor !== null && cursor.partitionIndex < 0) return invalid(`DescribeTopicPartitionsRequest cursor partition must be valid: ${cursor.partitionIndex}`);

    let remaining = Math.max(Math.min(PARTITION_LIMIT_MAX, request.responsePartitionLimit), 1);
    const topics: Init<DescribeTopicPartitionsResponseTopic>[] = [];
    let nextCursor: Init<Cursor> | null = null;
    for (const name of [...names].sort()) {
      if (remaining === 0) {
        nextCursor = { topicName: name, partitionIndex: 0 };
        break;
      }
      const topic = broker.topics.get(name);
      if (topic === undefined) {
        if (all) continue;
        let errorCode: number = KAFKA_ERROR.UNKNOWN_TOPIC_OR_PARTITION;
        try {
          validateTopicName(name);
        } catch (err) {
          if (!(err instanceof BrokerError)) throw err;
          errorCode = KAFKA_ERROR.INVALID_TOPIC_EXCEPTION;
        }
        topics.push({ errorCode, name, topicId: ZERO_UUID, isInternal: false, partitions: [], topicAuthorizedOperations: TOPIC_AUTHORIZED_OPERATIONS });
        continue;
      }
      const start = name === cursorTopic && cursor !== null ? cursor.partitionIndex : 0;
      const end = Math.min(topic.partitions, start + remaining);
      const partitions: Init<DescribeTopicPartitionsResponsePartition>[] = [];
      for (let p = start; p < end; p++) {
        partitions.push({ errorCode: 0, partitionIndex: p, leaderId: nodeId, leaderEpoch: 0, replicaNodes: [nodeId], isrNodes: [nodeId], eligibleLeaderReplicas: [], lastKnownElr: [], offlineReplicas: [] });
      }
      topics.push({ errorCode: 0, name, topicId: topic.id, isInternal: topic.internal, partitions, topicAuthorizedOperations: TOPIC_AUTHORIZED_OPERATIONS });
      if (end < topic.partitions) {
        nextCursor = { topicName: name, partitionIndex: end };
        break;
      }
      remaining -= partitions.length;
    }
    return { throttleTimeMs: 0, topics, nextCursor };
  },
};
