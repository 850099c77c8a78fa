// Finding a stored message again from its packed commit-log offset
// (message-id.ts), for VIEW_MESSAGE_BY_ID, CONSUMER_SEND_MSG_BACK and
// queryMsgById.

import type { Topic } from '../broker/topics.ts';
import { parsePackedOffset } from '../protocol/rocketmq/index.ts';
import { forEachBatch, readRecords, type DecodedRecord } from '../storage/records.ts';
import type { RocketmqState } from './state.ts';

export interface FoundMessage {
  topic: Topic;
  queueId: number;
  record: DecodedRecord;
}

export function readOne(state: RocketmqState, topic: Topic, queueId: number, offset: number): DecodedRecord | undefined {
  if (queueId < 0 || queueId >= topic.partitions) return undefined;
  const log = state.broker.topics.partitionLog(topic, queueId);
  if (offset < log.logStartOffset || offset >= log.logEndOffset) return undefined;
  const read = state.broker.read(topic, queueId, offset, 64 * 1024);
  if (read.result === null) return undefined;
  const bytes = read.result.bytes;
  let found: DecodedRecord | undefined;
  forEachBatch(bytes, (pos) => {
    if (found !== undefined) return;
    for (const r of readRecords(bytes, pos)) {
      if (r.offset === offset) {
        found = r;
        return;
      }
    }
  });
  return found;
}

/** The message at a packed commit-log offset (decimal text), or undefined. */
export function findByCommitLogOffset(state: RocketmqState, commitLogOffset: string): FoundMessage | undefined {
  const location = parsePackedOffset(commitLogOffset);
  if (location === null) return undefined;
  const topic = state.broker.topics.byOrdinalLowBits(location.topicBits, location.topicNumber);
  if (topic === undefined) return undefined;
  const record = readOne(state, topic, location.queueId, location.queueOffset);
  return record === undefined ? undefined : { topic, queueId: location.queueId, record };
}
