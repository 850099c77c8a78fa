// ListOffsets (key 2), v1-10. Special timestamps: -1 latest (the high
// watermark), -2 earliest, -3 max timestamp (v7+, KIP-734), -4 earliest local
// (v8+, = earliest: no tiered storage), -5 latest tiered (v9+: none, so
// offset -1). Otherwise the first record at or after the timestamp.

import type { ListOffsetsRequest } from '../../protocol/kafka/generated/list-offsets-request.ts';
import type { ListOffsetsPartitionResponse, ListOffsetsResponse, ListOffsetsTopicResponse } from '../../protocol/kafka/generated/list-offsets-response.ts';
import type { Init } from '../../protocol/kafka/codec/index.ts';
import { KAFKA_ERROR } from '../error-codes.ts';
import type { Handler } from './types.ts';

const LATEST = -1;
const EARLIEST = -2;
const MAX_TIMESTAMP = -3;
const EARLIEST_LOCAL = -4;
const LATEST_TIERED = -5;

export const listOffsetsHandler: Handler<ListOffsetsRequest, Init<ListOffsetsResponse>> = {
  apiKey: 2,
  minVersion: 1,
  maxVersion: 10,
  handle(ctx, request) {
    const { broker } = ctx;
    const topics: Init<ListOffsetsTopicResponse>[] = [];
    for (const wanted of request.topics) {
      const topic = broker.topics.get(wanted.name);
      const partitions: Init<ListOffsetsPartitionResponse>[] = [];
      for (const p of wanted.partitions) {
        // leaderEpoch exists from v4 on and is not ignorable.
        const leaderEpoch = ctx.apiVersion >= 4 ? 0 : -1;
        const answer = (offset: number, timestamp: number): Init<ListOffsetsPartitionResponse> => ({ partitionIndex: p.partitionIndex, errorCode: 0, timestamp, offset, leaderEpoch });
        if (topic === undefined || p.partitionIndex < 0 || p.partitionIndex >= topic.partitions) {
          partitions.push({ partitionIndex: p.partitionIndex, errorCode: KAFKA_ERROR.UNKNOWN_TOPIC_OR_PARTITION, timestamp: -1, offset: -1, leaderEpoch: -1 });
          continue;
        }
        broker.commitStaged();
        const log = broker.topics.partitionLog(topic, p.partitionIndex);
        switch (p.timestamp) {
          case LATEST:
            partitions.push(answer(log.logEndOffset, -1));
            break;
          case EARLIEST:
          case EARLIEST_LOCAL:
            partitions.push(answer(log.logStartOffset, -1));
            break;
          case LATEST_TIERED:
            partitions.push(answer(-1, -1));
            break;
          case MAX_TIMESTAMP: {
            const max = log.maxTimestamp();
            partitions.push(max === null ? answer(-1, -1) : answer(max.offset, max.timestampMs));
            break;
          }
          default: {
            if (p.timestamp < 0) {
              partitions.push({ partitionIndex: p.partitionIndex, errorCode: KAFKA_ERROR.INVALID_REQUEST, timestamp: -1, offset: -1, leaderEpoch: -1 });
              break;
            }
            const found = log.offsetForTimestamp(p.timestamp);
            partitions.push(found === null ? answer(-1, -1) : answer(found.offset, found.timestampMs));
          }
        }
      }
      topics.push({ name: wanted.name, partitions });
    }
    return { throttleTimeMs: 0, topics };
  },
};
