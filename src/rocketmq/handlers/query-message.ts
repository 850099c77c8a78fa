// QUERY_MESSAGE (12) — rocketmq-remoting.md §3.3, §6, §14 (mqadmin
// queryMsgByKey; queryMsgById / queryMsgByUniqueKey fall back to it when the
// id is a client UNIQ_KEY rather than an offsetMsgId; clients'
// MQAdmin.queryMessage).
//
// By key: messages of `topic` whose KEYS property (stored as the record key,
// broker/rocketmq-mapping.ts) holds `key` as one of its space-separated
// words. With ext `_UNIQUE_KEY_QUERY`=`true`: messages whose UNIQ_KEY equals
// `key` (or the `UNIQ_KEY` ext when sent), at most 32 as the Java broker.
// Only messages stored within [beginTimestamp, endTimestamp] (store time =
// the record timestamp; endTimestamp may be Long.MAX_VALUE), at most maxNum
// (capped at 64 like Java's maxMsgsNumBatch) and at most 8 MiB of body.
//
// Diglot has no message index yet (future work): every queue of the topic is
// scanned from offsetForTimestamp(beginTimestamp) forward, stopping past
// endTimestamp, within a scan budget of 64 MiB read per request (shared out
// between the queues); messages beyond the budget are not found. The scan
// yields to the event loop between reads.
//
// Reply: body = the found messages as stored-message records (§6), ext
// indexLastUpdateTimestamp (now: everything stored so far is searchable) and
// indexLastUpdatePhyoffset (0: no index); 22 QUERY_NOT_FOUND when none (the
// ext fields are sent then too, as Java does).

import type { Topic } from '../../broker/topics.ts';
import { RequestCode, ResponseCode, type RemotingCommand } from '../../protocol/rocketmq/index.ts';
import { KEYS_PROPERTY, recordProperty } from '../../broker/rocketmq-mapping.ts';
import { forEachBatch, readRecords, type DecodedRecord } from '../../storage/records.ts';
import { encodeMessages } from '../messages.ts';
import type { RocketmqState } from '../state.ts';
import { HeaderError, optionalString, requireInt, requireString, type Reply, type RocketmqHandler } from './types.ts';

export const QUERY_SCAN_BYTES_MAX = 64 * 1024 * 1024;
const QUERY_SCAN_BYTES_PER_QUEUE_MIN = 256 * 1024;
const QUERY_READ_BYTES = 1024 * 1024;
const QUERY_BODY_BYTES_MAX = 8 * 1024 * 1024;
/** Java's messageStoreConfig.maxMsgsNumBatch and defaultQueryMaxNum. */
const QUERY_MAX_NUM = 64;
const UNIQUE_QUERY_MAX_NUM = 32;
export const UNIQUE_KEY_QUERY_FLAG = '_UNIQUE_KEY_QUERY';
const UNIQ_KEY = 'UNIQ_KEY';

/** A Java long header clamped into the safe-integer range (clients send Long.MAX_VALUE for "no end"). */
function requireClampedLong(request: RemotingCommand, field: string): number {
  const text = requireString(request, field).trim();
  if (!/^[-+]?\d+$/.test(text)) throw new HeaderError(`the custom field <${field}> is not a long: ${JSON.stringify(text)}`);
  const n = BigInt(text);
  if (n > BigInt(Number.MAX_SAFE_INTEGER)) return Number.MAX_SAFE_INTEGER;
  if (n < BigInt(Number.MIN_SAFE_INTEGER)) return Number.MIN_SAFE_INTEGER;
  return Number(n);
}

export type MessageMatcher = (record: DecodedRecord) => boolean;

export function keyMatcher(key: string): MessageMatcher {
  return (record) => {
    if (record.key === null || record.key.length < key.length) return false;
    return (recordProperty(record, KEYS_PROPERTY) ?? '').split(' ').includes(key);
  };
}

export function uniqKeyMatcher(uniqKey: string): MessageMatcher {
  return (record) => recordProperty(record, UNIQ_KEY) === uniqKey;
}

interface Found {
  queueId: number;
  records: DecodedRecord[];
}

