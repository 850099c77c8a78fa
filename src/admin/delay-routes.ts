// REST API of the delay service (src/delay/README.md, REST section), in the
// style of Confluent REST v3: resources carry `kind` and `metadata.self`,
// lists are paged through `metadata.next`, errors are `{error_code, message}`.
//
// The admin server starts before the broker is open: the routes exist from the
// start and reach the broker through a getter, answering 503 until it is set.
// Input is checked here by hand so that every 400 names the field at fault.

import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Broker } from '../broker/broker.ts';
import type { Topic } from '../broker/topics.ts';
import { BrokerError } from '../broker/errors.ts';
import type { DelayState, RepeatSpec } from '../delay/index-store.ts';
import { CONTROL_PREFIX, FIRE_HEADER, ID_HEADER } from '../delay/log-records.ts';
import { DelayError, REPEAT_TIMES_MAX, type DelayStats, type DelayView, type ScheduleRequest } from '../delay/service.ts';
import { buildRecordBatch, type RecordHeader } from '../storage/records.ts';

export const DELAY_MESSAGES_PATH = '/v1/delay-messages';
export const DELAY_STATS_PATH = '/v1/delay-stats';
export const LIST_LIMIT_DEFAULT = 100;
export const LIST_LIMIT_MAX = 1000;
/** Largest POST body by default: a value near a topic's max.message.bytes, JSON-escaped, must fit. */
export const DELAY_BODY_LIMIT_DEFAULT = 16 << 20;
/** `toMs` when none is given: later than any delivery time the horizon allows. */
const FAR_FUTURE_MS = Number.MAX_SAFE_INTEGER;

export interface DelayRoutesOptions {
  /** The open broker, or null while it starts (and once it stops): the routes answer 503 then. */
  broker: () => Broker | null;
  /** Largest POST body (bytes); bigger ones answer 413. */
  bodyLimitBytes?: number;
}

/** An answer other than 2xx, sent as `{error_code, message}`. */
class HttpError extends Error {
  readonly statusCode: number;

  constructor(statusCode: number, message: string) {
    super(message);
    this.statusCode = statusCode;
  }
}

const bad = (message: string): HttpError => new HttpError(400, message);

// ---- representations ---------------------------------------------------------

export interface DelayMessageJson {
  kind: 'DelayMessage';
  metadata: { self: string };
  id: string;
  topic: string;
  partition: number;
  state: DelayState['state'];
  deliverAtMs: number;
  nextFireMs: number;
  fires: number;
  repeat: RepeatSpec | null;
  timestampMs: number;
  key: string | null;
  value: string | null;
  headers: Record<string, string | null>;
  /** Why a failed schedule failed. */
  reason?: string;
  /** Set instead of `key` / `value` when the bytes are not UTF-8 text (a binary message from a client). */
  keyBase64?: string;
  valueBase64?: string;
}

const UTF8 = new TextDecoder('utf-8', { fatal: true });

/** UTF-8 text, or null when the bytes are not valid UTF-8. */
function utf8OrNull(bytes: Buffer): string | null {
  try {
    return UTF8.decode(bytes);
  } catch {
    return null;
  }
}

function messageJson(state: DelayState, key: Buffer | null, value: Buffer | null, headers: readonly RecordHeader[]): DelayMessageJson {
  const headerObject = Object.create(null) as Record<string, string | null>; // a header may be named __proto__
  for (const h of headers) headerObject[h.key] = h.value === null ? null : h.value.toString('utf8');
  const out: DelayMessageJson = {
    kind: 'DelayMessage',
    metadata: { self: `${DELAY_MESSAGES_PATH}/${state.id}` },
    id: String(state.id),
    topic: state.topic,
    partition: state.partition,
    state: state.state,
    deliverAtMs: state.deliverAtMs,
    nextFireMs: state.nextFireMs,
    fires: state.fires,
    repeat: state.repeat,
    timestampMs: state.timestampMs,
    key: key === null ? null : utf8OrNull(key),
    value: value === null ? null : utf8OrNull(value),
    headers: headerObject,
  };
  if (key !== null && out.key === null) out.keyBase64 = key.toString('base64');
  if (value !== null && out.value === null) out.valueBase64 = value.toString('base64');
  if (state.reason !== undefined) out.reason = state.reason;
  return out;
}

