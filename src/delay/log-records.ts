// The records of the `__delay` log (README.md). A SCHEDULE record is the
// message itself (key, value, headers, timestamp) plus control headers naming
// its target and time; CANCEL, INTENT and DONE are small JSON records. The
// log is the truth; the LMDB index is folded from it.

import { isCompressed, locateRecord, newHeaderLocation, newRecordLocation, nextHeader, type DecodedRecord, type HeaderLocation, type HeaderInput, type RawHeaders, type RecordHeader, type RecordInput } from '../storage/records.ts';
import type { InFlightRound, RepeatSpec } from './index-store.ts';

export const DELAY_TOPIC = '__delay';
/** Headers of this prefix are the delay module's own: never part of a scheduled message. */
export const CONTROL_PREFIX = '__delay.';
/** CONTROL_PREFIX as bytes, for readRecordAtKeeping: a firing decodes only the control headers. */
export const CONTROL_PREFIX_BYTES = Buffer.from(CONTROL_PREFIX, 'utf8');
export const ID_HEADER = '__delay.id';
export const FIRE_HEADER = '__delay.fire';
const OP = '__delay.op';
const TOPIC = '__delay.topic';
const PARTITION = '__delay.partition';
const AT = '__delay.at';
const REPEAT = '__delay.repeat';

export interface ScheduleRecord {
  kind: 'schedule';
  topic: string;
  partition: number;
  deliverAtMs: number;
  repeat: RepeatSpec | null;
  key: Buffer | null;
  value: Buffer | null;
  /** The message's own headers (control headers removed)... */
  headers: RecordHeader[];
  /** ...or, when read for a firing, left encoded here (then `headers` is empty). */
  rawHeaders: RawHeaders | null;
  timestampMs: number;
}

export interface CancelRecord {
  kind: 'cancel';
  id: number;
}

export interface IntentRecord extends InFlightRound {
  kind: 'intent';
}

export interface DoneRecord {
  kind: 'done';
  /** The INTENT this settles (its offset). */
  round: number;
  /** Fires that could not be delivered (their target went away), with why. */
  failed: Array<[id: number, reason: string]>;
}

export type DelayLogRecord = ScheduleRecord | CancelRecord | IntentRecord | DoneRecord;

export function scheduleInput(s: Omit<ScheduleRecord, 'kind' | 'headers' | 'rawHeaders'> & { headers: readonly HeaderInput[] }): RecordInput {
  const headers: HeaderInput[] = [
    { key: TOPIC, value: s.topic },
    { key: PARTITION, value: String(s.partition) },
    { key: AT, value: String(s.deliverAtMs) },
  ];
  if (s.repeat !== null) headers.push({ key: REPEAT, value: JSON.stringify(s.repeat) });
  for (const h of s.headers) if (!h.key.startsWith(CONTROL_PREFIX)) headers.push(h);
  return { key: s.key, value: s.value, headers, timestampMs: s.timestampMs };
}

export function controlInput(record: CancelRecord | IntentRecord | DoneRecord, timestampMs: number): RecordInput {
  const { kind, ...body } = record;
  return { key: null, value: Buffer.from(JSON.stringify(body), 'utf8'), headers: [{ key: OP, value: kind }], timestampMs };
}

/** The record as delivered to its target: the message's headers plus which schedule and fire it is. */
export function deliveryInput(s: ScheduleRecord, id: number, fire: number): RecordInput {
  // Kept encoded (a firing): copied as stored, written before these; else `headers` holds them.
  const headers: HeaderInput[] = s.rawHeaders !== null ? [] : s.headers.slice();
  headers.push({ key: ID_HEADER, value: String(id) }, { key: FIRE_HEADER, value: String(fire) });
  return { key: s.key, value: s.value, rawHeaders: s.rawHeaders, headers, timestampMs: s.timestampMs };
}

function headerText(h: RecordHeader): string {
  return h.value === null ? '' : h.value.toString('utf8');
}

/** Decodes one `__delay` record; throws on a record this module did not write. */
export function decodeDelayRecord(record: DecodedRecord): DelayLogRecord {
  let op: string | null = null;
  let topic: string | null = null;
  let partition = -1;
  let at = -1;
  let repeat: RepeatSpec | null = null;
  const headers: RecordHeader[] = [];
  for (const h of record.headers) {
    if (!h.key.startsWith(CONTROL_PREFIX)) headers.push(h);
    else if (h.key === OP) op = headerText(h);
    else if (h.key === TOPIC) topic = headerText(h);
    else if (h.key === PARTITION) partition = Number(headerText(h));
    else if (h.key === AT) at = Number(headerText(h));
    else if (h.key === REPEAT) repeat = JSON.parse(headerText(h)) as RepeatSpec;
  }
  if (op === null) {
    if (topic === null || !Number.isInteger(partition) || partition < 0 || !Number.isFinite(at)) {
      throw new Error(`__delay record at offset ${record.offset} is not a schedule record`);
    }
    return { kind: 'schedule', topic, partition, deliverAtMs: at, repeat, key: record.key, value: record.value, headers, rawHeaders: record.rawHeaders ?? null, timestampMs: record.timestampMs };
  }
  const body = JSON.parse(record.value === null ? '{}' : record.value.toString('utf8')) as Record<string, unknown>;
  if (op === 'cancel' || op === 'intent' || op === 'done') return { kind: op, ...body } as DelayLogRecord;
  throw new Error(`__delay record at offset ${record.offset} has unknown op ${JSON.stringify(op)}`);
}

