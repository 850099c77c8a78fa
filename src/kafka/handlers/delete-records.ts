// DeleteRecords (key 21), v0-2 (KIP-107; v2 flexible). Moves a partition's log
// start offset forward; whole segments below it are removed, and the new start
// is durable (log checkpoint) before the response is sent. As Kafka's
// Partition.deleteRecordsOnLeader: offset -1 means the high watermark (= the
// log end at one node); a negative offset or one beyond the high watermark is
// OFFSET_OUT_OF_RANGE; an offset at or below the current start changes
// nothing. The answer is the partition's low watermark (its log start) after
// the deletion, -1 on error. Unknown topic or partition:
// UNKNOWN_TOPIC_OR_PARTITION. Diglot's internal topics hold broker state and
// refuse deletion with POLICY_VIOLATION, as Kafka refuses it on compacted
// topics. timeoutMs is not needed: one node has no replicas to wait for.

import type { DeleteRecordsRequest } from '../../protocol/kafka/generated/delete-records-request.ts';
import type { DeleteRecordsPartitionResult, DeleteRecordsResponse, DeleteRecordsTopicResult } from '../../protocol/kafka/generated/delete-records-response.ts';
import type { Init } from '../../protocol/kafka/codec/index.ts';
import type { Topic } from '../../broker/topics.ts';
import { KAFKA_ERROR } from '../error-codes.ts';
import { KafkaApiError, apiErrorOf } from './admin-common.ts';
import type { Handler, RequestContext } from './types.ts';

const HIGH_WATERMARK = -1;

async function deleteUpTo(ctx: RequestContext, topic: Topic | undefined, name: string, partition: number, offset: number): Promise<number> {
  const { broker } = ctx;
  if (topic === undefined || partition < 0 || partition >= topic.partitions) {
    throw new KafkaApiError(KAFKA_ERROR.UNKNOWN_TOPIC_OR_PARTITION, 'This server does not host this topic-partition.');
  }
  if (topic.internal) {
    throw new KafkaApiError(KAFKA_ERROR.POLICY_VIOLATION, `Records of partition ${name}-${partition} can not be deleted: it holds Diglot's own state`);
  }
  const log = broker.topics.partitionLog(topic, partition);
  const highWatermark = log.logEndOffset;
  const target = offset === HIGH_WATERMARK ? highWatermark : offset;
  if (target < 0) throw new KafkaApiError(KAFKA_ERROR.OFFSET_OUT_OF_RANGE, `The offset ${target} for partition ${name}-${partition} is not valid`);
  if (target > highWatermark) {
    throw new KafkaApiError(KAFKA_ERROR.OFFSET_OUT_OF_RANGE, `Cannot increment the log start offset to ${target} of partition ${name}-${partition} since it is larger than the high watermark ${highWatermark}`);
  }
  await broker.logManager.advanceLogStart(log, target);
  return log.logStartOffset;
}

export const deleteRecordsHandler: Handler<DeleteRecordsRequest, Init<DeleteRecordsResponse>> = {
  apiKey: 21,
  minVersion: 0,
  maxVersion: 2,
  async handle(ctx, request) {
    ctx.broker.commitStaged();
    const topics: Init<DeleteRecordsTopicResult>[] = await Promise.all(
      request.topics.map(async (t) => {
        const topic = ctx.broker.topics.get(t.name);
        const partitions = await Promise.all(
          t.partitions.map(async (p): Promise<Init<DeleteRecordsPartitionResult>> => {
            try {
              const lowWatermark = await deleteUpTo(ctx, topic, t.name, p.partitionIndex, p.offset);
              return { partitionIndex: p.partitionIndex, lowWatermark, errorCode: 0 };
            } catch (err) {
              const { errorCode, errorMessage } = apiErrorOf(err);
              ctx.logger.debug({ topic: t.name, partition: p.partitionIndex, errorMessage }, 'delete records refused');
              return { partitionIndex: p.partitionIndex, lowWatermark: -1, errorCode };
            }
          }),
        );
        return { name: t.name, partitions };
      }),
    );
    return { throttleTimeMs: 0, topics };
  },
};
