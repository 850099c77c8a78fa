// The derived index of scheduled messages: what is due when, and the state of
// every schedule that changed since it was scheduled (fired, cancelled,
// failed; an untouched one is read from its SCHEDULE record, see service.ts). It is a fold of the `__delay` log (README.md): every change
// happens inside `transaction`, together with the new `applied` offset, so the
// index is always the log folded up to `applied`. Two twins: LMDB (durable,
// memory flat in the number of pending messages) and memory (unit tests).

import { rmSync } from 'node:fs';
import { open, type Database, type RootDatabase } from 'lmdb';
import { assert } from '../storage/errors.ts';

export type DelayStateName = 'pending' | 'delivered' | 'cancelled' | 'failed';

/** DDMQ-style loop delays: a fixed interval, or exponential back-off with `multiplier` > 1. */
export interface RepeatSpec {
  intervalMs: number;
  multiplier: number;
  maxIntervalMs: number | null;
  /** Total fires, the first included. */
  times: number | null;
  /** No fire after this time. */
  untilMs: number | null;
}

export interface DelayState {
  id: number;
  topic: string;
  partition: number;
  state: DelayStateName;
  /** The first delivery time asked for. */
  deliverAtMs: number;
  /** When it fires next (pending), or fired last (delivered). */
  nextFireMs: number;
  fires: number;
  repeat: RepeatSpec | null;
  /** The message's own timestamp (born / produce / request time). */
  timestampMs: number;
  /** Why a schedule failed (its target topic or partition went away). */
  reason?: string;
}

export interface DueEntry {
  dueMs: number;
  id: number;
}

/** A dispatch round between its INTENT and DONE records (README.md). */
export interface InFlightRound {
  round: number;
  fires: Array<[id: number, fire: number]>;
  /** Each target partition's end offset before the round. */
  starts: Array<[topic: string, partition: number, offset: number]>;
}

export interface TopicListing {
  entries: DueEntry[];
  stoppedAt: DueEntry | null;
}

export interface DelayIndex {
  /** The next `__delay` offset to fold in (0 for an empty index). */
  readonly applied: number;
  readonly pendingCount: number;
  /** Runs `changes` atomically with `applied` set to `appliedOffset`. */
  transaction(appliedOffset: number, changes: () => void): void;
  // Inside a transaction:
  putState(state: DelayState): void;
  addDue(topic: string, entry: DueEntry): void;
  removeDue(topic: string, entry: DueEntry): void;
  setPendingCount(count: number): void;
  setInFlight(round: InFlightRound | null): void;
  // Reads (see every committed transaction):
  getState(id: number): DelayState | undefined;
  inFlight(): InFlightRound | null;
  hasDue(entry: DueEntry): boolean;
  /** Up to `limit` entries due at or before `uptoMs`, in (dueMs, id) order. */
  due(uptoMs: number, limit: number): DueEntry[];
  firstDueMs(): number | null;
  /**
   * Pending entries of `topic` due in [fromMs, toMs), after the cursor, in (dueMs, id) order:
   * up to `limit` of them among at most `scanMax` due entries of any topic. `stoppedAt` is where
   * the scan ran out of `scanMax` before the window's end (a cursor to go on from), else null.
   */
  listTopic(topic: string, fromMs: number, toMs: number, after: DueEntry | null, limit: number, scanMax: number): TopicListing;
  /** The lowest id among up to `limit` due entries after the cursor (scanned in key order), and where the scan stopped. */
  scanDueIds(after: DueEntry | null, limit: number): { minId: number; last: DueEntry | null };
  /** Drops everything (before a rebuild from the log). */
  clear(): void;
  close(): Promise<void>;
}

function compareDue(a: DueEntry, b: DueEntry): number {
  return a.dueMs - b.dueMs || a.id - b.id;
}

