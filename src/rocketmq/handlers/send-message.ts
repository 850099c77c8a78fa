// SEND_MESSAGE (10, long header names), SEND_MESSAGE_V2 (310, one-letter
// names) and SEND_BATCH_MESSAGE (320) — rocketmq-remoting.md §5, §6.4.
// Each message becomes one record (broker/rocketmq-mapping.ts); a batch
// becomes one record batch, so its messages get consecutive queue offsets.
// Compressed bodies are inflated once here, so Kafka consumers see the body
// as sent. The answer goes out once the batch is in the page cache (ASYNC_FLUSH
// master), or durable when the log flushes on every append (SYNC_FLUSH).
// Delayed messages (DELAY level, TIMER_* properties, __STARTDELIVERTIME) go
// to the delay service (src/delay) and reach their topic and queue when due,
// with REAL_TOPIC / REAL_QID added, as RocketMQ does (DELAY stays, as in 5.3).
// Not yet: transactional half messages are refused (NO_PERMISSION), as a Java
// broker with rejectTransactionMessage does.

import { inflateSync, zstdDecompressSync } from 'node:zlib';
import { FLAG_HEADER, KEYS_PROPERTY, RECONSUME_TIMES_HEADER } from '../../broker/rocketmq-mapping.ts';
import {
  decodeBatchBody,
  NAME_VALUE_SEPARATOR,
  Prop,
  PROPERTY_SEPARATOR,
  RemotingDecodeError,
  RequestCode,
  ResponseCode,
  SysFlag,
  type RemotingCommand,
} from '../../protocol/rocketmq/index.ts';
import { CODEC_LZ4, decompress } from '../../storage/compression.ts';
import { buildRecordBatch, type HeaderInput, type RecordInput } from '../../storage/records.ts';
import { DELAY_TOPIC } from '../../delay/log-records.ts';
import { deliverAtOf, DelayPropertyError } from '../../delay/properties.ts';
import { DelayError, type ScheduleRequest } from '../../delay/service.ts';
import type { Topic } from '../../broker/topics.ts';
import { rocketmqCode } from '../error-codes.ts';
import { messageIdOf } from '../messages.ts';
import { DLQ_PREFIX, FORBIDDEN_SEND_TOPICS, RETRY_PREFIX, rocketmqTopicNameProblem, type RocketmqState } from '../state.ts';
import { HeaderError, type Reply, type RocketmqHandler } from './types.ts';

/** SEND_MESSAGE_V2 / SEND_BATCH_MESSAGE one-letter keys → SEND_MESSAGE names. */
const V2_NAMES: Record<string, string> = {
  a: 'producerGroup',
  b: 'topic',
  c: 'defaultTopic',
  d: 'defaultTopicQueueNums',
  e: 'queueId',
  f: 'sysFlag',
  g: 'bornTimestamp',
  h: 'flag',
  i: 'properties',
  j: 'reconsumeTimes',
  k: 'unitMode',
  l: 'maxReconsumeTimes',
  m: 'batch',
};

/** Messages one batch may hold (the Java client caps a batch at 4 MiB of bodies). */
const BATCH_MESSAGES_MAX = 100_000;
/** Inflated bodies larger than this are refused (a zip bomb must not take the broker down). */
const INFLATED_BYTES_MAX = 64 * 1024 * 1024;

interface SendHeader {
  producerGroup: string;
  topic: string;
  defaultTopicQueueNums: number;
  queueId: number;
  sysFlag: number;
  bornTimestamp: number;
  flag: number;
  properties: string;
  reconsumeTimes: number;
  maxReconsumeTimes: number | undefined;
}

const V2_KEY_OF: Record<string, string> = Object.fromEntries(Object.entries(V2_NAMES).map(([short, long]) => [long, short]));

function field(request: RemotingCommand, name: string, v2: boolean): string | undefined {
  return request.extFields[v2 ? V2_KEY_OF[name]! : name];
}

function required(request: RemotingCommand, name: string, v2: boolean): string {
  const v = field(request, name, v2);
  if (v === undefined) throw new HeaderError(`the custom field <${name}> is null`);
  return v;
}

