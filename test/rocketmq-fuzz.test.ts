// Fuzz: random and mutated frames through the RocketMQ remoting connection —
// framing, JSON and ROCKETMQ binary headers, bodies, and the handlers on a real
// broker (over the in-memory FileIO, so nothing touches the disk). Nothing may
// throw out of the connection, hang, or grow memory without bound; a malformed
// frame closes its connection and nothing else does; every other request is
// answered exactly once (oneway ones never); unknown codes get
// REQUEST_CODE_NOT_SUPPORTED; messages stored before the fuzz read back
// byte-identical, and a fresh connection can still send and pull afterwards.
//
// ROCKETMQ_FUZZ_FRAMES sets the count (default 1,000,000; `npm test` runs it),
// ROCKETMQ_FUZZ_SEED the PRNG seed.
//
// Side effects. Codes whose valid requests legally do something large (create
// topics with thousands of queues, delete topics, take the write permission,
// change the broker config: SIDE_EFFECT_CODES) stay out of the corpus, and a
// mutation that lands on one is not fed. Every other served code is in it. What
// could still explode is the topic count: a send auto-creates its topic, a
// heartbeat creates `%RETRY%<group>` and a send-back `%RETRY%`/`%DLQ%<group>`.
// Byte-level mutations may still hit those names — that is part of what is
// fuzzed — but only a few bytes of each frame are a name, so they create at
// most a few thousand topics; the structured mutations (which reach the
// handlers far more often) put only names from a fixed list into the
// topic-naming fields (send topic, send-back group, heartbeat group). The test
// asserts the topic count stays bounded.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import { deflateSync } from 'node:zlib';
import { LogManager } from '../src/storage/log-manager.ts';
import { MemoryFileIO, mulberry32 } from '../src/storage/memory-file-io.ts';
import { Broker } from '../src/broker/broker.ts';
import { BufferPool } from '../src/storage/buffer-pool.ts';
import { createLogger } from '../src/logger.ts';
import { RocketmqConnection } from '../src/rocketmq/connection.ts';
import { buildHandlerTable } from '../src/rocketmq/handlers/index.ts';
import { RocketmqState } from '../src/rocketmq/state.ts';
import {
  decodeCommand,
  decodeStoredMessages,
  encodeBatchBody,
  encodeBinaryCommand,
  encodeJsonRequest,
  encodeProperties,
  FLAG_ONEWAY,
  FLAG_RESPONSE,
  packedOffsetString,
  RemotingDecodeError,
  RequestCode,
  ResponseCode,
  socketAddressBytes,
  type RemotingCommand,
} from '../src/protocol/rocketmq/index.ts';

const FRAMES = Number(process.env.ROCKETMQ_FUZZ_FRAMES ?? 1_000_000);
/** Another seed explores other frames (CI runs the default one). */
const SEED = Number(process.env.ROCKETMQ_FUZZ_SEED ?? 20261125);
if (!Number.isSafeInteger(SEED)) throw new Error(`ROCKETMQ_FUZZ_SEED=${JSON.stringify(process.env.ROCKETMQ_FUZZ_SEED)}: expected an integer`);
/** The rocketmqFrameBytesMax default (RocketMQ's frameMaxLength). */
const FRAME_BYTES_MAX = 16 * 1024 * 1024;
const TOPICS_MAX = 5_000;
const T = 'FuzzT';
const GOLDEN = 'GoldenT';

/**
 * A socket stand-in. Written bytes are parsed back into commands as they come
 * (the connection corks until the next tick, so one cork holds many answers):
 * `onHead` gets each command's size prefix and header (the body is skipped),
 * `onCommand`, when set, each whole command.
 */