/** In-memory twin for unit tests: same contract, nothing durable. */
export class MemoryDelayIndex implements DelayIndex {
  #applied = 0;
  #pending = 0;
  #inFlight: InFlightRound | null = null;
  readonly #states = new Map<number, DelayState>();
  #due: Array<DueEntry & { topic: string }> = [];
  #sorted = true;

  get applied(): number {
    return this.#applied;
  }

  get pendingCount(): number {
    return this.#pending;
  }

  transaction(appliedOffset: number, changes: () => void): void {
    changes();
    this.#applied = appliedOffset;
  }

  putState(state: DelayState): void {
    this.#states.set(state.id, structuredClone(state));
  }

  addDue(topic: string, entry: DueEntry): void {
    this.#due.push({ topic, dueMs: entry.dueMs, id: entry.id });
    this.#sorted = false;
  }

  removeDue(_topic: string, entry: DueEntry): void {
    const i = this.#due.findIndex((e) => e.id === entry.id && e.dueMs === entry.dueMs);
    if (i >= 0) this.#due.splice(i, 1);
  }

  setPendingCount(count: number): void {
    this.#pending = count;
  }

  setInFlight(round: InFlightRound | null): void {
    this.#inFlight = round === null ? null : structuredClone(round);
  }

  getState(id: number): DelayState | undefined {
    const s = this.#states.get(id);
    return s === undefined ? undefined : structuredClone(s);
  }

  inFlight(): InFlightRound | null {
    return this.#inFlight === null ? null : structuredClone(this.#inFlight);
  }

  #sortedDue(): Array<DueEntry & { topic: string }> {
    if (!this.#sorted) {
      this.#due.sort(compareDue);
      this.#sorted = true;
    }
    return this.#due;
  }

  hasDue(entry: DueEntry): boolean {
    return this.#due.some((e) => e.id === entry.id && e.dueMs === entry.dueMs);
  }

  due(uptoMs: number, limit: number): DueEntry[] {
    const out: DueEntry[] = [];
    for (const e of this.#sortedDue()) {
      if (e.dueMs > uptoMs || out.length >= limit) break;
      out.push({ dueMs: e.dueMs, id: e.id });
    }
    return out;
  }

  firstDueMs(): number | null {
    return this.#sortedDue()[0]?.dueMs ?? null;
  }

  listTopic(topic: string, fromMs: number, toMs: number, after: DueEntry | null, limit: number, scanMax: number): TopicListing {
    const entries: DueEntry[] = [];
    let scanned = 0;
    for (const e of this.#sortedDue()) {
      if (entries.length >= limit || e.dueMs >= toMs) break;
      if (e.dueMs < fromMs || (after !== null && compareDue(e, after) <= 0)) continue;
      if (scanned === scanMax) return { entries, stoppedAt: after };
      scanned++;
      after = { dueMs: e.dueMs, id: e.id };
      if (e.topic === topic) entries.push(after);
    }
    return { entries, stoppedAt: null };
  }

  scanDueIds(after: DueEntry | null, limit: number): { minId: number; last: DueEntry | null } {
    let minId = Infinity;
    let last: DueEntry | null = null;
    let n = 0;
    for (const e of this.#sortedDue()) {
      if (after !== null && compareDue(e, after) <= 0) continue;
      if (n++ >= limit) break;
      if (e.id < minId) minId = e.id;
      last = { dueMs: e.dueMs, id: e.id };
    }
    return { minId, last };
  }

  clear(): void {
    this.#applied = 0;
    this.#pending = 0;
    this.#inFlight = null;
    this.#states.clear();
    this.#due = [];
  }

  async close(): Promise<void> {}
}

/** Bumped when the layout changes: an index of another version is rebuilt from the log. */
const LAYOUT_VERSION = 8;

const STATE_NAMES: readonly DelayStateName[] = ['pending', 'delivered', 'cancelled', 'failed'];
/** state u8 | partition u32 | fires u32 | deliverAtMs f64 | nextFireMs f64 | timestampMs f64 | topic len u16 | rest len u32 | topic | rest JSON (repeat, reason) */
const STATE_FIXED_BYTES = 1 + 4 + 4 + 8 + 8 + 8 + 2 + 4;