function integer(text: string | undefined, name: string, fallback?: number): number {
  if (text === undefined) {
    if (fallback === undefined) throw new HeaderError(`the custom field <${name}> is null`);
    return fallback;
  }
  const n = Number(text);
  if (text.trim() === '' || !Number.isSafeInteger(n)) throw new HeaderError(`the custom field <${name}> is not a number: ${JSON.stringify(text)}`);
  return n;
}

function readHeader(request: RemotingCommand): SendHeader {
  const v2 = request.code !== RequestCode.SEND_MESSAGE;
  const maxReconsume = field(request, 'maxReconsumeTimes', v2);
  return {
    producerGroup: required(request, 'producerGroup', v2),
    topic: required(request, 'topic', v2),
    defaultTopicQueueNums: integer(field(request, 'defaultTopicQueueNums', v2), 'defaultTopicQueueNums', 4),
    queueId: integer(required(request, 'queueId', v2), 'queueId'),
    sysFlag: integer(field(request, 'sysFlag', v2), 'sysFlag', 0),
    bornTimestamp: integer(field(request, 'bornTimestamp', v2), 'bornTimestamp', Date.now()),
    flag: integer(field(request, 'flag', v2), 'flag', 0),
    properties: field(request, 'properties', v2) ?? '',
    reconsumeTimes: integer(field(request, 'reconsumeTimes', v2), 'reconsumeTimes', 0),
    maxReconsumeTimes: maxReconsume === undefined ? undefined : integer(maxReconsume, 'maxReconsumeTimes'),
  };
}

function inflateBody(body: Buffer, sysFlag: number): Buffer {
  if ((sysFlag & SysFlag.COMPRESSED) === 0) return body;
  const type = sysFlag & SysFlag.COMPRESSION_TYPE_MASK;
  try {
    if (type === SysFlag.COMPRESSION_LZ4) return decompress(CODEC_LZ4, body);
    if (type === SysFlag.COMPRESSION_ZSTD) return zstdDecompressSync(body, { maxOutputLength: INFLATED_BYTES_MAX });
    return inflateSync(body, { maxOutputLength: INFLATED_BYTES_MAX }); // ZLIB, or 0 from clients before 5.x
  } catch (err) {
    throw new RemotingDecodeError(`compressed message body does not inflate: ${(err as Error).message}`);
  }
}

let uniqCounter = 0;
const uniqPrefix = (() => {
  const b = Buffer.alloc(10);
  b.writeUInt32BE((Math.random() * 2 ** 32) >>> 0, 0);
  b.writeUInt16BE(process.pid & 0xffff, 4);
  b.writeUInt32BE((Math.random() * 2 ** 32) >>> 0, 6);
  return b.toString('hex').toUpperCase();
})();

/** A UNIQ_KEY for a message that came without one (the Java broker sets one too). */
export function generateUniqKey(nowMs: number): string {
  const now = new Date(nowMs);
  const monthStart = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1);
  const b = Buffer.alloc(6);
  b.writeUInt32BE((nowMs - monthStart) >>> 0, 0);
  b.writeUInt16BE(uniqCounter++ & 0xffff, 4);
  return uniqPrefix + b.toString('hex').toUpperCase();
}

/**
 * A sent message as it is stored (broker/rocketmq-mapping.ts: KEYS is the record key, every
 * other property a header), with the broker's UNIQ_KEY (when the producer set none) and
 * CLUSTER. Properties are read straight into headers: the order is a Map's (a repeated
 * name keeps its first place and takes its last value), as the Java broker's decoding gives.
 */
interface SentMessage {
  body: Buffer;
  key: Buffer | null;
  /** Properties other than KEYS, values as strings. */
  headers: HeaderInput[];
  uniqKey: string;
  flag: number;
  bornTimestampMs: number;
  reconsumeTimes: number;
  /** A property names a delivery time (DELAY, TIMER_*, __STARTDELIVERTIME): deliverAtOf decides. */
  delayNamed: boolean;
  /** TRAN_MSG=true: a transactional half message. */
  transactional: boolean;
}