class FakeSocket extends EventEmitter {
  remoteAddress = '127.0.0.1';
  remotePort = 40000;
  writableLength = 0;
  destroyed = false;
  onHead: (head: Buffer) => void = () => {};
  onCommand: ((frame: Buffer) => void) | null = null;
  #pieces: Buffer[] = [];
  #have = 0;
  #need = 8;
  #skip = 0;
  setNoDelay(): this {
    return this;
  }
  pause(): this {
    return this;
  }
  resume(): this {
    return this;
  }
  cork(): void {}
  uncork(): void {}
  write(chunk: Buffer): boolean {
    if (this.onCommand !== null) return this.#whole(chunk);
    let pos = 0;
    while (pos < chunk.length) {
      if (this.#skip > 0) {
        const n = Math.min(this.#skip, chunk.length - pos);
        this.#skip -= n;
        pos += n;
        continue;
      }
      const n = Math.min(this.#need - this.#have, chunk.length - pos);
      this.#pieces.push(chunk.subarray(pos, pos + n));
      this.#have += n;
      pos += n;
      if (this.#have < this.#need) break;
      const head = this.#pieces.length === 1 ? this.#pieces[0]! : Buffer.concat(this.#pieces);
      if (this.#need === 8) {
        this.#need = 8 + (head.readInt32BE(4) & 0xffffff);
        this.#pieces = [head];
        continue;
      }
      this.#skip = head.readInt32BE(0) + 4 - head.length;
      this.#pieces = [];
      this.#have = 0;
      this.#need = 8;
      this.onHead(head);
    }
    return true;
  }
  #whole(chunk: Buffer): boolean {
    this.#pieces.push(Buffer.from(chunk));
    let all = Buffer.concat(this.#pieces);
    while (all.length >= 4 && all.length >= 4 + all.readInt32BE(0)) {
      const size = all.readInt32BE(0);
      this.onCommand!(all.subarray(4, 4 + size));
      all = all.subarray(4 + size);
    }
    this.#pieces = all.length > 0 ? [all] : [];
    return true;
  }
  destroy(): this {
    if (!this.destroyed) {
      this.destroyed = true;
      queueMicrotask(() => this.emit('close'));
    }
    return this;
  }
}

/**
 * The header of a command the server wrote (it always answers in JSON, keys in
 * a fixed order, so code, flag and opaque are read without parsing; the remark
 * only when the answer is SYSTEM_ERROR).
 */
function headerOf(head: Buffer): { code: number; flag: number; opaque: number; remark?: string } {
  const mark = head.readInt32BE(4);
  assert.equal(mark >>> 24, 0, 'the server answers with JSON headers');
  const text = head.toString('utf8', 8, 8 + (mark & 0xffffff));
  const code = Number(/^\{"code":(-?\d+)/.exec(text)?.[1]);
  if (code === ResponseCode.SYSTEM_ERROR) return JSON.parse(text);
  // Values are JSON-escaped strings, so `"flag":` and `"opaque":` can only be the keys.
  return { code, flag: Number(/"flag":(-?\d+)/.exec(text)![1]), opaque: Number(/"opaque":(-?\d+)/.exec(text)![1]) };
}

interface Spec {
  code: number;
  ext: Record<string, string>;
  body?: Buffer;
  /** JSON body (heartbeat, locks, client config): structured mutations edit it. */
  json?: unknown;
  flag?: number;
  /**
   * Listings whose cost grows with everything the fuzz has created (every group × topic × queue): seeded an
   * eighth as often as the rest, or they alone would make the run's cost grow with the square of its length.
   */
  heavy?: boolean;
}

interface Seed {
  spec: Spec;
  binary: boolean;
  opaque: number;
  frame: Buffer;
}

function encode(spec: Spec, binary: boolean, opaque: number): Buffer {
  const body = spec.json !== undefined ? Buffer.from(JSON.stringify(spec.json)) : (spec.body ?? null);
  const command = { code: spec.code, opaque, flag: spec.flag ?? 0, extFields: spec.ext, body };
  return binary ? encodeBinaryCommand(command) : encodeJsonRequest(command);
}

const props = (entries: Record<string, string>): string => encodeProperties(Object.entries(entries));

function sendV2Ext(topic: string, queueId: number, properties: Record<string, string>, extra: Record<string, string> = {}): Record<string, string> {
  return { a: 'pg', b: topic, c: 'TBW102', d: '4', e: String(queueId), f: '0', g: '1700000000000', h: '0', i: props(properties), j: '0', k: 'false', m: 'false', ...extra };
}

function pullExt(extra: Record<string, string> = {}): Record<string, string> {
  return {
    consumerGroup: 'fg',
    topic: T,
    queueId: '0',
    queueOffset: '0',
    maxMsgNums: '32',
    sysFlag: '4',
    commitOffset: '0',
    suspendTimeoutMillis: '0',
    subscription: 'TagA || TagB',
    subVersion: '0',
    expressionType: 'TAG',
    ...extra,
  };
}

const HEARTBEAT = {
  clientID: 'fuzz-client',
  consumerDataSet: [
    {
      groupName: 'fg',
      consumeType: 'CONSUME_PASSIVELY',
      messageModel: 'CLUSTERING',
      consumeFromWhere: 'CONSUME_FROM_FIRST_OFFSET',
      subscriptionDataSet: [
        { topic: T, subString: 'TagA', expressionType: 'TAG', subVersion: 1, tagsSet: ['TagA'], codeSet: [] },
        { topic: '%RETRY%fg', subString: '*', expressionType: 'TAG', subVersion: 1, tagsSet: [], codeSet: [] },
        { topic: GOLDEN, subString: "color = 'red' AND n BETWEEN 1 AND 5", expressionType: 'SQL92', subVersion: 1 },
      ],
      unitMode: false,
    },
  ],
  producerDataSet: [{ groupName: 'pg' }],
};

/** Valid requests for every served code (and a few not served), the seeds mutations start from. */
function seedSpecs(packed: string, msgId: string): Spec[] {
  const mq = [
    { topic: T, brokerName: 'broker-a', queueId: 0 },
    { topic: T, brokerName: 'broker-a', queueId: 1 },
  ];
  const big = Buffer.alloc(6000, 0x61); // over 4 KiB: the onRead path assembles it in a pooled slab
  return [
    // name server
    { code: RequestCode.GET_ROUTEINFO_BY_TOPIC, ext: { topic: T } },
    { code: RequestCode.GET_ROUTEINFO_BY_TOPIC, ext: { topic: 'TBW102' } },
    { code: RequestCode.GET_BROKER_CLUSTER_INFO, ext: {} },
    { code: RequestCode.GET_ALL_TOPIC_LIST_FROM_NAMESERVER, ext: {} },
    { code: RequestCode.GET_TOPICS_BY_CLUSTER, ext: { cluster: 'DefaultCluster' } },
    { code: RequestCode.GET_SYSTEM_TOPIC_LIST_FROM_NS, ext: {} },
    { code: RequestCode.GET_SYSTEM_TOPIC_LIST_FROM_BROKER, ext: {} },
    { code: RequestCode.PUT_KV_CONFIG, ext: { namespace: 'ORDER_TOPIC_CONFIG', key: T, value: 'broker-a:4' } },
    { code: RequestCode.GET_KV_CONFIG, ext: { namespace: 'ORDER_TOPIC_CONFIG', key: T } },
    { code: RequestCode.DELETE_KV_CONFIG, ext: { namespace: 'fuzzns', key: 'k' } },
    { code: RequestCode.GET_KVLIST_BY_NAMESPACE, ext: { namespace: 'ORDER_TOPIC_CONFIG' } },
    // send
    {
      code: RequestCode.SEND_MESSAGE,
      ext: { producerGroup: 'pg', topic: T, defaultTopic: 'TBW102', defaultTopicQueueNums: '4', queueId: '0', sysFlag: '0', bornTimestamp: '1700000000000', flag: '7', properties: props({ TAGS: 'TagA', KEYS: 'k1 k2' }), reconsumeTimes: '0', unitMode: 'false' },
      body: Buffer.from('hello v1'),
    },
    { code: RequestCode.SEND_MESSAGE_V2, ext: sendV2Ext(T, 1, { TAGS: 'TagB', color: 'red', n: '3', UNIQ_KEY: 'AC1100000000000000000000000000AA' }), body: Buffer.from('hello v2') },
    { code: RequestCode.SEND_MESSAGE_V2, ext: sendV2Ext(T, -1, { TAGS: 'TagA' }), body: big },
    { code: RequestCode.SEND_MESSAGE_V2, ext: sendV2Ext(T, 2, { TAGS: 'TagZ' }, { f: '1' }), body: deflateSync(Buffer.from('compressed '.repeat(40))) },
    { code: RequestCode.SEND_MESSAGE_V2, ext: sendV2Ext('%RETRY%fg', 0, { TAGS: 'TagA', RETRY_TOPIC: T }, { j: '1', l: '2' }), body: Buffer.from('retry') },
    {
      code: RequestCode.SEND_BATCH_MESSAGE,
      ext: sendV2Ext(T, 0, {}, { m: 'true' }),
      body: encodeBatchBody([
        { body: Buffer.from('b1'), properties: props({ KEYS: 'kb1', TAGS: 'TagA' }) },
        { body: Buffer.from('b2'), properties: props({ KEYS: 'kb2' }), flag: 3 },
        { body: Buffer.from('b3'), properties: '' },
      ]),
    },
    // pull
    { code: RequestCode.PULL_MESSAGE, ext: pullExt() },
    { code: RequestCode.PULL_MESSAGE, ext: pullExt({ queueId: '1', subscription: "color = 'red' AND n > 2", expressionType: 'SQL92' }) },
    { code: RequestCode.PULL_MESSAGE, ext: pullExt({ sysFlag: '1', commitOffset: '1', subscription: '', expressionType: '' }) },
    { code: RequestCode.PULL_MESSAGE, ext: pullExt({ queueId: '3', sysFlag: '6', suspendTimeoutMillis: '20' }) },
    { code: RequestCode.PULL_MESSAGE, ext: pullExt({ topic: '%RETRY%fg', subscription: '*' }) },
    { code: RequestCode.LITE_PULL_MESSAGE, ext: pullExt({ sysFlag: '20', maxMsgBytes: '100' }) },
    // clients
    { code: RequestCode.HEART_BEAT, ext: {}, json: HEARTBEAT },
    { code: RequestCode.UNREGISTER_CLIENT, ext: { clientID: 'fuzz-client', producerGroup: 'pg', consumerGroup: 'fg2' } },
    { code: RequestCode.GET_CONSUMER_LIST_BY_GROUP, ext: { consumerGroup: 'fg' } },
    { code: RequestCode.CHECK_CLIENT_CONFIG, ext: {}, json: { producerGroup: 'fg', subscriptionData: { topic: T, expressionType: 'SQL92', subString: 'a > 1 AND b IS NOT NULL' } } },
    // offsets
    { code: RequestCode.QUERY_CONSUMER_OFFSET, ext: { consumerGroup: 'fg', topic: T, queueId: '0', setZeroIfNotFound: 'false' } },
    { code: RequestCode.UPDATE_CONSUMER_OFFSET, ext: { consumerGroup: 'fg', topic: T, queueId: '0', commitOffset: '1' } },
    { code: RequestCode.GET_MAX_OFFSET, ext: { topic: T, queueId: '0' } },
    { code: RequestCode.GET_MIN_OFFSET, ext: { topic: T, queueId: '1' } },
    { code: RequestCode.SEARCH_OFFSET_BY_TIMESTAMP, ext: { topic: T, queueId: '0', timestamp: '1700000000000', boundaryType: 'upper' } },
    { code: RequestCode.GET_EARLIEST_MSG_STORETIME, ext: { topic: T, queueId: '0' } },
    // locks
    { code: RequestCode.LOCK_BATCH_MQ, ext: {}, json: { consumerGroup: 'fg', clientId: 'fuzz-client', mqSet: mq } },
    { code: RequestCode.UNLOCK_BATCH_MQ, ext: {}, json: { consumerGroup: 'fg', clientId: 'fuzz-client', mqSet: mq } },
    // send-back and view
    { code: RequestCode.CONSUMER_SEND_MSG_BACK, ext: { offset: packed, group: 'fg', delayLevel: '0', originMsgId: msgId, originTopic: T, maxReconsumeTimes: '2' } },
    { code: RequestCode.VIEW_MESSAGE_BY_ID, ext: { offset: packed } },
    // admin
    { code: RequestCode.QUERY_MESSAGE, ext: { topic: T, key: 'k1', maxNum: '32', beginTimestamp: '0', endTimestamp: '9223372036854775807' }, heavy: true },
    { code: RequestCode.QUERY_MESSAGE, ext: { topic: T, key: 'AC1100000000000000000000000000AA', maxNum: '32', beginTimestamp: '0', endTimestamp: '9223372036854775807', _UNIQUE_KEY_QUERY: 'true' }, heavy: true },
    { code: RequestCode.GET_ALL_TOPIC_CONFIG, ext: {}, heavy: true },
    { code: RequestCode.GET_TOPIC_CONFIG, ext: { topic: T } },
    { code: RequestCode.GET_TOPIC_STATS_INFO, ext: { topic: T } },
    { code: RequestCode.GET_CONSUME_STATS, ext: { consumerGroup: 'fg', topic: T } },
    { code: RequestCode.GET_BROKER_CONSUME_STATS, ext: { isOrder: 'false' }, heavy: true },
    { code: RequestCode.GET_CONSUMER_CONNECTION_LIST, ext: { consumerGroup: 'fg' } },
    { code: RequestCode.GET_PRODUCER_CONNECTION_LIST, ext: { producerGroup: 'pg' } },
    { code: RequestCode.UPDATE_AND_CREATE_SUBSCRIPTIONGROUP, ext: {}, json: { groupName: 'fg3', consumeEnable: true, consumeBroadcastEnable: true, retryQueueNums: 1, retryMaxTimes: 16, brokerId: 0, whichBrokerWhenConsumeSlowly: 1 } },
    { code: RequestCode.GET_ALL_SUBSCRIPTIONGROUP_CONFIG, ext: {}, heavy: true },
    { code: RequestCode.GET_SUBSCRIPTIONGROUP_CONFIG, ext: { group: 'fg' } },
    { code: RequestCode.DELETE_SUBSCRIPTIONGROUP, ext: { groupName: 'fg3', cleanOffset: 'false' } },
    { code: RequestCode.QUERY_TOPIC_CONSUME_BY_WHO, ext: { topic: T } },
    { code: RequestCode.QUERY_TOPICS_BY_CONSUMER, ext: { group: 'fg' } },
    { code: RequestCode.INVOKE_BROKER_TO_RESET_OFFSET, ext: { topic: T, group: 'fg2', timestamp: '0', isForce: 'true' } },
    { code: RequestCode.GET_BROKER_RUNTIME_INFO, ext: {} },
    { code: RequestCode.GET_BROKER_CONFIG, ext: {} },
    // not served, oneway, and a stray response
    { code: RequestCode.UPDATE_AND_CREATE_TOPIC, ext: { topic: 'NotCreated', readQueueNums: '100000', writeQueueNums: '100000' } },
    { code: 9999, ext: {} },
    { code: RequestCode.HEART_BEAT, ext: {}, json: HEARTBEAT, flag: FLAG_ONEWAY },
    { code: RequestCode.SEND_MESSAGE_V2, ext: sendV2Ext(T, 1, { TAGS: 'TagA' }), body: Buffer.from('oneway'), flag: FLAG_ONEWAY },
    { code: RequestCode.NOTIFY_CONSUMER_IDS_CHANGED, ext: { consumerGroup: 'fg' }, flag: FLAG_ONEWAY },
    { code: RequestCode.GET_CONSUMER_RUNNING_INFO, ext: {}, flag: FLAG_RESPONSE, body: Buffer.from('{}') },
  ];
}

// ---------------------------------------------------------------------------
// Mutations

/** Header values that probe the typed readers: empty, signs, ranges, overflow, non-numbers, filter syntax. */
const JUNK = [
  '', ' ', '-1', '0', '1', '7', '4096', '2147483647', '2147483648', '-2147483649', '9007199254740993', '-9223372036854775808', '1e3', '1.5', ' 1', '0x10',
  'NaN', 'Infinity', 'true', 'abc', '\u0000', '\u0001\u0002', 'a\u0001b\u0002c\u0001', 'TRAN_MSG\u0001true\u0002', '*', '||', 'TagA ||', 'a >', "a = 'x", 'SQL92',
  'TAG', '%RETRY%', '%DLQ%fg', '__consumer_offsets', 'SCHEDULE_TOPIC_XXXX', 'TBW102', 'bad topic!', 'x'.repeat(300), '\ud800', '🙂',
];
/** Fixed names for the fields that name topics (see the header comment). */
const NAMES = ['', 'fg', 'fg2', T, 'FuzzT2', '%RETRY%fg', '%DLQ%fg', 'bad topic!', '__consumer_offsets', 'SCHEDULE_TOPIC_XXXX', 'TBW102', 'x'.repeat(200)];
const TOPIC_NAMING = new Map<number, Set<string>>([
  [RequestCode.SEND_MESSAGE, new Set(['topic'])],
  [RequestCode.SEND_MESSAGE_V2, new Set(['b'])],
  [RequestCode.SEND_BATCH_MESSAGE, new Set(['b'])],
  [RequestCode.CONSUMER_SEND_MSG_BACK, new Set(['group'])],
]);
/**
 * Codes whose valid requests legally do something large — create topics with
 * thousands of queues, delete topics, take the broker's write permission, change
 * its config. None is served today; should one be, it stays out of the corpus
 * and a mutation that lands on it is not fed.
 */
const SIDE_EFFECT_CODES = new Set<number>([
  RequestCode.UPDATE_AND_CREATE_TOPIC,
  RequestCode.UPDATE_AND_CREATE_TOPIC_LIST,
  RequestCode.UPDATE_BROKER_CONFIG,
  RequestCode.WIPE_WRITE_PERM_OF_BROKER,
  RequestCode.ADD_WRITE_PERM_OF_BROKER,
  RequestCode.DELETE_TOPIC_IN_BROKER,
  RequestCode.DELETE_TOPIC_IN_NAMESRV,
]);
const SERVED: number[] = [...buildHandlerTable().keys()].filter((code) => !SIDE_EFFECT_CODES.has(code));
/** Fields for a served code this file has no request for yet (added after it was written): the common names. */
const GENERIC_EXT: Record<string, string> = { topic: T, consumerGroup: 'fg', group: 'fg', queueId: '0', clientId: 'fuzz-client', timestamp: '0', cluster: 'DefaultCluster', brokerName: 'broker-a', namespace: 'ns', key: 'k' };

function pick<T>(list: readonly T[], rng: () => number): T {
  return list[Math.floor(rng() * list.length)]!;
}

function junkValue(rng: () => number, nameLike: boolean): string {
  if (nameLike) return pick(NAMES, rng);
  const r = rng();
  if (r < 0.7) return pick(JUNK, rng);
  if (r < 0.85) return String(Math.floor(rng() * 2 ** 32) - 2 ** 31);
  return String(Math.floor((rng() - 0.5) * 2 ** 60));
}

function junkJson(rng: () => number, depth = 0): unknown {
  const r = rng();
  if (r < 0.15) return null;
  if (r < 0.3) return Math.floor((rng() - 0.5) * 2 ** 40);
  if (r < 0.4) return rng() < 0.5;
  if (r < 0.65) return pick(NAMES, rng);
  if (r < 0.8 || depth > 2) return pick(JUNK, rng);
  if (r < 0.9) return [junkJson(rng, depth + 1), junkJson(rng, depth + 1)];
  return { topic: pick(NAMES, rng), queueId: junkJson(rng, depth + 1), groupName: pick(NAMES, rng) };
}

/** Replaces one node of a JSON value (or one of its keys' values) with junk; returns the new value. */
function mutateJson(value: unknown, rng: () => number): unknown {
  if (value === null || typeof value !== 'object' || rng() < 0.15) return junkJson(rng);
  if (Array.isArray(value)) {
    const copy = [...value];
    if (copy.length === 0 || rng() < 0.2) copy.push(junkJson(rng));
    else {
      const i = Math.floor(rng() * copy.length);
      if (rng() < 0.2) copy.splice(i, 1);
      else copy[i] = mutateJson(copy[i], rng);
    }
    return copy;
  }
  const copy = { ...(value as Record<string, unknown>) };
  const keys = Object.keys(copy);
  if (keys.length === 0 || rng() < 0.1) copy[pick(['mqSet', 'consumerDataSet', 'clientID', 'subscriptionData', '__proto__', 'x'], rng)] = junkJson(rng);
  else {
    const k = pick(keys, rng);
    if (rng() < 0.2) delete copy[k];
    else copy[k] = mutateJson(copy[k], rng);
  }
  return copy;
}

/** Header- and body-aware mutation: gets past the decoders to the handlers' validation. */
function mutateStructured(seed: Seed, seeds: readonly Seed[], rng: () => number): Buffer {
  const spec: Spec = { ...seed.spec, ext: { ...seed.spec.ext } };
  const naming = TOPIC_NAMING.get(spec.code);
  const keys = Object.keys(spec.ext);
  const ops = 1 + Math.floor(rng() * 2);
  for (let n = 0; n < ops; n++) {
    const r = rng();
    if (r < 0.25 && keys.length > 0) {
      delete spec.ext[pick(keys, rng)]; // a missing (maybe required) field
    } else if (r < 0.6 && keys.length > 0) {
      const k = pick(keys, rng);
      spec.ext[k] = junkValue(rng, naming?.has(k) === true);
    } else if (r < 0.7) {
      // Another code's fields under this code: wrong shapes, missing fields.
      // (Drawn from the seeds, so the heavy listings stay as rare here as there.)
      spec.code = rng() < 0.9 ? pick(seeds, rng).spec.code : Math.floor(rng() * 65536) - 32768;
      // A new code may name topics with fields that were free before: keep those fixed.
      const nowNaming = TOPIC_NAMING.get(spec.code);
      if (nowNaming !== undefined) for (const k of nowNaming) if (k in spec.ext) spec.ext[k] = pick(NAMES, rng);
    } else if (r < 0.8 && spec.json !== undefined) {
      spec.json = mutateJson(spec.json, rng);
    } else if (r < 0.85) {
      spec.flag = pick([0, FLAG_ONEWAY, FLAG_RESPONSE, 3, -1, 0x7fffffff], rng);
    } else if (r < 0.92) {
      spec.ext[pick(['x', 'topic', 'queueId', 'subscription', 'expressionType', 'sysFlag', 'offset', '__proto__', 'constructor'], rng)] = junkValue(rng, false);
      if (naming !== undefined) for (const k of naming) if (k in spec.ext) spec.ext[k] = seed.spec.ext[k] ?? pick(NAMES, rng);
    } else {
      // A body of random bytes, or none.
      spec.json = undefined;
      const len = rng() < 0.3 ? 0 : Math.floor(rng() * 300);
      const body = Buffer.allocUnsafe(len);
      for (let i = 0; i < len; i++) body[i] = Math.floor(rng() * 256);
      spec.body = body;
    }
  }
  const opaque = rng() < 0.9 ? seed.opaque : Math.floor(rng() * 2 ** 32) - 2 ** 31;
  return encode(spec, seed.binary, opaque);
}

function withSize(payload: Buffer): Buffer {
  const out = Buffer.allocUnsafe(4 + payload.length);
  out.writeInt32BE(payload.length, 0);
  payload.copy(out, 4);
  return out;
}

/** Byte-level mutation (the size prefix stays consistent unless `desync` says otherwise). */
function mutateBytes(seed: Seed, seeds: readonly Seed[], rng: () => number): { frame: Buffer; desync: boolean } {
  const out = Buffer.from(seed.frame);
  const kind = rng();
  if (kind < 0.45) {
    const flips = 1 + Math.floor(rng() * 4);
    for (let i = 0; i < flips; i++) {
      const pos = 4 + Math.floor(rng() * (out.length - 4));
      if (rng() < 0.5) out[pos] = Math.floor(rng() * 256);
      else out[pos]! ^= 1 << Math.floor(rng() * 8);
    }
    return { frame: out, desync: false };
  }
  if (kind < 0.6) {
    const cut = 4 + Math.floor(rng() * (out.length - 4));
    const t = out.subarray(0, cut);
    t.writeInt32BE(cut - 4, 0);
    return { frame: t, desync: false };
  }
  if (kind < 0.72) {
    // A length field inflated or negated: the header length word, a binary remark/ext/key/value length, a batch entry size...
    const pos = rng() < 0.3 ? 4 : 4 + Math.floor(rng() * Math.max(1, out.length - 8));
    if (pos + 4 <= out.length) {
      const v = rng() < 0.5 ? Math.floor(rng() * 0x7fffffff) : pick([-1, 0, 1, 0x7fffffff, -0x80000000, 0x01000000, 0x02000010], rng);
      out.writeInt32BE(v | 0, pos);
    }
    return { frame: out, desync: false };
  }
  if (kind < 0.8) {
    // Splice: the head of this seed, the tail of another.
    const other = pick(seeds, rng).frame;
    const a = 4 + Math.floor(rng() * (out.length - 4));
    const b = 4 + Math.floor(rng() * (other.length - 4));
    return { frame: withSize(Buffer.concat([out.subarray(4, a), other.subarray(b)])), desync: false };
  }
  if (kind < 0.9) {
    // Random bytes behind a plausible header-length word (JSON or binary).
    const len = 4 + Math.floor(rng() * 200);
    const payload = Buffer.allocUnsafe(len);
    for (let i = 0; i < len; i++) payload[i] = Math.floor(rng() * 256);
    payload.writeInt32BE(((rng() < 0.5 ? 0 : 1) << 24) | Math.floor(rng() * len), 0);
    return { frame: withSize(payload), desync: false };
  }
  if (kind < 0.97) {
    // Header text cut or spliced inside a JSON header: '{"code":105,...' fragments.
    const text = out.subarray(8).toString('latin1');
    const i = Math.floor(rng() * text.length);
    const insert = pick(['"', '{', '}', '[', ']', ',', ':', '\\', 'null', '1e999', '-0', '.5', '99999999999', '"\\ud800"', '{"a":{"b":[]}}'], rng);
    const payload = Buffer.from(text.slice(0, i) + insert + text.slice(i + (rng() < 0.5 ? 1 : 0)), 'latin1');
    const head = Buffer.allocUnsafe(4);
    head.writeInt32BE(seed.frame.readInt32BE(4) + payload.length - text.length, 0);
    return { frame: withSize(Buffer.concat([head, payload])), desync: false };
  }
  // The size prefix itself: negative, beyond the cap, or a wrong length the stream then desyncs on.
  const v = pick([-1, -0x80000000, FRAME_BYTES_MAX + 1, 0x7fffffff, out.length - 5, out.length + 3, 0, 3], rng);
  out.writeInt32BE(v | 0, 0);
  return { frame: out, desync: true };
}

// ---------------------------------------------------------------------------
// Harness

interface Env {
  logManager: LogManager;
  broker: Broker;
  state: RocketmqState;
  handlers: ReturnType<typeof buildHandlerTable>;
  pool: BufferPool;
  logger: ReturnType<typeof createLogger>;
}

async function openEnv(): Promise<Env> {
  const logManager = await LogManager.open({ dir: '/fuzz', io: new MemoryFileIO(), config: { segmentBytesMax: 64 * 1024, retentionBytes: 256 * 1024, retentionCheckIntervalMs: 1000 } });
  const broker = await Broker.open(logManager, { nodeId: 1, autoCreateTopics: true, defaultPartitions: 1, maxMessageBytes: 1 << 20, groupInitialRebalanceDelayMs: 0, delayIndex: 'memory' });
  const logger = createLogger({ level: 'silent' });
  const state = new RocketmqState({
    broker,
    brokerName: 'broker-a',
    clusterName: 'DefaultCluster',
    advertisedAddress: '127.0.0.1:9876',
    storeHost: socketAddressBytes('127.0.0.1', 9876),
    defaultQueues: 4,
    maxReconsumeTimes: 2,
    logger,
  });
  return { logManager, broker, state, handlers: buildHandlerTable(), pool: new BufferPool(1 << 20, 8), logger };
}

function closeEnv(env: Env): void {
  env.state.close();
  env.broker.close();
  env.logManager.abandon();
}

/** A connection on a FakeSocket that collects whole answers (for the setup and the checks). */
class Client {
  readonly socket = new FakeSocket();
  readonly connection: RocketmqConnection;
  readonly answers = new Map<number, RemotingCommand>();
  readonly serverRequests: RemotingCommand[] = [];
  #opaque = 0;
  readonly #broker: Broker;

  constructor(env: Env, frameBytesMax = FRAME_BYTES_MAX) {
    this.#broker = env.broker;
    this.socket.onCommand = (frame) => {
      const c = decodeCommand(frame);
      if ((c.flag & FLAG_RESPONSE) !== 0) this.answers.set(c.opaque, c);
      else this.serverRequests.push(c);
    };
    this.connection = new RocketmqConnection(this.socket as unknown as Socket, {
      state: env.state,
      handlers: env.handlers,
      logger: env.logger,
      frameBytesMax,
      inFlightMax: 64,
      pool: env.pool,
      onClose: () => {},
    });
  }

  /** Sends through the onRead path (one reused read buffer, scribbled over afterwards) or as a 'data' event. */
  feed(frame: Buffer, viaOnRead: boolean): void {
    if (!viaOnRead) {
      this.socket.emit('data', frame);
      return;
    }
    for (let pos = 0; pos < frame.length && !this.socket.destroyed; pos += 256 * 1024) {
      const chunk = Buffer.from(frame.subarray(pos, pos + 256 * 1024));
      this.connection.onRead(chunk.length, chunk);
      chunk.fill(0xee);
    }
  }

  async request(spec: Spec, binary = false, viaOnRead = true): Promise<RemotingCommand> {
    const opaque = ++this.#opaque;
    this.feed(encode(spec, binary, opaque), viaOnRead);
    for (let i = 0; i < 1000 && !this.answers.has(opaque); i++) {
      // A held pull (a dropped suspendTimeoutMillis means 15 s) answers when woken.
      if (i >= 50) this.#broker.wakeAll();
      await new Promise((resolve) => setImmediate(resolve));
    }
    const answer = this.answers.get(opaque);
    assert.ok(answer !== undefined, `request ${spec.code} was not answered`);
    this.answers.delete(opaque);
    return answer;
  }
}

async function settle(connection: RocketmqConnection, broker: Broker, wake: boolean): Promise<void> {
  for (let i = 0; i < 2000 && connection.inFlight > 0; i++) {
    if (wake) broker.wakeAll();
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/** Raw log bytes of every queue of a topic, and what a pull of each queue answers. */
async function snapshot(env: Env, client: Client, topicName: string): Promise<Buffer[]> {
  const topic = env.broker.topics.get(topicName)!;
  const out: Buffer[] = [];
  for (let q = 0; q < topic.partitions; q++) {
    const read = env.broker.read(topic, q, 0, 1 << 20);
    assert.equal(read.errorCode, 'NONE');
    out.push(Buffer.from(read.result!.bytes));
    const pulled = await client.request({ code: RequestCode.PULL_MESSAGE, ext: pullExt({ topic: topicName, queueId: String(q), maxMsgNums: '1000', subscription: '*' }) });
    assert.equal(pulled.code, ResponseCode.SUCCESS, pulled.remark ?? '');
    out.push(Buffer.from(pulled.body));
  }
  return out;
}

test(`RocketMQ fuzz: ${FRAMES.toLocaleString('en')} random and mutated frames neither crash, hang nor leak`, { timeout: 20 * 60 * 1000 }, async (t) => {
  const stackTraceLimit = Error.stackTraceLimit;
  const unhandled: unknown[] = [];
  const onUnhandled = (err: unknown): void => void unhandled.push(err);
  process.on('unhandledRejection', onUnhandled);
  const env = await openEnv();
  const { broker, state } = env;
  try {
    // Stored before the fuzz: a topic the fuzz never names (bodies over 4 KiB came through pooled slabs).
    await state.ensureTopic(T, 4, true);
    await state.ensureTopic(GOLDEN, 2, true);
    const setup = new Client(env);
    for (let i = 0; i < 6; i++) {
      const body = i % 2 === 0 ? Buffer.alloc(5000 + i, 0x30 + i) : Buffer.from(`golden ${i}`);
      // Born now: the fuzz's own sends (born in 2023) age out under time retention, these must not.
      const ext = sendV2Ext(GOLDEN, i % 2, { TAGS: `G${i}`, KEYS: `gk${i}`, color: 'red', n: String(i) }, { g: String(Date.now()) });
      const sent = await setup.request({ code: RequestCode.SEND_MESSAGE_V2, ext, body });
      assert.equal(sent.code, ResponseCode.SUCCESS, sent.remark ?? '');
    }
    const first = await setup.request({ code: RequestCode.SEND_MESSAGE_V2, ext: sendV2Ext(T, 0, { TAGS: 'TagA' }), body: Buffer.from('first') });
    assert.equal(first.code, ResponseCode.SUCCESS, first.remark ?? '');
    assert.equal((await setup.request({ code: RequestCode.HEART_BEAT, ext: {}, json: HEARTBEAT })).code, ResponseCode.SUCCESS);
    const golden = await snapshot(env, setup, GOLDEN);
    setup.connection.close();

    const packed = packedOffsetString(broker.topics.get(T)!.ordinal, 0, 0);
    const specs = seedSpecs(packed, first.extFields['msgId']!).filter((spec) => !(SIDE_EFFECT_CODES.has(spec.code) && env.handlers.has(spec.code)));
    const unseeded = SERVED.filter((code) => !specs.some((spec) => spec.code === code));
    if (unseeded.length > 0) t.diagnostic(`no request written for codes ${unseeded.join(', ')}: seeded with common field names`);
    for (const code of unseeded) specs.push({ code, ext: GENERIC_EXT });
    const seeds: Seed[] = [];
    specs.forEach((spec, i) => {
      for (const binary of [false, true]) {
        const seed = { spec, binary, opaque: 1000 + i, frame: encode(spec, binary, 1000 + i) };
        for (let n = spec.heavy === true ? 1 : 8; n > 0; n--) seeds.push(seed);
      }
    });

    const rng = mulberry32(SEED);
    const readBuffer = Buffer.alloc(256 * 1024);
    const failures: string[] = [];
    const fail = (what: string, frame: Buffer): void => {
      if (failures.length < 20) failures.push(`${what}: ${frame.subarray(0, 256).toString('hex')}`);
    };
    let answered = 0;
    let unsupportedExpected = 0;
    let unsupportedGot = 0;
    let connections = 0;
    let exactChecks = 0;
    let malformedFrames = 0;
    let skipped = 0;
    const internalErrors = new Map<string, number>();

    // The current connection, and its requests still owed an answer (opaque → count).
    let socket!: FakeSocket;
    let connection!: RocketmqConnection;
    let owed = new Map<number, number>();
    /** False once a frame with a wrong size prefix desynced the stream: what it answers then is not accounted. */
    let tracked = { on: true };
    /** Replaced connections with requests still in progress: they must all finish too. */
    let busy: RocketmqConnection[] = [];
    const connect = (): void => {
      if (connections > 0 && connection.inFlight > 0) busy.push(connection);
      socket = new FakeSocket();
      const mine = new Map<number, number>();
      const mineTracked = { on: true };
      owed = mine;
      tracked = mineTracked;
      connections++;
      socket.onHead = (head) => {
        const h = headerOf(head);
        if ((h.flag & FLAG_RESPONSE) === 0) return; // NOTIFY_CONSUMER_IDS_CHANGED and other server requests
        answered++;
        if (h.code === ResponseCode.REQUEST_CODE_NOT_SUPPORTED) unsupportedGot++;
        const failed = h.code === ResponseCode.SYSTEM_ERROR ? /^request (\d+) failed: (.*)/.exec(h.remark ?? '') : null;
        if (failed !== null) {
          // A handler threw something other than a HeaderError: its remark is an internal error, not a clear one.
          const key = `${failed[1]}: ${failed[2]!.replace(/\d+/g, 'N').slice(0, 100)}`;
          internalErrors.set(key, (internalErrors.get(key) ?? 0) + 1);
        }
        if (!mineTracked.on) return;
        const n = mine.get(h.opaque);
        if (n === undefined) failures.push(`an answer nobody asked for (opaque ${h.opaque}, code ${h.code})`);
        else if (n === 1) mine.delete(h.opaque);
        else mine.set(h.opaque, n - 1);
      };
      connection = new RocketmqConnection(socket as unknown as Socket, {
        state,
        handlers: env.handlers,
        logger: env.logger,
        frameBytesMax: FRAME_BYTES_MAX,
        inFlightMax: 32,
        pool: env.pool,
        onClose: () => {},
      });
    };
    /** Everything asked on a connection with nothing in progress has been answered. */
    const checkAnswered = (): void => {
      if (connection.inFlight > 0 || socket.destroyed) return;
      exactChecks++;
      if (owed.size > 0) failures.push(`${owed.size} requests (opaques ${[...owed.keys()].slice(0, 5).join(', ')}) were never answered`);
    };
    connect();

    // No stack traces while fuzzing: capturing one for every refused frame and header (RemotingDecodeError,
    // HeaderError, SyntaxError) was a tenth of the run, and nothing reads them; a failure names the frame (hex).
    Error.stackTraceLimit = 0;
    const started = Date.now();
    let heapBase = 0;
    let heapPeak = 0;
    for (let i = 0; i < FRAMES; i++) {
      const seed = seeds[Math.floor(rng() * seeds.length)]!;
      const r = rng();
      let input: Buffer;
      let desync = false;
      if (r < 0.08) input = seed.frame;
      else if (r < 0.5) input = mutateStructured(seed, seeds, rng);
      else ({ frame: input, desync } = mutateBytes(seed, seeds, rng));

      // What the connection must do with this frame (the decoder is the oracle; framing is ours).
      let verdict: 'malformed' | 'answer' | 'silent' = 'silent';
      let command: RemotingCommand | null = null;
      if (desync) tracked.on = false;
      else {
        try {
          command = decodeCommand(input.subarray(4));
        } catch (err) {
          if (!(err instanceof RemotingDecodeError)) fail(`decodeCommand threw ${(err as Error).name}: ${(err as Error).message}`, input);
          verdict = 'malformed';
        }
        if (command !== null && SIDE_EFFECT_CODES.has(command.code) && env.handlers.has(command.code)) {
          skipped++;
          continue;
        }
        if (command !== null && (command.flag & (FLAG_RESPONSE | FLAG_ONEWAY)) === 0) {
          verdict = 'answer';
          owed.set(command.opaque, (owed.get(command.opaque) ?? 0) + 1);
          if (!env.handlers.has(command.code)) unsupportedExpected++;
        }
        if (verdict === 'malformed') {
          malformedFrames++;
          // The close drops answers still being worked on: let short async handlers finish, and the turn end
          // (the connection hands a turn's answers to the socket then), then check what is owed.
          for (let k = 0; k < 8 && connection.inFlight > 0; k++) await null;
          await new Promise((resolve) => process.nextTick(resolve));
          checkAnswered();
        }
      }

      try {
        const path = rng();
        if (path < 0.5) {
          // The listener's path: bytes arrive in one reused read buffer (net onread), maybe split.
          const cut = input.length > 2 && rng() < 0.3 ? 1 + Math.floor(rng() * (input.length - 1)) : input.length;
          input.copy(readBuffer, 0, 0, cut);
          connection.onRead(cut, readBuffer);
          readBuffer.fill(0xee, 0, cut); // the socket reuses the buffer: nothing may keep pointing into it
          if (cut < input.length && !socket.destroyed) {
            input.copy(readBuffer, 0, cut);
            connection.onRead(input.length - cut, readBuffer);
            readBuffer.fill(0xee, 0, input.length - cut);
          }
        } else if (path < 0.6 && input.length > 2) {
          const cut = 1 + Math.floor(rng() * (input.length - 1));
          socket.emit('data', input.subarray(0, cut));
          if (!socket.destroyed) socket.emit('data', input.subarray(cut));
        } else {
          socket.emit('data', input);
        }
      } catch (err) {
        fail(`thrown out of the connection: ${(err as Error)?.name}: ${(err as Error)?.message ?? String(err)}`, input);
        socket.destroy();
      }

      if (!desync) {
        if (verdict === 'malformed' && !socket.destroyed) fail('a malformed frame left the connection open', input);
        if (verdict !== 'malformed' && socket.destroyed) fail('a well-formed frame closed the connection', input);
      } else if (!socket.destroyed) {
        connection.close('desynced by the fuzz'); // the stream is out of step: start over
      }
      if (socket.destroyed) connect();
      // Handlers still working (held pulls, offset commits waiting on a sync) settle now and then.
      if (connection.inFlight > 16 || i % 64 === 0) await new Promise((resolve) => setImmediate(resolve));
      if (i % 20_000 === 0) {
        await new Promise((resolve) => setImmediate(resolve));
        checkAnswered();
        busy = busy.filter((c) => c.inFlight > 0);
        const heap = process.memoryUsage().heapUsed;
        if (i === 0) heapBase = heap;
        heapPeak = Math.max(heapPeak, heap);
      }
      if (failures.length >= 20) break;
    }
    Error.stackTraceLimit = stackTraceLimit;
    // Held pulls answer when woken; nothing else may still be in progress, on any connection.
    for (const c of [...busy, connection]) await settle(c, broker, true);
    const hanging = [...busy, connection].reduce((n, c) => n + c.inFlight, 0);
    assert.equal(hanging, 0, `${hanging} requests hang`);
    checkAnswered();
    const elapsedMs = Date.now() - started;
    const topicCount = [...broker.topics.list()].filter((x) => !x.internal).length;
    const offsetGroups = [...broker.offsets.groupsWithOffsets()].length;
    t.diagnostic(
      `${FRAMES} frames (seed ${SEED}) in ${elapsedMs} ms over ${connections} connections: ${answered} answered (${unsupportedGot} REQUEST_CODE_NOT_SUPPORTED), ` +
        `${malformedFrames} malformed, ${skipped} skipped (side effects), ${exactChecks} all-answered checks; ${topicCount} topics, ${offsetGroups} groups with offsets, ${state.subscriptionGroups.size} subscription groups; heap ${(heapBase / 2 ** 20).toFixed(0)} → peak ${(heapPeak / 2 ** 20).toFixed(0)} MiB`,
    );
    for (const [remark, n] of internalErrors) t.diagnostic(`handler failure ×${n}: request ${remark}`);
    assert.deepEqual(failures, []);
    // The handlers this file writes requests for answer bad input with a clear remark, never an internal error.
    const written = new Set(seedSpecs('0', '').map((spec) => spec.code));
    assert.deepEqual([...internalErrors.keys()].filter((key) => written.has(Number(key.split(':')[0]))), [], 'internal errors from handlers with written requests');
    assert.deepEqual(unhandled, [], 'no unhandled rejection');
    assert.equal(unsupportedGot, unsupportedExpected, 'every unknown code (and only those) gets REQUEST_CODE_NOT_SUPPORTED');
    assert.ok(answered > FRAMES / 4, `only ${answered} frames were answered: the handlers were barely reached`);
    assert.ok(exactChecks > 1000, `only ${exactChecks} all-answered checks`);
    assert.ok(topicCount < TOPICS_MAX, `${topicCount} topics: mutated names exploded the topic count`);
    assert.ok(heapPeak - heapBase < 512 * 2 ** 20, `heap grew from ${heapBase} to ${heapPeak}`);

    // Nothing stored was disturbed, and a fresh connection sends and pulls.
    const after = new Client(env);
    assert.deepEqual(await snapshot(env, after, GOLDEN), golden, 'messages stored before the fuzz read back byte-identical');
    const topic = 'AfterFuzz';
    const sent = await after.request({ code: RequestCode.SEND_MESSAGE_V2, ext: sendV2Ext(topic, 0, { TAGS: 'TagA' }), body: Buffer.from('still works') }, true);
    assert.equal(sent.code, ResponseCode.SUCCESS, sent.remark ?? '');
    const pulled = await after.request({ code: RequestCode.PULL_MESSAGE, ext: pullExt({ topic, subscription: 'TagA' }) }, false, false);
    assert.equal(pulled.code, ResponseCode.SUCCESS, pulled.remark ?? '');
    assert.deepEqual(decodeStoredMessages(pulled.body).map((m) => m.body.toString()), ['still works']);
    assert.ok(!after.socket.destroyed);
  } finally {
    Error.stackTraceLimit = stackTraceLimit;
    process.off('unhandledRejection', onUnhandled);
    closeEnv(env);
  }
});

test('RocketMQ bad input: a frame over 16 MiB closes only its connection; one of exactly 16 MiB is served', async () => {
  const env = await openEnv();
  try {
    await env.state.ensureTopic(T, 4, true);
    const good = new Client(env);
    for (const viaOnRead of [true, false]) {
      // Exactly the cap: a (padded) request is served.
      const atCap = new Client(env);
      const header = encodeJsonRequest({ code: RequestCode.GET_BROKER_CLUSTER_INFO, opaque: 1, flag: 0, extFields: {} });
      const frame = Buffer.alloc(4 + FRAME_BYTES_MAX);
      header.copy(frame);
      frame.writeInt32BE(FRAME_BYTES_MAX, 0);
      atCap.feed(frame, viaOnRead);
      await settle(atCap.connection, env.broker, false);
      assert.equal(atCap.answers.get(1)?.code, ResponseCode.SUCCESS, 'a frame of exactly frameBytesMax is served');
      assert.ok(!atCap.socket.destroyed);

      // One byte more closes the connection — decided from the size prefix, before the bytes arrive.
      const victim = new Client(env);
      const over = Buffer.alloc(4 + FRAME_BYTES_MAX + 1);
      header.copy(over);
      over.writeInt32BE(FRAME_BYTES_MAX + 1, 0);
      victim.feed(over, viaOnRead);
      await new Promise((resolve) => setImmediate(resolve));
      assert.ok(victim.socket.destroyed, 'a frame over frameBytesMax closes the connection');
      assert.ok(victim.connection.closed);
      assert.equal(victim.answers.size, 0);
      // A negative size prefix too.
      const negative = new Client(env);
      negative.feed(Buffer.from([0xff, 0xff, 0xff, 0xfe, 0, 0, 0, 0]), viaOnRead);
      assert.ok(negative.socket.destroyed);

      // The other connection keeps working: it sends and pulls a message.
      const body = `survivor ${viaOnRead}`;
      const sent = await good.request({ code: RequestCode.SEND_MESSAGE_V2, ext: sendV2Ext(T, 2, { TAGS: 'TagA' }), body: Buffer.from(body) });
      assert.equal(sent.code, ResponseCode.SUCCESS, sent.remark ?? '');
      const pulled = await good.request({ code: RequestCode.PULL_MESSAGE, ext: pullExt({ queueId: '2', queueOffset: sent.extFields['queueOffset']!, subscription: '*' }) });
      assert.deepEqual(decodeStoredMessages(pulled.body).map((m) => m.body.toString()), [body]);
      assert.ok(!good.socket.destroyed);
    }
  } finally {
    closeEnv(env);
  }
});

test('RocketMQ bad input: unknown codes, missing header fields and undecodable headers', async () => {
  const env = await openEnv();
  try {
    await env.state.ensureTopic(T, 4, true);
    const client = new Client(env);
    const first = await client.request({ code: RequestCode.SEND_MESSAGE_V2, ext: sendV2Ext(T, 0, { TAGS: 'TagA' }), body: Buffer.from('x') });
    const packed = packedOffsetString(env.broker.topics.get(T)!.ordinal, 0, 0);
    const specs = seedSpecs(packed, first.extFields['msgId']!).filter((s) => (s.flag ?? 0) === 0 && !SIDE_EFFECT_CODES.has(s.code));
    for (const binary of [false, true]) {
      // Unknown and unserved codes.
      const unserved = Object.values(RequestCode).filter((code) => !env.handlers.has(code));
      for (const code of [9999, -1, 32767, ...unserved.slice(0, 3)]) {
        const answer = await client.request({ code, ext: { topic: T } }, binary);
        assert.equal(answer.code, ResponseCode.REQUEST_CODE_NOT_SUPPORTED);
        assert.match(answer.remark ?? '', new RegExp(`request type ${code} not supported`));
      }
      // Every header field of every served request dropped in turn: either the request
      // does without it, or the answer names it (V2's one-letter fields by their long names).
      let named = 0;
      const longNames: Record<string, string> = { a: 'producerGroup', b: 'topic', e: 'queueId' };
      for (const spec of specs) {
        if (!env.handlers.has(spec.code)) continue;
        for (const key of Object.keys(spec.ext)) {
          const ext = { ...spec.ext };
          delete ext[key];
          const answer = await client.request({ ...spec, ext }, binary);
          if (answer.code === ResponseCode.SYSTEM_ERROR && /custom field/.test(answer.remark ?? '')) {
            named++;
            const name = spec.code === RequestCode.SEND_MESSAGE_V2 || spec.code === RequestCode.SEND_BATCH_MESSAGE ? (longNames[key] ?? key) : key;
            assert.equal(answer.remark, `the custom field <${name}> is null`, `code ${spec.code} without ${key}`);
          }
          assert.doesNotMatch(answer.remark ?? '', /^request \d+ failed/, `code ${spec.code} without ${key}: ${answer.remark}`);
        }
      }
      assert.ok(named > 40, `only ${named} missing fields were named`);
    }
    // Headers that do not decode close only their own connection.
    const bad = [
      Buffer.from([0, 0, 0, 8, 0, 0, 0, 4, 0x7b, 0x7b, 0x7b, 0x7b]), // '{{{{'
      Buffer.from([0, 0, 0, 4, 9, 0, 0, 0]), // serialisation type 9
      Buffer.from([0, 0, 0, 2, 0, 0]), // no header length
      withSize(Buffer.concat([Buffer.from([1, 0, 0, 5]), Buffer.alloc(5)])), // ROCKETMQ header under 21 bytes
      withSize(Buffer.from('\u0000\u0000\u0000\u0002[]')), // JSON header not an object
      // Header ints beyond int32 (Java ints): an opaque of 1e10 came back as 1410065408, which no client could match.
      ...['{"code":105,"opaque":10000000000,"flag":0}', '{"code":1099511627776,"opaque":1}', '{"code":105,"opaque":1,"flag":-2147483649}'].map((json) => {
        const header = Buffer.from(json);
        const word = Buffer.allocUnsafe(4);
        word.writeInt32BE(header.length, 0);
        return withSize(Buffer.concat([word, header]));
      }),
      (() => {
        // Nested too deeply to re-serialise as a string field value (JSON.stringify overflowed the stack).
        const header = Buffer.from(`{"code":105,"opaque":1,"extFields":{"topic":${'['.repeat(200_000)}${']'.repeat(200_000)}}}`);
        const word = Buffer.allocUnsafe(4);
        word.writeInt32BE(header.length, 0);
        return withSize(Buffer.concat([word, header]));
      })(),
    ];
    for (const frame of bad) {
      for (const viaOnRead of [true, false]) {
        const victim = new Client(env);
        assert.doesNotThrow(() => victim.feed(frame, viaOnRead));
        assert.ok(victim.socket.destroyed, `frame ${frame.subarray(0, 16).toString('hex')} closes its connection`);
      }
      assert.throws(() => decodeCommand(frame.subarray(4)), RemotingDecodeError);
    }
    // Bodies of the wrong shape, and names the broker refuses, get a clear remark (they were internal errors).
    const wrongShapes: Array<[Spec, number, RegExp]> = [
      [{ code: RequestCode.HEART_BEAT, ext: {}, body: Buffer.from('null') }, ResponseCode.SYSTEM_ERROR, /HEART_BEAT body is not a JSON object/],
      [{ code: RequestCode.HEART_BEAT, ext: {}, json: { consumerDataSet: 5 } }, ResponseCode.SYSTEM_ERROR, /consumerDataSet is not a list of objects/],
      [{ code: RequestCode.HEART_BEAT, ext: {}, json: { consumerDataSet: [null] } }, ResponseCode.SYSTEM_ERROR, /consumerDataSet is not a list of objects/],
      [{ code: RequestCode.HEART_BEAT, ext: {}, json: { consumerDataSet: [{ groupName: 'g', subscriptionDataSet: true }] } }, ResponseCode.SYSTEM_ERROR, /subscriptionDataSet is not a list/],
      [{ code: RequestCode.HEART_BEAT, ext: {}, json: { consumerDataSet: [{ groupName: 'g', subscriptionDataSet: [{ topic: T, expressionType: 7 }] }] } }, ResponseCode.SYSTEM_ERROR, /expressionType is not a string/],
      [{ code: RequestCode.HEART_BEAT, ext: {}, json: { consumerDataSet: [{ groupName: 'g', subscriptionDataSet: [{ topic: T, expressionType: 'SQL92', subString: 1 }] }] } }, ResponseCode.SYSTEM_ERROR, /subString is not a string/],
      [{ code: RequestCode.HEART_BEAT, ext: {}, json: { clientID: 'c', consumerDataSet: [{ groupName: 'bad group!', messageModel: 'CLUSTERING' }] } }, ResponseCode.INVALID_PARAMETER, /is not legal/],
      [{ code: RequestCode.LOCK_BATCH_MQ, ext: {}, body: Buffer.from('[]') }, ResponseCode.SYSTEM_ERROR, /LOCK_BATCH_MQ body is not a JSON object/],
      [{ code: RequestCode.UNLOCK_BATCH_MQ, ext: {}, json: { consumerGroup: 'g', clientId: 'c', mqSet: [null] } }, ResponseCode.SYSTEM_ERROR, /mqSet entries need topic and queueId/],
      [{ code: RequestCode.CHECK_CLIENT_CONFIG, ext: {}, body: Buffer.from('7') }, ResponseCode.SYSTEM_ERROR, /CHECK_CLIENT_CONFIG body is not a JSON object/],
      [{ code: RequestCode.CHECK_CLIENT_CONFIG, ext: {}, json: { subscriptionData: 'x' } }, ResponseCode.SYSTEM_ERROR, /subscriptionData is not an object/],
      [{ code: RequestCode.CHECK_CLIENT_CONFIG, ext: {}, json: { subscriptionData: { expressionType: 'SQL92', subString: 5 } } }, ResponseCode.SYSTEM_ERROR, /must be strings/],
      [{ code: RequestCode.CONSUMER_SEND_MSG_BACK, ext: { offset: packed, group: 'bad group!', delayLevel: '0' } }, ResponseCode.INVALID_PARAMETER, /is not legal/],
    ];
    for (const [spec, code, remark] of wrongShapes) {
      const answer = await client.request(spec);
      assert.equal(answer.code, code, `${spec.code} ${JSON.stringify(spec.json ?? spec.body?.toString() ?? spec.ext)}: ${answer.remark}`);
      assert.match(answer.remark ?? '', remark);
    }
    const still = await client.request({ code: RequestCode.GET_ROUTEINFO_BY_TOPIC, ext: { topic: T } });
    assert.equal(still.code, ResponseCode.SUCCESS);
  } finally {
    closeEnv(env);
  }
});