/** A state as stored: fixed fields in binary, the rare ones (repeat, reason) as JSON. */
export function encodeState(state: DelayState): Buffer {
  const topicBytes = Buffer.byteLength(state.topic);
  const rest = state.repeat === null && state.reason === undefined ? '' : JSON.stringify({ repeat: state.repeat, reason: state.reason });
  const buf = Buffer.allocUnsafe(STATE_FIXED_BYTES + topicBytes + Buffer.byteLength(rest));
  buf[0] = STATE_NAMES.indexOf(state.state);
  buf.writeUInt32LE(state.partition, 1);
  buf.writeUInt32LE(state.fires, 5);
  buf.writeDoubleLE(state.deliverAtMs, 9);
  buf.writeDoubleLE(state.nextFireMs, 17);
  buf.writeDoubleLE(state.timestampMs, 25);
  buf.writeUInt16LE(topicBytes, 33);
  buf.writeUInt32LE(buf.length - STATE_FIXED_BYTES - topicBytes, 35);
  buf.write(state.topic, STATE_FIXED_BYTES, 'utf8');
  if (rest !== '') buf.write(rest, STATE_FIXED_BYTES + topicBytes, 'utf8');
  return buf;
}

export function decodeState(id: number, buf: Buffer): DelayState {
  const topicBytes = buf.readUInt16LE(33);
  const state: DelayState = {
    id,
    topic: buf.toString('utf8', STATE_FIXED_BYTES, STATE_FIXED_BYTES + topicBytes),
    partition: buf.readUInt32LE(1),
    state: STATE_NAMES[buf[0]!]!,
    deliverAtMs: buf.readDoubleLE(9),
    nextFireMs: buf.readDoubleLE(17),
    fires: buf.readUInt32LE(5),
    repeat: null,
    timestampMs: buf.readDoubleLE(25),
  };
  const restBytes = buf.readUInt32LE(35);
  if (restBytes > 0) {
    const from = STATE_FIXED_BYTES + topicBytes;
    const rest = JSON.parse(buf.toString('utf8', from, from + restBytes)) as { repeat: RepeatSpec | null; reason?: string };
    state.repeat = rest.repeat;
    if (rest.reason !== undefined) state.reason = rest.reason;
  }
  return state;
}

// Binary keys (memcmp order = numeric order for big-endian unsigned values):
// state id(8) · due dueMs(8) id(8), whose value is the target topic's number (1-4 bytes;
// listings filter on it; the `topics` table maps names to numbers). A number rather than the
// name keeps due entries small: the index is most of what grows with pending messages.
const KEY_SCRATCH = Buffer.allocUnsafe(16);
const TWO_32 = 2 ** 32;

function writeU64(buf: Buffer, pos: number, n: number): void {
  buf.writeUInt32BE(Math.floor(n / TWO_32), pos);
  buf.writeUInt32BE(n >>> 0, pos + 4);
}

function readU64(buf: Buffer, pos: number): number {
  return buf.readUInt32BE(pos) * TWO_32 + buf.readUInt32BE(pos + 4);
}

/** A topic number in as few big-endian bytes as hold it (1 for the first 255 topics): unique per number. */
function topicValue(n: number): Buffer {
  const bytes = n < 0x100 ? 1 : n < 0x1_0000 ? 2 : n < 0x100_0000 ? 3 : 4;
  const value = Buffer.allocUnsafe(bytes);
  value.writeUIntBE(n, 0, bytes);
  return value;
}

/** LMDB copies keys at once: the scratch is reused. */
function idKey(id: number): Buffer {
  const key = KEY_SCRATCH.subarray(0, 8);
  writeU64(key, 0, id);
  return key;
}