function sentMessage(state: RocketmqState, raw: string, body: Buffer, flag: number, bornTimestampMs: number, reconsumeTimes: number): SentMessage {
  const headers: HeaderInput[] = [];
  let index: Map<string, number> | null = null;
  let keys: string | undefined;
  let delayNamed = false;
  // rocketmq-remoting.md §6.3: split on 0x02, then on the first 0x01; pieces too short for a pair are skipped.
  let start = 0;
  while (start < raw.length) {
    let end = raw.indexOf(PROPERTY_SEPARATOR, start);
    if (end < 0) end = raw.length;
    const sep = raw.indexOf(NAME_VALUE_SEPARATOR, start);
    if (sep >= 0 && sep < end && end - start >= 2) {
      const name = raw.slice(start, sep);
      const value = raw.slice(sep + 1, end);
      if (name === KEYS_PROPERTY) keys = value;
      else {
        index = setHeader(headers, index, name, value);
        if (name === Prop.DELAY || name.startsWith('TIMER_') || name === Prop.START_DELIVER_TIME) delayNamed = true;
      }
    }
    start = end + 1;
  }
  let uniqKey = headerValue(headers, Prop.UNIQ_KEY);
  if (uniqKey === undefined) {
    uniqKey = generateUniqKey(state.nowMs());
    index = setHeader(headers, index, Prop.UNIQ_KEY, uniqKey);
  }
  setHeader(headers, index, Prop.CLUSTER, state.clusterName);
  return {
    body,
    key: keys === undefined ? null : Buffer.from(keys, 'utf8'),
    headers,
    uniqKey,
    flag,
    bornTimestampMs,
    reconsumeTimes,
    delayNamed,
    transactional: headerValue(headers, Prop.TRAN_MSG) === 'true',
  };
}

/** Up to this many headers a repeated name is found by a scan; past it by a Map (a hostile message may hold millions). */
const HEADER_SCAN_MAX = 16;

/**
 * Sets a header as Map.set would: a name already there keeps its place and takes the value.
 * Returns the name index to pass next time (null while the headers are few).
 */
function setHeader(headers: HeaderInput[], index: Map<string, number> | null, name: string, value: string): Map<string, number> | null {
  if (index !== null) {
    const at = index.get(name);
    if (at !== undefined) headers[at] = { key: name, value };
    else {
      index.set(name, headers.length);
      headers.push({ key: name, value });
    }
    return index;
  }
  for (let i = 0; i < headers.length; i++) {
    if (headers[i]!.key === name) {
      headers[i] = { key: name, value };
      return null;
    }
  }
  headers.push({ key: name, value });
  if (headers.length < HEADER_SCAN_MAX) return null;
  const built = new Map<string, number>();
  for (let i = 0; i < headers.length; i++) built.set(headers[i]!.key, i);
  return built;
}

/** A header's value (a few lookups per message: a scan even when there are many). */
function headerValue(headers: readonly HeaderInput[], name: string): string | undefined {
  for (let i = 0; i < headers.length; i++) if (headers[i]!.key === name) return headers[i]!.value as string;
  return undefined;
}

/** The record of a message: its headers, then the fields a Kafka record has no place for (when not the default). */
function sentRecord(m: SentMessage, headers: HeaderInput[]): RecordInput {
  if (m.flag !== 0) headers.push({ key: FLAG_HEADER, value: String(m.flag) });
  if (m.reconsumeTimes !== 0) headers.push({ key: RECONSUME_TIMES_HEADER, value: String(m.reconsumeTimes) });
  return { key: m.key, value: m.body, headers, timestampMs: m.bornTimestampMs };
}

function illegal(remark: string, code: number = ResponseCode.MESSAGE_ILLEGAL): Reply {
  return { code, remark };
}

/**
 * Answers a send. Synchronous when the topic exists (the common case: no
 * promise per message); a Promise when it must be created first or the log
 * flushes on every append.
 */