export interface QueryLimits {
  maxNum: number;
  scanBytes: number;
  bodyBytes: number;
}

/** Scans the topic's queues; returns matches per queue (in queue order). Yields between reads. */
export async function scanTopic(state: RocketmqState, topic: Topic, match: MessageMatcher, begin: number, end: number, limits: QueryLimits): Promise<Found[]> {
  const found: Found[] = [];
  let count = 0;
  let bodyBytes = 0;
  let scannedTotal = 0;
  const perQueue = Math.max(QUERY_SCAN_BYTES_PER_QUEUE_MIN, Math.floor(limits.scanBytes / Math.max(1, topic.partitions)));
  for (let q = 0; q < topic.partitions && count < limits.maxNum && scannedTotal < limits.scanBytes; q++) {
    if (state.broker.topics.get(topic.name) !== topic) break; // deleted meanwhile
    const log = state.broker.topics.partitionLog(topic, q);
    const start = log.offsetForTimestamp(begin);
    if (start === null) continue;
    let offset = Math.max(start.offset, log.logStartOffset);
    let scanned = 0;
    const records: DecodedRecord[] = [];
    let done = false;
    while (!done && offset < log.logEndOffset && scanned < perQueue && scannedTotal < limits.scanBytes) {
      const read = state.broker.read(topic, q, offset, QUERY_READ_BYTES);
      if (read.errorCode !== 'NONE' || read.result === null || read.result.bytes.length === 0) break;
      const bytes = read.result.bytes;
      scanned += bytes.length;
      scannedTotal += bytes.length;
      forEachBatch(bytes, (pos) => {
        if (done) return;
        for (const record of readRecords(bytes, pos)) {
          if (record.offset < offset) continue;
          if (record.timestampMs > end) {
            done = true;
            return;
          }
          if (record.timestampMs < begin || !match(record)) continue;
          records.push(record);
          count++;
          bodyBytes += (record.value?.length ?? 0) + (record.key?.length ?? 0) + 128;
          if (count >= limits.maxNum || bodyBytes >= limits.bodyBytes) {
            done = true;
            return;
          }
        }
      });
      if (read.result.nextOffset <= offset) break;
      offset = read.result.nextOffset;
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    if (records.length > 0) found.push({ queueId: q, records });
    if (bodyBytes >= limits.bodyBytes) break;
  }
  return found;
}

export const queryMessage: RocketmqHandler = {
  codes: [RequestCode.QUERY_MESSAGE],
  name: 'QUERY_MESSAGE',
  async handle(ctx, request): Promise<Reply> {
    const { state } = ctx;
    const topicName = requireString(request, 'topic');
    const key = requireString(request, 'key');
    let maxNum = requireInt(request, 'maxNum');
    const begin = requireClampedLong(request, 'beginTimestamp');
    const end = requireClampedLong(request, 'endTimestamp');
    const unique = optionalString(request, UNIQUE_KEY_QUERY_FLAG) === 'true';
    if (unique) maxNum = UNIQUE_QUERY_MAX_NUM;
    maxNum = Math.min(maxNum, QUERY_MAX_NUM);
    const ext = { indexLastUpdateTimestamp: String(state.nowMs()), indexLastUpdatePhyoffset: '0' };
    const notFound: Reply = { code: ResponseCode.QUERY_NOT_FOUND, remark: 'can not find message, maybe time range not correct', extFields: ext };
    const topic = state.broker.topics.get(topicName);
    if (topic === undefined || topic.internal || maxNum <= 0 || end < begin) return notFound;
    const match = unique ? uniqKeyMatcher(optionalString(request, UNIQ_KEY) ?? key) : keyMatcher(key);
    const found = await scanTopic(state, topic, match, begin, end, { maxNum, scanBytes: QUERY_SCAN_BYTES_MAX, bodyBytes: QUERY_BODY_BYTES_MAX });
    if (found.length === 0) return notFound;
    const live = state.broker.topics.get(topicName);
    if (live !== topic) return notFound;
    return { code: ResponseCode.SUCCESS, extFields: ext, body: found.map((f) => encodeMessages(state.storeHost, topic, f.queueId, f.records)) };
  },
};
