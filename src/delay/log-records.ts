// The records of the `__delay` log (README.md). A SCHEDULE record is the
// message itself (key, value, headers, timestamp) plus control headers naming
// its target and time; CANCEL, INTENT and DONE are small JSON records. The
// log is the truth; the LMDB index is folded from it.

import type { DecodedRecord, HeaderInput, RawHeaders, RecordHeader, RecordInput } from '../storage/records.ts';
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