export function sendMessages(state: RocketmqState, request: RemotingCommand): Reply | Promise<Reply> {
  const header = readHeader(request);
  const batch = request.code === RequestCode.SEND_BATCH_MESSAGE;
  let topicName = header.topic;
  const nameProblem = rocketmqTopicNameProblem(topicName);
  if (nameProblem !== null) return illegal(`topic[${topicName}] is not legal: ${nameProblem}`, ResponseCode.INVALID_PARAMETER);
  if (FORBIDDEN_SEND_TOPICS.has(topicName) || topicName.startsWith('__')) {
    return illegal(`Sending message to topic[${topicName}] is forbidden.`, ResponseCode.NO_PERMISSION);
  }
  if ((header.sysFlag & SysFlag.TRANSACTION_PREPARED) !== 0) {
    return illegal(`the broker[${state.brokerName}] sending transaction message is forbidden (transactional messages are not supported yet)`, ResponseCode.NO_PERMISSION);
  }
  let queues = header.defaultTopicQueueNums;
  let queueId = header.queueId;
  if (topicName.startsWith(RETRY_PREFIX)) {
    if (batch) return illegal('batch messages to retry topics are not supported');
    const group = topicName.slice(RETRY_PREFIX.length);
    const max = header.maxReconsumeTimes ?? state.subscriptionGroup(group).retryMaxTimes;
    if (header.reconsumeTimes > max) {
      topicName = DLQ_PREFIX + group;
      queueId = 0;
    }
    queues = 1;
  }
  const existing = state.broker.topics.get(topicName);
  if (existing !== undefined) return store(state, request, header, existing, queueId);
  // Retry and dead-letter topics are the broker's own: created even when automatic topic creation is off.
  const systemTopic = topicName.startsWith(RETRY_PREFIX) || topicName.startsWith(DLQ_PREFIX);
  return state.ensureTopic(topicName, Math.min(Math.max(queues, 1), state.defaultQueues), systemTopic).then((topic) => {
    if (topic === undefined) return illegal(`topic[${topicName}] not exist, apply first please! (automatic topic creation is off)`, ResponseCode.TOPIC_NOT_EXIST);
    return store(state, request, header, topic, queueId);
  });
}

function store(state: RocketmqState, request: RemotingCommand, header: SendHeader, topic: Topic, requestedQueueId: number): Reply | Promise<Reply> {
  if (topic.internal) return illegal(`Sending message to topic[${topic.name}] is forbidden.`, ResponseCode.NO_PERMISSION);
  const queueId = requestedQueueId < 0 ? Math.floor(Math.random() * topic.partitions) : requestedQueueId;
  if (queueId >= topic.partitions) {
    return illegal(`request queueId[${queueId}] is illegal, topic: ${topic.name} has ${topic.partitions} queues`, ResponseCode.INVALID_PARAMETER);
  }
  const messages: SentMessage[] = [];
  if (request.code === RequestCode.SEND_BATCH_MESSAGE) {
    const entries = decodeBatchBody(request.body, BATCH_MESSAGES_MAX);
    if (entries.length === 0) return illegal('the batch holds no message');
    for (const e of entries) messages.push(sentMessage(state, e.properties, e.body, e.flag, header.bornTimestamp, header.reconsumeTimes));
  } else {
    const body = inflateBody(request.body, header.sysFlag);
    const message = sentMessage(state, header.properties, body, header.flag, header.bornTimestamp, header.reconsumeTimes);
    if (message.transactional) {
      return illegal(`the broker[${state.brokerName}] sending transaction message is forbidden (transactional messages are not supported yet)`, ResponseCode.NO_PERMISSION);
    }
    messages.push(message);
  }
  const delayed = delayedMessages(state, topic, queueId, messages);
  if (delayed !== null) return delayed;
  const records: RecordInput[] = [];
  for (const m of messages) records.push(sentRecord(m, m.headers));
  const outcome = state.broker.appendBatch(topic, queueId, buildRecordBatch(records));
  if (outcome.errorCode !== 'NONE') return illegal(outcome.errorMessage ?? outcome.errorCode, rocketmqCode(outcome.errorCode));
  let ids = messageIdOf(state.storeHost, topic, queueId, outcome.baseOffset);
  for (let i = 1; i < messages.length; i++) ids += ',' + messageIdOf(state.storeHost, topic, queueId, outcome.baseOffset + i);
  const uniqKey = messages[0]!.uniqKey;
  const reply: Reply = {
    code: ResponseCode.SUCCESS,
    extFields: {
      msgId: ids,
      queueId: String(queueId),
      queueOffset: String(outcome.baseOffset),
      transactionId: uniqKey,
      MSG_REGION: 'DefaultRegion',
      TRACE_ON: 'true',
    },
  };
  // SYNC_FLUSH equivalent: answer once durable. Otherwise the connection answers
  // after the batch reached the page cache (it commits staged appends first).
  if (outcome.log !== null && state.broker.logManager.config.flushMode === 'always') return outcome.log.durable(outcome.nextOffset).then(() => reply);
  return reply;
}

