// PULL_MESSAGE (11) and LITE_PULL_MESSAGE (361) — rocketmq-remoting.md §8.
// Reads the queue (= partition) from queueOffset, filters by the
// subscription (the request's own expression when sysFlag has SUBSCRIPTION,
// else the group's from its heartbeat), and answers with stored-message
// records. Caught up with SUSPEND set: the request is held until data
// arrives or suspendTimeoutMillis passes (long polling, §8.3), without
// blocking other requests on the connection. A COMMIT_OFFSET flag stores the
// piggy-backed consumer offset.

import type { Topic } from '../../broker/topics.ts';
import { RequestCode, ResponseCode, type RemotingCommand } from '../../protocol/rocketmq/index.ts';
import { INTERNAL_HEADER_PREFIX } from '../../broker/rocketmq-mapping.ts';
import { forEachBatch, readRecordsFrom, readRecordsFromKeeping, type DecodedRecord } from '../../storage/records.ts';
import { batchLastOffset } from '../../storage/record-batch.ts';
import { encodeMessages } from '../messages.ts';
import { PULL_READ_STEP_BYTES } from '../read-ahead.ts';
import { RETRY_PREFIX, type RocketmqState } from '../state.ts';
import { FilterCache, type MessageFilter } from '../subscription.ts';
import { optionalInt, optionalLong, optionalString, requireInt, requireLong, requireString, type Reply, type RocketmqHandler } from './types.ts';

export const PULL_SYS_FLAG = { COMMIT_OFFSET: 0x1, SUSPEND: 0x2, SUBSCRIPTION: 0x4, CLASS_FILTER: 0x8, LITE_PULL: 0x10 } as const;
/** Messages per answer at most (a Java broker: 32 from memory). */
const PULL_MESSAGES_MAX = 1024;
/** Bytes one answer reads at most (PULL_READ_STEP_BYTES at a time: filters that drop most read on). */
const PULL_READ_BYTES_MAX = 1 << 20;
/** Held pulls answer before the Java client's 30 s pull RPC timeout. */
const SUSPEND_MS_MAX = 25_000;

const filters = new FilterCache();
/**
 * With a filter that takes everything, only the `__rmq.*` headers (flag, reconsume count) are decoded; the
 * others stay encoded and are copied into the properties string as bytes (no string or Buffer per header).
 */
const INTERNAL_PREFIX_BYTES = Buffer.from(INTERNAL_HEADER_PREFIX, 'latin1');

interface PullRequest {
  group: string;
  topicName: string;
  queueId: number;
  queueOffset: number;
  maxMsgNums: number;
  sysFlag: number;
  commitOffset: number;
  suspendTimeoutMs: number;
  subscription: string | undefined;
  expressionType: string | undefined;
  maxMsgBytes: number;
}

function readRequest(request: RemotingCommand): PullRequest {
  return {
    group: requireString(request, 'consumerGroup'),
    topicName: requireString(request, 'topic'),
    queueId: requireInt(request, 'queueId'),
    queueOffset: requireLong(request, 'queueOffset'),
    maxMsgNums: requireInt(request, 'maxMsgNums'),
    sysFlag: requireInt(request, 'sysFlag'),
    commitOffset: optionalLong(request, 'commitOffset', -1),
    suspendTimeoutMs: optionalLong(request, 'suspendTimeoutMillis', 15_000),
    subscription: optionalString(request, 'subscription'),
    expressionType: optionalString(request, 'expressionType'),
    maxMsgBytes: optionalInt(request, 'maxMsgBytes', 2 ** 31 - 1),
  };
}

function answer(code: number, remark: string, nextBeginOffset: number, minOffset: number, maxOffset: number, body?: Buffer): Reply {
  return {
    code,
    remark,
    extFields: { suggestWhichBrokerId: '0', nextBeginOffset: String(nextBeginOffset), minOffset: String(minOffset), maxOffset: String(maxOffset) },
    body: body ?? null,
  };
}

