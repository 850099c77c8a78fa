// Queue offset lookups — rocketmq-remoting.md §3.3, §9.3: GET_MAX_OFFSET (30,
// the next offset to be written), GET_MIN_OFFSET (31), SEARCH_OFFSET_BY_TIMESTAMP
// (29; `lower`: first offset stored at or after the time, `upper`: last one at
// or before it) and GET_EARLIEST_MSG_STORETIME (32). Store time is the record
// timestamp (the born time for RocketMQ sends).

import type { Topic } from '../../broker/topics.ts';
import { RequestCode, ResponseCode, type RemotingCommand } from '../../protocol/rocketmq/index.ts';
import type { PartitionLog } from '../../storage/partition-log.ts';
import { forEachBatch, readRecords } from '../../storage/records.ts';
import type { RocketmqState } from '../state.ts';
import { optionalString, requireInt, requireLong, requireString, type Reply, type RocketmqHandler } from './types.ts';

function queueLog(state: RocketmqState, request: RemotingCommand): { topic: Topic; log: PartitionLog } | Reply {
  const topicName = requireString(request, 'topic');
  const queueId = requireInt(request, 'queueId');
  const topic = state.broker.topics.get(topicName);
  if (topic === undefined || topic.internal) return { code: ResponseCode.TOPIC_NOT_EXIST, remark: `topic[${topicName}] not exist, apply first please!` };
  if (queueId < 0 || queueId >= topic.partitions) return { code: ResponseCode.INVALID_PARAMETER, remark: `queueId[${queueId}] is illegal, topic ${topicName} has ${topic.partitions} queues` };
  return { topic, log: state.broker.topics.partitionLog(topic, queueId) };
}

export const getMaxOffset: RocketmqHandler = {
  codes: [RequestCode.GET_MAX_OFFSET],
  name: 'GET_MAX_OFFSET',
  handle(ctx, request) {
    const q = queueLog(ctx.state, request);
    if ('code' in q) return q;
    return { code: ResponseCode.SUCCESS, extFields: { offset: String(q.log.logEndOffset) } };
  },
};

export const getMinOffset: RocketmqHandler = {
  codes: [RequestCode.GET_MIN_OFFSET],
  name: 'GET_MIN_OFFSET',
  handle(ctx, request) {
    const q = queueLog(ctx.state, request);
    if ('code' in q) return q;
    return { code: ResponseCode.SUCCESS, extFields: { offset: String(q.log.logStartOffset) } };
  },
};

/** Timestamp of the record at `offset`, or undefined when there is none. */
export function timestampAt(log: PartitionLog, offset: number): number | undefined {
  if (offset < log.logStartOffset || offset >= log.logEndOffset) return undefined;
  const read = log.read(offset, 64 * 1024);
  let found: number | undefined;
  forEachBatch(read.bytes, (pos) => {
    if (found !== undefined) return;
    for (const r of readRecords(read.bytes, pos)) {
      if (r.offset >= offset) {
        found = r.timestampMs;
        return;
      }
    }
  });
  return found;
}

export const searchOffsetByTimestamp: RocketmqHandler = {
  codes: [RequestCode.SEARCH_OFFSET_BY_TIMESTAMP],
  name: 'SEARCH_OFFSET_BY_TIMESTAMP',
  handle(ctx, request) {
    const q = queueLog(ctx.state, request);
    if ('code' in q) return q;
    const timestamp = requireLong(request, 'timestamp');
    const upper = (optionalString(request, 'boundaryType') ?? 'lower').toLowerCase() === 'upper';
    const log = q.log;
    // lower: first offset with timestamp >= ts (the end when none).
    const lower = log.offsetForTimestamp(timestamp);
    const lowerOffset = lower === null ? log.logEndOffset : lower.offset;
    if (!upper) return { code: ResponseCode.SUCCESS, extFields: { offset: String(lowerOffset) } };
    // upper: last offset with timestamp <= ts: the one before the first later than ts.
    const after = log.offsetForTimestamp(timestamp + 1);
    const afterOffset = after === null ? log.logEndOffset : after.offset;
    return { code: ResponseCode.SUCCESS, extFields: { offset: String(Math.max(log.logStartOffset, afterOffset - 1)) } };
  },
};

export const getEarliestMsgStoretime: RocketmqHandler = {
  codes: [RequestCode.GET_EARLIEST_MSG_STORETIME],
  name: 'GET_EARLIEST_MSG_STORETIME',
  handle(ctx, request) {
    const q = queueLog(ctx.state, request);
    if ('code' in q) return q;
    const ts = timestampAt(q.log, q.log.logStartOffset);
    if (ts === undefined) return { code: ResponseCode.SYSTEM_ERROR, remark: `Find the message store time failed, the queue is empty` };
    return { code: ResponseCode.SUCCESS, extFields: { timestamp: String(ts) } };
  },
};