/**
 * Holds the messages in the delay service when any of them asks for a later
 * delivery (a batch is held as a whole: its messages keep one queue); null
 * when none does. The answer names the `__delay` offsets: the queue offset is
 * only known at delivery, as with the Java broker's SCHEDULE_TOPIC_XXXX.
 */
function delayedMessages(state: RocketmqState, topic: Topic, queueId: number, messages: SentMessage[]): Reply | Promise<Reply> | null {
  const now = state.nowMs();
  let requests: ScheduleRequest[] | null = null;
  try {
    for (let i = 0; i < messages.length; i++) {
      const m = messages[i]!;
      // Most messages name none of the delay properties: sentMessage noted whether any does.
      const at = m.delayNamed ? deliverAtOf((name) => headerValue(m.headers, name), now, state.broker.delayLevelsMs) : null;
      if (at === null && requests === null) continue;
      if (requests === null) {
        requests = [];
        for (let j = 0; j < i; j++) requests.push(scheduleRequest(topic, queueId, messages[j]!, now));
      }
      requests.push(scheduleRequest(topic, queueId, m, at ?? now));
    }
  } catch (err) {
    if (err instanceof DelayPropertyError) return illegal(err.message);
    throw err;
  }
  if (requests === null) return null;
  let scheduled: { ids: number[]; durable: () => Promise<void> };
  try {
    scheduled = state.broker.delays.schedule(requests);
  } catch (err) {
    if (err instanceof DelayError) return illegal(`timer message illegal: ${err.message}`);
    throw err;
  }
  const delayTopic = state.broker.topics.get(DELAY_TOPIC)!;
  const uniqKey = messages[0]!.uniqKey;
  const reply: Reply = {
    code: ResponseCode.SUCCESS,
    extFields: {
      msgId: scheduled.ids.map((id) => messageIdOf(state.storeHost, delayTopic, 0, id)).join(','),
      queueId: String(queueId),
      queueOffset: String(scheduled.ids[0]!),
      transactionId: uniqKey,
      MSG_REGION: 'DefaultRegion',
      TRACE_ON: 'true',
    },
  };
  if (state.broker.logManager.config.flushMode === 'always') return scheduled.durable().then(() => reply);
  return reply;
}

function scheduleRequest(topic: Topic, queueId: number, message: SentMessage, deliverAtMs: number): ScheduleRequest {
  // DELAY stays on the delivered message, as Apache RocketMQ 5.3 leaves it (a consumer that re-sends it delays it again).
  const headers: HeaderInput[] = [];
  for (const h of message.headers) if (h.key !== Prop.REAL_TOPIC && h.key !== Prop.REAL_QID) headers.push(h);
  headers.push({ key: Prop.REAL_TOPIC, value: topic.name }, { key: Prop.REAL_QID, value: String(queueId) });
  const record = sentRecord(message, headers);
  return { topic: topic.name, partition: queueId, key: record.key, value: record.value, headers, timestampMs: record.timestampMs, deliverAtMs, repeat: null };
}

export const sendMessage: RocketmqHandler = {
  codes: [RequestCode.SEND_MESSAGE, RequestCode.SEND_MESSAGE_V2, RequestCode.SEND_BATCH_MESSAGE],
  name: 'SEND_MESSAGE',
  handle(ctx, request) {
    const onError = (err: unknown): Reply => {
      if (err instanceof RemotingDecodeError) return illegal(err.message);
      throw err;
    };
    try {
      const result = sendMessages(ctx.state, request);
      return result instanceof Promise ? result.catch(onError) : result;
    } catch (err) {
      return onError(err);
    }
  },
};