/** One attempt: an answer, or null when caught up (the caller may hold the request). */
function attempt(state: RocketmqState, topic: Topic, req: PullRequest, filter: MessageFilter, canHold: boolean): Reply | null {
  const log = state.broker.topics.partitionLog(topic, req.queueId);
  const min = log.logStartOffset;
  const max = log.logEndOffset;
  const offset = req.queueOffset;
  if (max === 0 || max === min) {
    // Empty queue: offset 0 (or the start) waits for data; any other offset moved.
    if (offset === min || offset === 0) return canHold ? null : answer(ResponseCode.PULL_NOT_FOUND, 'NO_MESSAGE_IN_QUEUE', offset, min, max);
    return answer(ResponseCode.PULL_OFFSET_MOVED, 'OFFSET_OVERFLOW_BADLY', min, min, max);
  }
  if (offset < min) return answer(ResponseCode.PULL_OFFSET_MOVED, 'OFFSET_TOO_SMALL', min, min, max);
  if (offset > max) return answer(ResponseCode.PULL_OFFSET_MOVED, 'OFFSET_OVERFLOW_BADLY', max, min, max);
  if (offset === max) return canHold ? null : answer(ResponseCode.PULL_NOT_FOUND, 'OFFSET_OVERFLOW_ONE', offset, min, max);
  const limit = Math.max(1, Math.min(req.maxMsgNums, PULL_MESSAGES_MAX));
  const byteLimit = Math.max(1, req.maxMsgBytes);
  // Reads land in the read-ahead's slabs; the records point into them until encoded (settle, below).
  const readAhead = state.pullReadAhead;
  try {
    const matched: DecodedRecord[] = [];
    let matchedBytes = 0;
    let lastScanned = offset - 1;
    let full = false;
    let next = offset;
    let readBytes = 0;
    let readFailed: string | null = null;
    while (!full && next < max && readBytes < PULL_READ_BYTES_MAX) {
      // The queue's last read when it holds `next` (the previous pull of this queue took part of it).
      let kept = readAhead.get(log, next);
      if (kept === undefined) {
        const read = state.broker.read(topic, req.queueId, next, PULL_READ_STEP_BYTES, readAhead.alloc);
        if (read.errorCode !== 'NONE' || read.result === null) {
          readFailed = read.errorCode;
          break;
        }
        if (read.result.bytes.length === 0 || read.result.nextOffset <= next) break;
        kept = read.result;
        readAhead.keep(log, read.result.bytes, read.result.firstOffset, read.result.nextOffset);
      }
      const bytes = kept.bytes;
      readBytes += bytes.length;
      forEachBatch(bytes, (pos) => {
        if (batchLastOffset(bytes, pos) < next) return; // before this pull's offset (a kept read)
        // Decode only what this answer can take: records before `next` are skipped undecoded, and a
        // batch of many (a delay round's delivery) is decoded a few more than still wanted at a time.
        let from = next;
        while (!full) {
          const want = limit - matched.length + 1;
          const records = filter.matchesAll ? readRecordsFromKeeping(bytes, pos, from, want, INTERNAL_PREFIX_BYTES) : readRecordsFrom(bytes, pos, from, want);
          for (const record of records) {
            if (matched.length >= limit || (matched.length > 0 && matchedBytes >= byteLimit)) {
              full = true;
              return;
            }
            lastScanned = record.offset;
            if (!filter.matches(record)) continue;
            matched.push(record);
            matchedBytes += record.value?.length ?? 0;
          }
          if (records.length < want) return; // the batch is done
          from = records[records.length - 1]!.offset + 1;
        }
      });
      next = kept.nextOffset;
      // Enough for one answer: stop rather than read ahead.
      if (matched.length >= limit) full = true;
    }
    if (matched.length > 0) {
      const body = encodeMessages(state.storeHost, topic, req.queueId, matched);
      return answer(ResponseCode.SUCCESS, 'FOUND', lastScanned + 1, min, max, body);
    }
    if (lastScanned >= offset) return answer(ResponseCode.PULL_RETRY_IMMEDIATELY, 'NO_MATCHED_MESSAGE', lastScanned + 1, min, max);
    if (readFailed !== null) return answer(ResponseCode.PULL_OFFSET_MOVED, `read failed: ${readFailed}`, Math.max(min, Math.min(offset, max)), min, max);
    // Nothing readable at the offset although it is below the end (a gap): move past it.
    return answer(ResponseCode.PULL_OFFSET_MOVED, 'NO_MATCHED_LOGIC_QUEUE', Math.max(next, offset + 1), min, max);
  } finally {
    readAhead.settle();
  }
}

export async function pull(state: RocketmqState, request: RemotingCommand): Promise<Reply> {
  const req = readRequest(request);
  const topic = state.broker.topics.get(req.topicName);
  if (topic === undefined || topic.internal) {
    return { code: ResponseCode.TOPIC_NOT_EXIST, remark: `topic[${req.topicName}] not exist, apply first please!` };
  }
  if (req.queueId < 0 || req.queueId >= topic.partitions) {
    return { code: ResponseCode.INVALID_PARAMETER, remark: `queueId[${req.queueId}] is illegal, topic:[${req.topicName}] topicConfig.readQueueNums:[${topic.partitions}]` };
  }
  if ((req.sysFlag & PULL_SYS_FLAG.COMMIT_OFFSET) !== 0 && req.commitOffset >= 0) {
    // Piggy-backed offset commit (every pull of a push consumer carries one): visible at once,
    // written with the next deferred flush rather than one durable record per pull.
    state.broker.offsets.commitDeferred(req.group, [{ topic: req.topicName, partition: req.queueId, offset: req.commitOffset, leaderEpoch: -1, metadata: null }]);
  }
  let filter: MessageFilter;
  if (req.topicName.startsWith(RETRY_PREFIX)) {
    filter = filters.get('TAG', '*');
  } else if ((req.sysFlag & PULL_SYS_FLAG.SUBSCRIPTION) !== 0) {
    filter = filters.get(req.expressionType, req.subscription);
  } else {
    const sub = state.clients.consumers.get(req.group)?.subscriptions.get(req.topicName);
    if (sub === undefined) {
      return { code: ResponseCode.SUBSCRIPTION_NOT_EXIST, remark: `the consumer's subscription not exist, group: ${req.group} topic: ${req.topicName}` };
    }
    if (sub.filter instanceof Error) return { code: ResponseCode.SUBSCRIPTION_PARSE_FAILED, remark: sub.filter.message };
    filter = sub.filter;
  }
  const canHold = (req.sysFlag & PULL_SYS_FLAG.SUSPEND) !== 0 && req.suspendTimeoutMs > 0;
  const first = attempt(state, topic, req, filter, canHold);
  if (first !== null) return first;
  // Caught up: hold until data arrives in this queue or the timeout, then answer once.
  const log = state.broker.topics.partitionLog(topic, req.queueId);
  await state.broker.waitForData([log], Math.min(req.suspendTimeoutMs, SUSPEND_MS_MAX)).promise;
  return attempt(state, topic, req, filter, false)!;
}

export const pullMessage: RocketmqHandler = {
  codes: [RequestCode.PULL_MESSAGE, RequestCode.LITE_PULL_MESSAGE],
  name: 'PULL_MESSAGE',
  handle(ctx, request) {
    return pull(ctx.state, request);
  },
};