const viewJson = (v: DelayView): DelayMessageJson => messageJson(v, v.key, v.value, v.headers);

/** Lateness percentiles from power-of-two buckets: the bucket's upper bound, never above the maximum seen. */
export function latenessSummary(stats: Pick<DelayStats, 'latenessBuckets' | 'latenessMaxMs'>): {
  count: number;
  p50Ms: number | null;
  p99Ms: number | null;
  maxMs: number | null;
  buckets: Array<{ upToMs: number | null; count: number }>;
} {
  const buckets = stats.latenessBuckets;
  const count = buckets.reduce((a, b) => a + b, 0);
  const last = buckets.length - 1;
  // Bucket 0 is [0, 1) ms, bucket i is [2^(i-1), 2^i); the last one also holds everything beyond.
  const upper = (i: number): number => (i === last ? stats.latenessMaxMs : Math.min(2 ** i, stats.latenessMaxMs));
  const quantile = (q: number): number | null => {
    if (count === 0) return null;
    const rank = Math.ceil(q * count);
    let seen = 0;
    for (let i = 0; i < buckets.length; i++) {
      seen += buckets[i]!;
      if (seen >= rank) return upper(i);
    }
    return stats.latenessMaxMs;
  };
  // upToMs: the bucket's exclusive upper bound (null for the last, open-ended one).
  const listed: Array<{ upToMs: number | null; count: number }> = [];
  for (let i = 0; i < buckets.length; i++) if (buckets[i]! > 0) listed.push({ upToMs: i === last ? null : 2 ** i, count: buckets[i]! });
  return { count, p50Ms: quantile(0.5), p99Ms: quantile(0.99), maxMs: count === 0 ? null : stats.latenessMaxMs, buckets: listed };
}

// ---- input -------------------------------------------------------------------

const POST_FIELDS = new Set(['topic', 'key', 'value', 'headers', 'partition', 'deliverAtMs', 'delayMs', 'repeat']);
const REPEAT_FIELDS = new Set(['intervalMs', 'multiplier', 'maxIntervalMs', 'times', 'untilMs']);

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function typeName(v: unknown): string {
  return v === undefined ? 'nothing' : v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v === 'object' ? 'an object' : `${typeof v} ${JSON.stringify(v)}`;
}

function integerField(v: unknown, field: string, min: number = Number.MIN_SAFE_INTEGER): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v)) throw bad(`${field} must be an integer, got ${typeName(v)}`);
  if (v < min) throw bad(`${field} must be an integer ≥ ${min}, got ${v}`);
  return v;
}

function optionalInteger(v: unknown, field: string, min?: number): number | null {
  return v === undefined || v === null ? null : integerField(v, field, min);
}

function textOrNull(v: unknown, field: string): Buffer | null {
  if (v === null) return null;
  if (typeof v !== 'string') throw bad(`${field} must be a string or null, got ${typeName(v)}`);
  return Buffer.from(v, 'utf8');
}