function dueKey(dueMs: number, id: number, into: Buffer = KEY_SCRATCH): Buffer {
  writeU64(into, 0, dueMs);
  writeU64(into, 8, id);
  return into;
}

/**
 * LMDB twin. `noSync`: the index is derived — kill -9 keeps every committed
 * transaction (page cache); after a power loss it may be behind (replayed from
 * `applied`), ahead of the log or unreadable (rebuilt) — the broker checks.
 */
export class LmdbDelayIndex implements DelayIndex {
  readonly #env: RootDatabase;
  readonly #meta: Database<unknown, string>;
  readonly #states: Database<Buffer, Buffer>;
  readonly #due: Database<Buffer, Buffer>;
  readonly #topics: Database<number, string>;
  /** Topic name → its due-entry value (topicValue of its number); one stable Buffer per topic. */
  #topicValues = new Map<string, Buffer>();
  #nextTopicNumber = 1;
  #applied: number;
  #pending: number;

  private constructor(env: RootDatabase) {
    this.#env = env;
    this.#meta = env.openDB<unknown, string>({ name: 'meta' });
    this.#states = env.openDB<Buffer, Buffer>({ name: 'state', encoding: 'binary', keyEncoding: 'binary' });
    this.#due = env.openDB<Buffer, Buffer>({ name: 'due', encoding: 'binary', keyEncoding: 'binary' });
    this.#topics = env.openDB<number, string>({ name: 'topics' });
    const version = this.#meta.get('version');
    if (version !== undefined && version !== LAYOUT_VERSION) {
      // Layout 6 kept a second, per-topic due index: its pages go too.
      env.openDB<Buffer, Buffer>({ name: 'byTopic', encoding: 'binary', keyEncoding: 'binary' }).dropSync();
      this.clear();
    }
    if (version !== LAYOUT_VERSION) this.#meta.putSync('version', LAYOUT_VERSION);
    this.#applied = (this.#meta.get('applied') as number | undefined) ?? 0;
    this.#pending = (this.#meta.get('pending') as number | undefined) ?? 0;
    this.#loadTopics();
  }

  #loadTopics(): void {
    this.#topicValues = new Map();
    this.#nextTopicNumber = 1;
    for (const { key, value } of this.#topics.getRange()) {
      this.#topicValues.set(key, topicValue(value));
      if (value >= this.#nextTopicNumber) this.#nextTopicNumber = value + 1;
    }
  }

