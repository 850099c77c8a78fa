// OffsetForLeaderEpoch (key 23), v2-4 (KIP-101/279; v2 currentLeaderEpoch
// fencing (KIP-320); v3 replicaId; v4 flexible). Consumers use it after a
// leader change to detect log truncation; the Java consumer only when the max
// is ≥ 3. Diglot is one node and keeps leader epoch 0 forever (Metadata says
// 0, Produce stamps 0 into every batch), so its epoch cache is one entry: epoch
// 0 from the log start. Kafka's answers (Partition.lastOffsetForLeaderEpoch,
// LeaderEpochFileCache.endOffsetFor) for that state:
//   - currentLeaderEpoch -1 is not checked; below 0 → FENCED_LEADER_EPOCH,
//     above 0 → UNKNOWN_LEADER_EPOCH (leaderEpoch -1, endOffset -1);
//   - leaderEpoch 0 (the current one) → epoch 0, end offset = log end offset;
//   - leaderEpoch -1 (undefined) or any larger, unknown epoch → NONE with
//     epoch -1, end offset -1;
//   - a leaderEpoch below the first known one (< -1) → that epoch with the
//     start offset of epoch 0, i.e. the log start.
// Unknown topic or partition: UNKNOWN_TOPIC_OR_PARTITION.

import type { OffsetForLeaderEpochRequest } from '../../protocol/kafka/generated/offset-for-leader-epoch-request.ts';
import type { EpochEndOffset, OffsetForLeaderEpochResponse, OffsetForLeaderTopicResult } from '../../protocol/kafka/generated/offset-for-leader-epoch-response.ts';
import type { Init } from '../../protocol/kafka/codec/index.ts';
import { KAFKA_ERROR } from '../error-codes.ts';
import type { Handler } from './types.ts';

const LEADER_EPOCH = 0;
const UNDEFINED_EPOCH = -1;
const UNDEFINED_OFFSET = -1;

export const offsetForLeaderEpochHandler: Handler<OffsetForLeaderEpochRequest, Init<OffsetForLeaderEpochResponse>> = {
  apiKey: 23,
  minVersion: 2,
  maxVersion: 4,
  handle(ctx, request) {
    const { broker } = ctx;
    const topics: Init<OffsetForLeaderTopicResult>[] = request.topics.map((t) => {
      const topic = broker.topics.get(t.topic);
      const partitions = t.partitions.map((p): Init<EpochEndOffset> => {
        const error = (errorCode: number): Init<EpochEndOffset> => ({ errorCode, partition: p.partition, leaderEpoch: UNDEFINED_EPOCH, endOffset: UNDEFINED_OFFSET });
        if (topic === undefined || p.partition < 0 || p.partition >= topic.partitions) return error(KAFKA_ERROR.UNKNOWN_TOPIC_OR_PARTITION);
        if (p.currentLeaderEpoch !== -1) {
          if (p.currentLeaderEpoch < LEADER_EPOCH) return error(KAFKA_ERROR.FENCED_LEADER_EPOCH);
          if (p.currentLeaderEpoch > LEADER_EPOCH) return error(KAFKA_ERROR.UNKNOWN_LEADER_EPOCH);
        }
        const log = broker.topics.partitionLog(topic, p.partition);
        if (p.leaderEpoch === LEADER_EPOCH) return { errorCode: 0, partition: p.partition, leaderEpoch: LEADER_EPOCH, endOffset: log.logEndOffset };
        if (p.leaderEpoch < UNDEFINED_EPOCH) return { errorCode: 0, partition: p.partition, leaderEpoch: p.leaderEpoch, endOffset: log.logStartOffset };
        return { errorCode: 0, partition: p.partition, leaderEpoch: UNDEFINED_EPOCH, endOffset: UNDEFINED_OFFSET };
      });
      return { topic: t.topic, partitions };
    });
    return { throttleTimeMs: 0, topics };
  },
};