function parseRepeat(v: unknown): RepeatSpec | null {
  if (v === undefined || v === null) return null;
  if (!isObject(v)) throw bad(`repeat must be an object {intervalMs, multiplier?, maxIntervalMs?, times?, untilMs?}, got ${typeName(v)}`);
  for (const k of Object.keys(v)) if (!REPEAT_FIELDS.has(k)) throw bad(`repeat.${k} is not a known field (known: ${[...REPEAT_FIELDS].join(', ')})`);
  if (v.intervalMs === undefined) throw bad('repeat.intervalMs is required');
  const multiplier = v.multiplier ?? 1;
  if (typeof multiplier !== 'number' || !Number.isFinite(multiplier)) throw bad(`repeat.multiplier must be a number, got ${typeName(multiplier)}`);
  return {
    intervalMs: integerField(v.intervalMs, 'repeat.intervalMs'),
    multiplier,
    maxIntervalMs: optionalInteger(v.maxIntervalMs, 'repeat.maxIntervalMs'),
    times: optionalInteger(v.times, 'repeat.times'),
    untilMs: optionalInteger(v.untilMs, 'repeat.untilMs'),
  };
}

interface PostInput {
  topic: string;
  key: Buffer | null;
  value: Buffer | null;
  headers: RecordHeader[];
  partition: number | null;
  /** Which field gave the time: errors about it name that one. */
  timeField: 'deliverAtMs' | 'delayMs';
  deliverAtMs: number;
  repeat: RepeatSpec | null;
}

function parsePost(body: unknown, nowMs: number): PostInput {
  if (!isObject(body)) throw bad(`body must be a JSON object {topic, value, deliverAtMs | delayMs, ...}, got ${typeName(body)}`);
  for (const k of Object.keys(body)) if (!POST_FIELDS.has(k)) throw bad(`${k} is not a known field (known: ${[...POST_FIELDS].join(', ')})`);
  if (body.topic === undefined) throw bad('topic is required');
  if (typeof body.topic !== 'string' || body.topic.length === 0) throw bad(`topic must be a non-empty string, got ${typeName(body.topic)}`);
  if (body.value === undefined) throw bad('value is required (a string, or null)');
  const value = textOrNull(body.value, 'value');
  const key = body.key === undefined ? null : textOrNull(body.key, 'key');
  const headers: RecordHeader[] = [];
  if (body.headers !== undefined && body.headers !== null) {
    if (!isObject(body.headers)) throw bad(`headers must be an object of string values, got ${typeName(body.headers)}`);
    for (const [k, v] of Object.entries(body.headers)) {
      if (typeof v !== 'string') throw bad(`headers.${k} must be a string, got ${typeName(v)}`);
      if (k.startsWith(CONTROL_PREFIX)) throw bad(`headers.${k}: header names starting with ${CONTROL_PREFIX} are reserved`);
      headers.push({ key: k, value: Buffer.from(v, 'utf8') });
    }
  }
  const partition = body.partition === undefined || body.partition === null ? null : integerField(body.partition, 'partition', 0);
  const hasAt = body.deliverAtMs !== undefined && body.deliverAtMs !== null;
  const hasDelay = body.delayMs !== undefined && body.delayMs !== null;
  if (hasAt === hasDelay) throw bad(`exactly one of deliverAtMs and delayMs is required, got ${hasAt ? 'both' : 'neither'}`);
  let deliverAtMs: number;
  if (hasAt) deliverAtMs = integerField(body.deliverAtMs, 'deliverAtMs', 0);
  else {
    deliverAtMs = nowMs + integerField(body.delayMs, 'delayMs', 0);
    if (!Number.isSafeInteger(deliverAtMs)) throw bad('delayMs is too large');
  }
  return { topic: body.topic, key, value, headers, partition, timeField: hasAt ? 'deliverAtMs' : 'delayMs', deliverAtMs, repeat: parseRepeat(body.repeat) };
}

function queryParam(query: Record<string, unknown>, name: string): string | undefined {
  const v = query[name];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw bad(`${name} is given more than once`);
  return v;
}

function queryInteger(query: Record<string, unknown>, name: string, min: number, max: number, fallback: number): number {
  const text = queryParam(query, name);
  if (text === undefined) return fallback;
  const n = /^-?\d{1,16}$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `≥ ${min}` : `from ${min} to ${max}`;
    throw bad(`${name} must be an integer ${range}, got ${JSON.stringify(text)}`);
  }
  return n;
}