  /** The due-entry value of `topic`, numbering it (inside the running transaction) when new. */
  #topicValue(topic: string): Buffer {
    let value = this.#topicValues.get(topic);
    if (value === undefined) {
      const n = this.#nextTopicNumber++;
      assert(n <= 0xffff_ffff, 'delay index: topic numbers exhausted');
      void this.#topics.put(topic, n);
      value = topicValue(n);
      this.#topicValues.set(topic, value);
    }
    return value;
  }

  /** Opens (or creates) the index in `dir`; an unreadable one is deleted and created empty. */
  static open(dir: string): LmdbDelayIndex {
    // remapChunks: map the file in chunks and let go of the unused ones, so the
    // resident set does not grow with the index (measured: half the RssFile at 1M pending).
    const attempt = (): LmdbDelayIndex => new LmdbDelayIndex(open({ path: dir, noSync: true, compression: false, maxDbs: 8, remapChunks: true }));
    try {
      return attempt();
    } catch {
      rmSync(dir, { recursive: true, force: true });
      return attempt();
    }
  }

  get applied(): number {
    return this.#applied;
  }

  get pendingCount(): number {
    return this.#pending;
  }

  transaction(appliedOffset: number, changes: () => void): void {
    const pendingBefore = this.#pending;
    try {
      this.#env.transactionSync(() => {
        changes();
        this.#meta.put('applied', appliedOffset);
        this.#meta.put('pending', this.#pending);
      });
    } catch (err) {
      this.#pending = pendingBefore;
      this.#loadTopics(); // numbers handed out in the aborted transaction are not stored
      throw err;
    }
    this.#applied = appliedOffset;
  }

  putState(state: DelayState): void {
    void this.#states.put(idKey(state.id), encodeState(state));
  }

  addDue(topic: string, entry: DueEntry): void {
    void this.#due.put(dueKey(entry.dueMs, entry.id), this.#topicValue(topic));
  }

  removeDue(_topic: string, entry: DueEntry): void {
    void this.#due.remove(dueKey(entry.dueMs, entry.id));
  }

  setPendingCount(count: number): void {
    this.#pending = count;
  }

  setInFlight(round: InFlightRound | null): void {
    if (round === null) void this.#meta.remove('inFlight');
    else void this.#meta.put('inFlight', round);
  }

  getState(id: number): DelayState | undefined {
    const stored = this.#states.getBinaryFast(idKey(id)); // a reused buffer: decoded at once
    return stored === undefined ? undefined : decodeState(id, stored);
  }

  inFlight(): InFlightRound | null {
    return (this.#meta.get('inFlight') as InFlightRound | undefined) ?? null;
  }

  hasDue(entry: DueEntry): boolean {
    return this.#due.doesExist(dueKey(entry.dueMs, entry.id));
  }

  due(uptoMs: number, limit: number): DueEntry[] {
    const out: DueEntry[] = [];
    for (const key of this.#due.getKeys({ end: dueKey(uptoMs + 1, 0, Buffer.allocUnsafe(16)), limit })) {
      out.push({ dueMs: readU64(key, 0), id: readU64(key, 8) });
    }
    return out;
  }

  firstDueMs(): number | null {
    for (const key of this.#due.getKeys({ limit: 1 })) return readU64(key, 0);
    return null;
  }

  listTopic(topic: string, fromMs: number, toMs: number, after: DueEntry | null, limit: number, scanMax: number): TopicListing {
    // Due times and ids are integers: (t, id + 1) is the first key after the cursor.
    const start = after === null ? dueKey(fromMs, 0, Buffer.allocUnsafe(16)) : dueKey(after.dueMs, after.id + 1, Buffer.allocUnsafe(16));
    const wanted = this.#topicValues.get(topic);
    const entries: DueEntry[] = [];
    if (wanted === undefined) return { entries, stoppedAt: null }; // never scheduled for: nothing pending
    let scanned = 0;
    let last: DueEntry | null = after;
    // One entry past the bound tells whether the window goes on after it.
    for (const { key, value } of this.#due.getRange({ start, end: dueKey(toMs, 0, Buffer.allocUnsafe(16)), limit: scanMax + 1 })) {
      if (scanned === scanMax) return { entries, stoppedAt: last };
      scanned++;
      last = { dueMs: readU64(key, 0), id: readU64(key, 8) };
      if (value.equals(wanted)) {
        entries.push(last);
        if (entries.length >= limit) return { entries, stoppedAt: null };
      }
    }
    return { entries, stoppedAt: null };
  }

  scanDueIds(after: DueEntry | null, limit: number): { minId: number; last: DueEntry | null } {
    let minId = Infinity;
    let last: DueEntry | null = null;
    const start = after === null ? undefined : dueKey(after.dueMs, after.id + 1, Buffer.allocUnsafe(16));
    for (const key of this.#due.getKeys(start === undefined ? { limit } : { start, limit })) {
      const id = readU64(key, 8);
      if (id < minId) minId = id;
      last = { dueMs: readU64(key, 0), id };
    }
    return { minId, last };
  }

  clear(): void {
    this.#states.clearSync();
    this.#due.clearSync();
    this.#topics.clearSync();
    this.#topicValues = new Map();
    this.#nextTopicNumber = 1;
    this.#meta.clearSync();
    this.#meta.putSync('version', LAYOUT_VERSION);
    this.#applied = 0;
    this.#pending = 0;
  }

  async close(): Promise<void> {
    await this.#env.close();
  }
}
