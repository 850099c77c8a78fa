// OffsetCommit (key 8), v2-10. The group coordinator checks membership and
// generation (generation -1 with an empty member id is a simple commit,
// allowed on an Empty or unknown group); offsets are stored durably in
// __consumer_offsets, shared with RocketMQ groups of the same name. v10 names
// topics by id. Metadata longer than 4096 bytes is OFFSET_METADATA_TOO_LARGE
// (offset.metadata.max.bytes).

import type { OffsetCommitRequest } from '../../protocol/kafka/generated/offset-commit-request.ts';
import type { OffsetCommitResponse, OffsetCommitResponsePartition, OffsetCommitResponseTopic } from '../../protocol/kafka/generated/offset-commit-response.ts';
import type { Init } from '../../protocol/kafka/codec/index.ts';
import type { OffsetCommit } from '../../broker/offsets.ts';
import { KAFKA_ERROR, kafkaGroupError } from '../error-codes.ts';
import type { Handler } from './types.ts';

const METADATA_BYTES_MAX = 4096;

export const offsetCommitHandler: Handler<OffsetCommitRequest, Init<OffsetCommitResponse>> = {
  apiKey: 8,
  minVersion: 2,
  maxVersion: 10,
  async handle(ctx, request) {
    const { broker } = ctx;
    const v = ctx.apiVersion;
    const groupError = broker.groups.validateOffsetCommit({
      groupId: request.groupId,
      memberId: request.memberId,
      generationId: request.generationIdOrMemberEpoch,
      groupInstanceId: v >= 7 ? request.groupInstanceId : null,
    });
    const topics: Init<OffsetCommitResponseTopic>[] = [];
    const commits: OffsetCommit[] = [];
    const committed: Init<OffsetCommitResponsePartition>[] = [];
    for (const t of request.topics) {
      const topic = v >= 10 ? broker.topics.byId(t.topicId) : broker.topics.get(t.name);
      const partitions: Init<OffsetCommitResponsePartition>[] = [];
      for (const p of t.partitions) {
        let errorCode: number = kafkaGroupError(groupError);
        if (errorCode === 0) {
          if (topic === undefined || p.partitionIndex < 0 || p.partitionIndex >= topic.partitions) {
            errorCode = v >= 10 ? KAFKA_ERROR.UNKNOWN_TOPIC_ID : KAFKA_ERROR.UNKNOWN_TOPIC_OR_PARTITION;
          } else if (p.committedMetadata !== null && Buffer.byteLength(p.committedMetadata) > METADATA_BYTES_MAX) {
            errorCode = KAFKA_ERROR.OFFSET_METADATA_TOO_LARGE;
          }
        }
        const answer: Init<OffsetCommitResponsePartition> = { partitionIndex: p.partitionIndex, errorCode };
        partitions.push(answer);
        if (errorCode === 0) {
          commits.push({ topic: topic!.name, partition: p.partitionIndex, offset: p.committedOffset, leaderEpoch: v >= 6 ? p.committedLeaderEpoch : -1, metadata: p.committedMetadata });
          committed.push(answer);
        }
      }
      topics.push({ name: t.name, topicId: t.topicId, partitions });
    }
    try {
      await broker.offsets.commit(request.groupId, commits);
    } catch (err) {
      ctx.logger.error({ err, groupId: request.groupId }, 'offset commit failed');
      for (const answer of committed) answer.errorCode = KAFKA_ERROR.COORDINATOR_NOT_AVAILABLE;
    }
    return { throttleTimeMs: 0, topics };
  },
};