function parseId(text: string): number {
  const id = /^\d{1,16}$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(id)) throw bad(`id must be a decimal delay message id, got ${JSON.stringify(text)}`);
  return id;
}

/** The page token: the (due time, id) of the last entry of the page, opaque to clients. */
export function encodePageToken(dueMs: number, id: number): string {
  return Buffer.from(`${dueMs}.${id}`, 'utf8').toString('base64url');
}

function decodePageToken(token: string): { dueMs: number; id: number } {
  const m = /^(\d{1,16})\.(\d{1,16})$/.exec(Buffer.from(token, 'base64url').toString('utf8'));
  const dueMs = m === null ? NaN : Number(m[1]);
  const id = m === null ? NaN : Number(m[2]);
  if (!Number.isSafeInteger(dueMs) || !Number.isSafeInteger(id)) throw bad('pageToken is not a token this API handed out');
  return { dueMs, id };
}

// ---- partitions --------------------------------------------------------------

/** Kafka's murmur2 (Utils.murmur2): a key lands where a Kafka producer's default partitioner puts it. */
export function murmur2(data: Uint8Array): number {
  const length = data.length;
  const m = 0x5bd1e995;
  let h = 0x9747b28c ^ length;
  const whole = length & ~3;
  for (let i = 0; i < whole; i += 4) {
    let k = data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24);
    k = Math.imul(k, m);
    k ^= k >>> 24;
    k = Math.imul(k, m);
    h = Math.imul(h, m) ^ k;
  }
  const tail = length & 3;
  if (tail === 3) h ^= data[whole + 2]! << 16;
  if (tail >= 2) h ^= data[whole + 1]! << 8;
  if (tail >= 1) {
    h ^= data[whole]!;
    h = Math.imul(h, m);
  }
  h ^= h >>> 13;
  h = Math.imul(h, m);
  h ^= h >>> 15;
  return h | 0;
}

// ---- routes ------------------------------------------------------------------

/** Maps the service's errors onto HTTP; `timeField` renames deliverAtMs when the client gave delayMs. */
function httpError(err: unknown, timeField: string = 'deliverAtMs'): unknown {
  if (!(err instanceof DelayError)) return err;
  const field = err.field === 'deliverAtMs' ? timeField : err.field;
  const message = field === null || err.message.startsWith(field) ? err.message : `${field}: ${err.message}`;
  switch (err.code) {
    case 'INVALID_ARGUMENT':
    case 'BEYOND_HORIZON':
      return bad(message);
    case 'UNKNOWN_TOPIC_OR_PARTITION':
    case 'NOT_FOUND':
      return new HttpError(404, message);
    case 'CONFLICT':
      return new HttpError(409, message);
  }
}

/** Errors of these routes, fastify's own (body parsing) included, as `{error_code, message}`. */
function sendError(error: FastifyError | HttpError | Error, request: FastifyRequest, reply: FastifyReply, bodyLimit: number): void {
  const code = (error as FastifyError).code;
  let status = (error as { statusCode?: number }).statusCode ?? 500;
  let message = error.message;
  if (code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
    status = 413;
    message = `request body is larger than ${bodyLimit} bytes: value (and key) too large`;
  }
  if (!(status >= 400 && status < 600)) status = 500;
  if (status >= 500) {
    request.log.error({ err: error, url: request.url }, 'delay request failed');
    if (!(error instanceof HttpError)) message = 'internal error';
  }
  void reply.code(status).send({ error_code: status, message });
}