const TOPIC_BYTES = Buffer.from(TOPIC, 'utf8');
const PARTITION_BYTES = Buffer.from(PARTITION, 'utf8');
const AT_BYTES = Buffer.from(AT, 'utf8');
const REPEAT_BYTES = Buffer.from(REPEAT, 'utf8');
const FIRING_LOC = newRecordLocation();
const FIRING_HEADER = newHeaderLocation();
// Schedules of one round mostly name a few topics: the last name's bytes and string, reused.
let lastTopicBytes = Buffer.alloc(0);
let lastTopic = '';

function bytesEqual(buf: Buffer, start: number, length: number, expected: Buffer): boolean {
  if (length !== expected.length) return false;
  for (let i = 0; i < length; i++) if (buf[start + i] !== expected[i]) return false;
  return true;
}

/** True when the header `h` walks over has a key starting with CONTROL_PREFIX. */
function isControlKey(buf: Buffer, h: HeaderLocation): boolean {
  return h.keyLength >= CONTROL_PREFIX_BYTES.length && bytesEqual(buf, h.keyStart, CONTROL_PREFIX_BYTES.length, CONTROL_PREFIX_BYTES);
}

/** A non-negative decimal integer written as ASCII digits (as scheduleInput writes them), or -1. */
function asciiInteger(buf: Buffer, start: number, length: number): number {
  if (length <= 0 || length > 16) return -1;
  let n = 0;
  for (let i = 0; i < length; i++) {
    const d = buf[start + i]! - 0x30;
    if (d < 0 || d > 9) return -1;
    n = n * 10 + d;
  }
  return n;
}

function topicAt(buf: Buffer, start: number, length: number): string {
  if (!bytesEqual(buf, start, length, lastTopicBytes)) {
    lastTopic = buf.toString('utf8', start, start + length);
    lastTopicBytes = Buffer.from(buf.subarray(start, start + length));
  }
  return lastTopic;
}

/**
 * The SCHEDULE record at offset `id` of the batch at `pos`, read for firing (the message's own
 * headers kept encoded, as readRecordAtKeeping + decodeDelayRecord give it) straight from the
 * bytes: no object per header, no string per control header. Undefined when the record is not
 * laid out as scheduleInput writes it (compressed, a control header after the message's own, an
 * OP record, a number not in plain digits): the caller then decodes it the general way.
 */
export function scheduleForFiring(batch: Buffer, pos: number, id: number): ScheduleRecord | null | undefined {
  const loc = FIRING_LOC;
  if (!locateRecord(batch, pos, id, loc)) return isCompressed(batch, pos) ? undefined : null;
  const h = FIRING_HEADER;
  h.pos = loc.headersStart;
  h.end = loc.end;
  let topic: string | null = null;
  let partition = -1;
  let at = -1;
  let repeat: RepeatSpec | null = null;
  let i = 0;
  let rawAt = h.pos;
  for (; i < loc.headerCount; i++) {
    rawAt = h.pos;
    nextHeader(batch, h);
    if (!isControlKey(batch, h)) break;
    if (bytesEqual(batch, h.keyStart, h.keyLength, TOPIC_BYTES)) topic = topicAt(batch, h.valueStart, Math.max(0, h.valueLength));
    else if (bytesEqual(batch, h.keyStart, h.keyLength, PARTITION_BYTES)) partition = asciiInteger(batch, h.valueStart, h.valueLength);
    else if (bytesEqual(batch, h.keyStart, h.keyLength, AT_BYTES)) at = asciiInteger(batch, h.valueStart, h.valueLength);
    else if (bytesEqual(batch, h.keyStart, h.keyLength, REPEAT_BYTES)) repeat = JSON.parse(batch.toString('utf8', h.valueStart, h.valueStart + Math.max(0, h.valueLength))) as RepeatSpec;
    else return undefined; // OP (not a schedule) or a control header this reader does not know
  }
  if (i === loc.headerCount) rawAt = h.pos; // no headers of the message's own
  // The message's own headers (from rawAt): the rest must hold no control header, else the general path.
  for (let j = i + 1; j < loc.headerCount; j++) {
    nextHeader(batch, h);
    if (isControlKey(batch, h)) return undefined;
  }
  if (h.pos !== loc.end || topic === null || partition < 0 || at < 0) return undefined;
  return {
    kind: 'schedule',
    topic,
    partition,
    deliverAtMs: at,
    repeat,
    key: loc.keyLength < 0 ? null : batch.subarray(loc.keyStart, loc.keyStart + loc.keyLength),
    value: loc.valueLength < 0 ? null : batch.subarray(loc.valueStart, loc.valueStart + loc.valueLength),
    headers: [],
    rawHeaders: { bytes: batch.subarray(rawAt, loc.end), count: loc.headerCount - i },
    timestampMs: loc.timestampMs,
  };
}

/** The (id, fire) a delivered record carries, or null for any other record. */
export function deliveredFire(record: DecodedRecord): { id: number; fire: number } | null {
  let id = -1;
  let fire = -1;
  for (const h of record.headers) {
    if (h.key === ID_HEADER) id = Number(headerText(h));
    else if (h.key === FIRE_HEADER) fire = Number(headerText(h));
  }
  return id >= 0 && fire >= 1 ? { id, fire } : null;
}