/** The REST routes of the delay service (registered at build time; see the header). */
export function registerDelayRoutes(app: FastifyInstance, options: DelayRoutesOptions): void {
  const bodyLimit = options.bodyLimitBytes ?? DELAY_BODY_LIMIT_DEFAULT;
  /** Next partition per topic for messages without a key. */
  const roundRobin = new Map<string, number>();

  const broker = (): Broker => {
    const b = options.broker();
    if (b === null) throw new HttpError(503, 'broker is starting');
    return b;
  };

  /** A user topic schedules may target: 404 unknown (unless created, as a produce would), 403 internal. */
  const targetTopic = async (b: Broker, name: string, create: boolean): Promise<Topic> => {
    if (name.startsWith('__')) throw new HttpError(403, `topic ${name} is internal: delay messages cannot target it`);
    let topic = b.topics.get(name);
    if (topic === undefined && create) {
      try {
        topic = await b.topicOrCreate(name, true);
      } catch (err) {
        if (err instanceof BrokerError) throw new HttpError(400, `topic: ${err.message}`);
        throw err;
      }
    }
    if (topic === undefined) throw new HttpError(404, `topic ${name} does not exist${create ? ' (automatic topic creation is off)' : ''}`);
    if (topic.internal) throw new HttpError(403, `topic ${name} is internal: delay messages cannot target it`);
    return topic;
  };

  // A scope of their own: their JSON parser and error handler are not the app's.
  app.register(async (scope) => {
    scope.setErrorHandler((error: Error, request, reply) => sendError(error, request, reply, bodyLimit));
    // JSON with its error named (fastify's parser drops the detail); an empty body is no body, except for a POST.
    scope.removeContentTypeParser('application/json');
    scope.addContentTypeParser('application/json', { parseAs: 'string', bodyLimit }, (request, text, done) => {
      if ((text as string).trim() === '') {
        if (request.method === 'POST') done(bad('body is empty: expected a JSON object {topic, value, deliverAtMs | delayMs, ...}'), undefined);
        else done(null, undefined);
        return;
      }
      try {
        done(null, JSON.parse(text as string));
      } catch (err) {
        done(bad(`body is not valid JSON: ${(err as Error).message}`), undefined);
      }
    });

    scope.post(DELAY_MESSAGES_PATH, { bodyLimit }, async (request, reply) => {
      const b = broker();
      const now = b.nowMs();
      const input = parsePost(request.body, now);
      const topic = await targetTopic(b, input.topic, true); // created like a produce would (autoCreateTopics)
      let partition = input.partition;
      if (partition === null) {
        if (input.key !== null) partition = (murmur2(input.key) & 0x7fffffff) % topic.partitions;
        else {
          const next = roundRobin.get(topic.name) ?? 0;
          partition = next % topic.partitions;
          roundRobin.set(topic.name, (next + 1) % 0x7fffffff);
        }
      }
      // The record as it will be delivered (with its __delay headers) must fit the topic's batch limit.
      const maxBytes = Number(b.topicConfig(topic, 'max.message.bytes'));
      let rough = 256 + (input.key?.length ?? 0) + (input.value?.length ?? 0);
      for (const h of input.headers) rough += Buffer.byteLength(h.key) + (h.value?.length ?? 0) + 10;
      if (rough > maxBytes) {
        const deliveredHeaders = [...input.headers, { key: ID_HEADER, value: Buffer.from(String(Number.MAX_SAFE_INTEGER)) }, { key: FIRE_HEADER, value: Buffer.from(String(REPEAT_TIMES_MAX)) }];
        const size = buildRecordBatch([{ key: input.key, value: input.value, headers: deliveredHeaders, timestampMs: now }]).length;
        if (size > maxBytes) {
          throw new HttpError(413, `value: the message is ${size} bytes as a record batch, more than max.message.bytes ${maxBytes} of topic ${topic.name}`);
        }
      }
      const req: ScheduleRequest = {
        topic: topic.name,
        partition,
        key: input.key,
        value: input.value,
        headers: input.headers,
        timestampMs: now,
        deliverAtMs: input.deliverAtMs,
        repeat: input.repeat,
      };
      let scheduled: { ids: number[]; durable: () => Promise<void> };
      try {
        scheduled = b.delays.schedule([req]);
      } catch (err) {
        throw httpError(err, input.timeField);
      }
      await scheduled.durable();
      const id = scheduled.ids[0]!;
      // The schedule as accepted (it may have fired by now: GET tells).
      const state: DelayState = { id, topic: req.topic, partition, state: 'pending', deliverAtMs: req.deliverAtMs, nextFireMs: req.deliverAtMs, fires: 0, repeat: req.repeat, timestampMs: now };
      return reply.code(201).header('location', `${DELAY_MESSAGES_PATH}/${id}`).send(messageJson(state, input.key, input.value, input.headers));
    });

    scope.get<{ Params: { id: string } }>(`${DELAY_MESSAGES_PATH}/:id`, async (request) => {
      const id = parseId(request.params.id);
      const view = broker().delays.get(id);
      if (view === undefined) throw new HttpError(404, `no delay message ${id}`);
      return viewJson(view);
    });

    scope.delete<{ Params: { id: string } }>(`${DELAY_MESSAGES_PATH}/:id`, async (request) => {
      const id = parseId(request.params.id);
      const delays = broker().delays;
      let state: DelayState;
      try {
        state = await delays.cancel(id);
      } catch (err) {
        throw httpError(err);
      }
      const view = delays.get(id);
      return view === undefined ? messageJson(state, null, null, []) : viewJson(view);
    });

    scope.get(DELAY_MESSAGES_PATH, async (request) => {
      const query = request.query as Record<string, unknown>;
      const topicName = queryParam(query, 'topic');
      if (topicName === undefined || topicName === '') throw bad('topic is required (GET /v1/delay-messages?topic=<name>)');
      const fromMs = queryInteger(query, 'fromMs', 0, FAR_FUTURE_MS, 0);
      const toMs = queryInteger(query, 'toMs', 0, FAR_FUTURE_MS, FAR_FUTURE_MS);
      const limit = queryInteger(query, 'limit', 1, LIST_LIMIT_MAX, LIST_LIMIT_DEFAULT);
      const tokenText = queryParam(query, 'pageToken');
      let after = tokenText === undefined || tokenText === '' ? null : decodePageToken(tokenText);
      if (after !== null && after.dueMs < fromMs) after = null; // a cursor before the window: the window's start
      const b = broker();
      const topic = await targetTopic(b, topicName, false);
      // One more than asked for tells whether there is a next page. A page may also end short
      // (even empty) with a next link: one request looks at a bounded number of pending
      // schedules of all topics.
      const { views, stoppedAt } = b.delays.list(topic.name, fromMs, toMs, after, limit + 1);
      const page = views.slice(0, limit);
      let next: string | null = null;
      let nextToken: string | null = null;
      const last = views.length > limit ? page[page.length - 1]! : null;
      const resume = last !== null ? { dueMs: last.nextFireMs, id: last.id } : stoppedAt;
      if (resume !== null) {
        nextToken = encodePageToken(resume.dueMs, resume.id);
        const params = new URLSearchParams({ topic: topic.name });
        if (query.fromMs !== undefined) params.set('fromMs', String(fromMs));
        if (query.toMs !== undefined) params.set('toMs', String(toMs));
        if (query.limit !== undefined) params.set('limit', String(limit));
        params.set('pageToken', nextToken);
        next = `${DELAY_MESSAGES_PATH}?${params.toString()}`;
      }
      return { kind: 'DelayMessageList', metadata: { self: request.url, next, next_page_token: nextToken }, data: page.map(viewJson) };
    });

    scope.get(DELAY_STATS_PATH, async () => {
      const stats = broker().delays.stats();
      return {
        kind: 'DelayStats',
        metadata: { self: DELAY_STATS_PATH },
        pending: stats.pending,
        scheduled: stats.scheduled,
        fired: stats.fired,
        cancelled: stats.cancelled,
        failed: stats.failed,
        lateness: latenessSummary(stats),
      };
    });
  });
}
