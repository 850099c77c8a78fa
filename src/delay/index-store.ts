// The derived index of scheduled messages: what is due when, and the state of
// every schedule that changed since it was scheduled (fired, cancelled,
// failed; an untouched one is read from its SCHEDULE record, see service.ts). It is a fold of the `__delay` log (README.md): every change
// happens inside `transaction`, together with the new `applied` offset, so the
// index is always the log folded up to `applied`. Two twins: LMDB (durable,
// memory flat in the number of pending messages) and memory (unit tests).

import { rmSync } from 'node:fs';
import path from 'node:path';
import { open, type Database, type RootDatabase } from 'lmdb';
import { assert } from '../storage/errors.ts';
import { BucketFiles, bucketKey, bucketStartMs, ENTRY_BYTES, LEVEL0_WIDTH_MS, levelWidthMs, placeLevel, type BucketRecord } from './due-buckets.ts';

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
  /**
   * Moves entries due before `nowMs` + PROMOTE_AHEAD_MS from the far tier into the dispatch
   * order, for at most about `budgetMs`; true when nothing is left to move for now. `due()`
   * never returns an entry the move has not reached, so entries still fire in due order.
   */
  promote(nowMs: number, budgetMs: number): boolean;
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

  promote(_nowMs: number, _budgetMs: number): boolean {
    return true; // one tier: everything is in dispatch order already
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

/**
 * Bumped when the layout changes: an index of another version is rebuilt from the log.
 * 9: the first bucket tier (65.5 s level-0 buckets, 6052fa2); 10: 4.1 s level-0 buckets (9f295cc).
 */
const LAYOUT_VERSION = 10;

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

/** Level-0 buckets move into LMDB this long before they are due (two bucket widths, 8.2 s). */
export const PROMOTE_AHEAD_MS = 2 * LEVEL0_WIDTH_MS;
/** Entries moved per promotion transaction (~5 ms of LMDB inserts). */
const PROMOTE_CHUNK_ENTRIES = 8192;
/** Bucket files one listing reads at most (it also stops after the one that took it past `scanMax` entries). */
const LIST_BUCKETS_MAX = 64;

function alignUp(ms: number, width: number): number {
  return (Math.floor(ms / width) + 1) * width;
}

export interface LmdbDelayIndexOptions {
  /** The clock that places a new (or rebuilt) index's tier bound; Date.now by default. */
  nowMs?: () => number;
}

/**
 * LMDB twin, with a far tier of bucket files (due-buckets.ts): LMDB holds the
 * entries due before `promotedUntilMs`, a little ahead of now, so its size (and
 * the resident set that maps it) follows the near-term rate, not the number
 * pending. `noSync`: the index is derived — kill -9 keeps every committed
 * transaction (page cache); after a power loss it may be behind (replayed from
 * `applied`), ahead of the log or unreadable (rebuilt) — the broker checks.
 */
export class LmdbDelayIndex implements DelayIndex {
  readonly #env: RootDatabase;
  readonly #meta: Database<unknown, string>;
  readonly #states: Database<Buffer, Buffer>;
  readonly #due: Database<Buffer, Buffer>;
  readonly #topics: Database<number, string>;
  readonly #bucketRecords: Database<[number, number, number], string>;
  readonly #files: BucketFiles;
  readonly #nowMs: () => number;
  /** Topic name → its number; number → its due-entry value (topicValue; one stable Buffer per topic). */
  #topicNumbers = new Map<string, number>();
  #topicValues = new Map<number, Buffer>();
  #nextTopicNumber = 1;
  #buckets = new Map<string, BucketRecord>();
  /** Bucket files to delete once the transaction that dropped their records committed. */
  #dropped: BucketRecord[] = [];
  /** The tier bound (a multiple of LEVEL0_WIDTH_MS): due entries before it are in LMDB, the rest in bucket files. */
  #promotedUntil: number;
  #applied: number;
  #pending: number;

  private constructor(env: RootDatabase, dir: string, nowMs: () => number) {
    this.#env = env;
    this.#nowMs = nowMs;
    this.#meta = env.openDB<unknown, string>({ name: 'meta' });
    this.#states = env.openDB<Buffer, Buffer>({ name: 'state', encoding: 'binary', keyEncoding: 'binary' });
    this.#due = env.openDB<Buffer, Buffer>({ name: 'due', encoding: 'binary', keyEncoding: 'binary' });
    this.#topics = env.openDB<number, string>({ name: 'topics' });
    this.#bucketRecords = env.openDB<[number, number, number], string>({ name: 'buckets' });
    this.#files = new BucketFiles(path.join(dir, 'due-buckets'));
    this.#promotedUntil = this.#initialPromotedUntil();
    const version = this.#meta.get('version');
    if (version !== undefined && version !== LAYOUT_VERSION) {
      // Layout 6 kept a second, per-topic due index: its pages go too.
      env.openDB<Buffer, Buffer>({ name: 'byTopic', encoding: 'binary', keyEncoding: 'binary' }).dropSync();
      this.clear();
    }
    if (version !== LAYOUT_VERSION) this.#meta.putSync('version', LAYOUT_VERSION);
    this.#applied = (this.#meta.get('applied') as number | undefined) ?? 0;
    this.#pending = (this.#meta.get('pending') as number | undefined) ?? 0;
    const storedBound = this.#meta.get('promotedUntil') as number | undefined;
    // Stored at once: buckets are placed relative to it, a later clock must not move it.
    if (storedBound === undefined) this.#meta.putSync('promotedUntil', this.#promotedUntil);
    else this.#promotedUntil = storedBound;
    this.#loadTopics();
    this.#loadBuckets();
    // A bucket file shorter than its record lost entries (power loss): start over from the log.
    if (!this.#files.reconcile(this.#buckets.values())) this.clear();
  }

  #initialPromotedUntil(): number {
    return alignUp(this.#nowMs() + PROMOTE_AHEAD_MS, LEVEL0_WIDTH_MS);
  }

  #loadTopics(): void {
    this.#topicNumbers = new Map();
    this.#topicValues = new Map();
    this.#nextTopicNumber = 1;
    for (const { key, value } of this.#topics.getRange()) {
      this.#topicNumbers.set(key, value);
      this.#topicValues.set(value, topicValue(value));
      if (value >= this.#nextTopicNumber) this.#nextTopicNumber = value + 1;
    }
  }

  #loadBuckets(): void {
    this.#buckets = new Map();
    for (const { key, value } of this.#bucketRecords.getRange()) {
      const [level, block] = key.split(':').map(Number) as [number, number];
      this.#buckets.set(key, { level, block, bytes: value[0], consumed: value[1], minId: value[2] });
    }
  }

  /** `topic`'s number, handed out (inside the running transaction) when new. */
  #topicNumber(topic: string): number {
    let n = this.#topicNumbers.get(topic);
    if (n === undefined) {
      n = this.#nextTopicNumber++;
      assert(n <= 0xffff_ffff, 'delay index: topic numbers exhausted');
      void this.#topics.put(topic, n);
      this.#topicNumbers.set(topic, n);
      this.#topicValues.set(n, topicValue(n));
    }
    return n;
  }

  /** Opens (or creates) the index in `dir`; an unreadable one is deleted and created empty. */
  static open(dir: string, options: LmdbDelayIndexOptions = {}): LmdbDelayIndex {
    const nowMs = options.nowMs ?? Date.now;
    // remapChunks: map the file in chunks and let go of the unused ones (measured: half the RssFile at 1M pending).
    const attempt = (): LmdbDelayIndex => new LmdbDelayIndex(open({ path: dir, noSync: true, compression: false, maxDbs: 8, remapChunks: true }), dir, nowMs);
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

  /** One LMDB transaction; staged bucket entries are written out (page cache) before it commits. */
  #txn(body: () => void): void {
    const pendingBefore = this.#pending;
    const promotedBefore = this.#promotedUntil;
    try {
      this.#env.transactionSync(() => {
        body();
        for (const r of this.#files.writeStaged()) this.#putBucketRecord(r);
      });
    } catch (err) {
      this.#pending = pendingBefore;
      this.#promotedUntil = promotedBefore;
      this.#files.dropStaged();
      this.#dropped = [];
      this.#loadTopics(); // numbers handed out in the aborted transaction are not stored
      this.#loadBuckets(); // file bytes written past a record are overwritten by the next append
      throw err;
    }
    for (const r of this.#dropped) this.#files.remove(r);
    this.#dropped = [];
  }

  transaction(appliedOffset: number, changes: () => void): void {
    this.#txn(() => {
      changes();
      this.#meta.put('applied', appliedOffset);
      this.#meta.put('pending', this.#pending);
    });
    this.#applied = appliedOffset;
  }

  putState(state: DelayState): void {
    void this.#states.put(idKey(state.id), encodeState(state));
  }

  addDue(topic: string, entry: DueEntry): void {
    this.#place(entry.dueMs, entry.id, this.#topicNumber(topic));
  }

  /** Into LMDB when due before the tier bound, else staged for its bucket. */
  #place(dueMs: number, id: number, topicNumber: number): void {
    if (dueMs < this.#promotedUntil) {
      void this.#due.put(dueKey(dueMs, id), this.#topicValues.get(topicNumber)!);
      return;
    }
    const level = placeLevel(dueMs, this.#promotedUntil);
    const block = Math.floor(dueMs / levelWidthMs(level));
    const key = bucketKey(level, block);
    let record = this.#buckets.get(key);
    if (record === undefined) this.#buckets.set(key, (record = { level, block, bytes: 0, consumed: 0, minId: Infinity }));
    this.#files.stage(record, dueMs, id, topicNumber);
  }

  removeDue(_topic: string, entry: DueEntry): void {
    // An entry still in a bucket file stays there: promotion skips it (its state no longer matches).
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
    // At or after the bound: in a bucket (or moved from one), not yet dispatched.
    return entry.dueMs >= this.#promotedUntil || this.#due.doesExist(dueKey(entry.dueMs, entry.id));
  }

  due(uptoMs: number, limit: number): DueEntry[] {
    const out: DueEntry[] = [];
    // Entries of a bucket being moved may be in LMDB already; the bound keeps due order.
    const upto = Math.min(uptoMs, this.#promotedUntil - 1);
    for (const key of this.#due.getKeys({ end: dueKey(upto + 1, 0, Buffer.allocUnsafe(16)), limit })) {
      out.push({ dueMs: readU64(key, 0), id: readU64(key, 8) });
    }
    return out;
  }

  firstDueMs(): number | null {
    for (const key of this.#due.getKeys({ limit: 1 })) return readU64(key, 0);
    return null;
  }

  promote(nowMs: number, budgetMs: number): boolean {
    const deadline = performance.now() + budgetMs;
    // Bounded: each step moves a chunk or advances the bound to the next bucket (a bucket of 2^32 entries is the most).
    for (let step = 0; step < 1 << 30; step++) {
      if (step > 0 && performance.now() >= deadline) return false;
      // A bucket of level >= 1 whose span P entered is spread into lower levels first (and,
      // defensively, a level-0 bucket left behind P goes into LMDB).
      let spreading: BucketRecord | undefined;
      for (const r of this.#buckets.values()) {
        const start = bucketStartMs(r);
        if (r.level >= 1 ? start <= this.#promotedUntil : start < this.#promotedUntil) {
          spreading = r;
          break;
        }
      }
      if (spreading !== undefined) {
        const record = spreading;
        this.#txn(() => this.#moveChunk(record));
        continue;
      }
      if (nowMs + PROMOTE_AHEAD_MS < this.#promotedUntil) return true;
      const first = this.#buckets.get(bucketKey(0, this.#promotedUntil / LEVEL0_WIDTH_MS));
      if (first !== undefined && first.consumed < first.bytes) {
        this.#txn(() => this.#moveChunk(first));
        continue;
      }
      // The bucket at P is in LMDB: P moves on, to the next bucket's start at most (none is skipped).
      let next = alignUp(nowMs + PROMOTE_AHEAD_MS, LEVEL0_WIDTH_MS);
      for (const r of this.#buckets.values()) {
        const start = bucketStartMs(r);
        if (start > this.#promotedUntil && start < next) next = start;
      }
      this.#txn(() => {
        if (first !== undefined) this.#drop(first);
        this.#promotedUntil = next;
        this.#meta.put('promotedUntil', next);
      });
    }
    return false;
  }

  /** Moves up to PROMOTE_CHUNK_ENTRIES of a bucket on: a level-0 one into LMDB, others into lower levels. */
  #moveChunk(record: BucketRecord): void {
    const buf = this.#files.read(record, record.consumed, PROMOTE_CHUNK_ENTRIES * ENTRY_BYTES);
    const count = buf.length / ENTRY_BYTES;
    // In (due, id) order: LMDB inserts in key order touch each page once.
    const order = Array.from({ length: count }, (_, i) => i * ENTRY_BYTES);
    if (record.level === 0) order.sort((a, b) => buf.readDoubleLE(a) - buf.readDoubleLE(b) || buf.readDoubleLE(a + 8) - buf.readDoubleLE(b + 8));
    for (const pos of order) {
      const dueMs = buf.readDoubleLE(pos);
      const id = buf.readDoubleLE(pos + 8);
      const topicNumber = buf.readUInt32LE(pos + 16);
      if (record.level > 0) this.#place(dueMs, id, topicNumber);
      else if (this.#stillPending(id, dueMs)) void this.#due.put(dueKey(dueMs, id), this.#topicValues.get(topicNumber)!);
    }
    record.consumed += buf.length;
    if (record.consumed >= record.bytes) this.#drop(record);
    else this.#putBucketRecord(record);
  }

  #putBucketRecord(r: BucketRecord): void {
    void this.#bucketRecords.put(bucketKey(r.level, r.block), [r.bytes, r.consumed, r.minId]);
  }

  /** A bucket entry is still wanted unless its schedule changed since (cancelled, or a repeat moved on). */
  #stillPending(id: number, dueMs: number): boolean {
    const stored = this.#states.getBinaryFast(idKey(id));
    if (stored === undefined) return true;
    const state = decodeState(id, stored);
    return state.state === 'pending' && state.nextFireMs === dueMs;
  }

  #drop(record: BucketRecord): void {
    const key = bucketKey(record.level, record.block);
    this.#buckets.delete(key);
    void this.#bucketRecords.remove(key);
    this.#dropped.push(record);
  }

  listTopic(topic: string, fromMs: number, toMs: number, after: DueEntry | null, limit: number, scanMax: number): TopicListing {
    // Due times and ids are integers: (t, id + 1) is the first key after the cursor.
    const start = after === null ? dueKey(fromMs, 0, Buffer.allocUnsafe(16)) : dueKey(after.dueMs, after.id + 1, Buffer.allocUnsafe(16));
    const wantedNumber = this.#topicNumbers.get(topic);
    let entries: DueEntry[] = [];
    if (wantedNumber === undefined) return { entries, stoppedAt: null }; // never scheduled for: nothing pending
    const wanted = this.#topicValues.get(wantedNumber)!;
    let scanned = 0;
    let last: DueEntry | null = after;
    let stoppedAt: DueEntry | null = null;
    // LMDB first. One entry past the bound tells whether the window goes on after it.
    for (const { key, value } of this.#due.getRange({ start, end: dueKey(toMs, 0, Buffer.allocUnsafe(16)), limit: scanMax + 1 })) {
      if (scanned === scanMax) {
        stoppedAt = last;
        break;
      }
      scanned++;
      last = { dueMs: readU64(key, 0), id: readU64(key, 8) };
      if (value.equals(wanted)) {
        entries.push(last);
        if (entries.length >= limit) break;
      }
    }
    // Then the buckets' entries not yet in LMDB, up to where the LMDB scan stopped; their levels
    // cover disjoint spans, read in time order, each whole (a file is in append order, not due order).
    const endKey: DueEntry = entries.length >= limit ? entries.at(-1)! : (stoppedAt ?? { dueMs: toMs, id: -1 });
    const inWindow = (e: DueEntry): boolean => e.dueMs >= fromMs && compareDue(e, endKey) <= 0 && e.dueMs < toMs && (after === null || compareDue(e, after) > 0);
    const lastMsOf = (r: BucketRecord): number => bucketStartMs(r) + levelWidthMs(r.level) - 1;
    // A cursor with id MAX_SAFE_INTEGER is a bucket's end (set below): that bucket is done with.
    const beforeCursor = (r: BucketRecord): boolean => after !== null && (lastMsOf(r) < after.dueMs || (lastMsOf(r) === after.dueMs && after.id >= Number.MAX_SAFE_INTEGER));
    const buckets = [...this.#buckets.values()]
      .filter((r) => r.consumed < r.bytes && lastMsOf(r) >= fromMs && !beforeCursor(r) && bucketStartMs(r) <= endKey.dueMs)
      .sort((a, b) => bucketStartMs(a) - bucketStartMs(b));
    const fromBuckets: DueEntry[] = [];
    for (let i = 0; i < buckets.length; i++) {
      const r = buckets[i]!;
      for (let from = r.consumed; from < r.bytes; ) {
        const buf = this.#files.read(r, from, PROMOTE_CHUNK_ENTRIES * ENTRY_BYTES);
        if (buf.length === 0) break;
        from += buf.length;
        for (let pos = 0; pos < buf.length; pos += ENTRY_BYTES) {
          const e = { dueMs: buf.readDoubleLE(pos), id: buf.readDoubleLE(pos + 8) };
          scanned++;
          if (buf.readUInt32LE(pos + 16) === wantedNumber && inWindow(e) && this.#stillPending(e.id, e.dueMs)) fromBuckets.push(e);
        }
      }
      if ((scanned >= scanMax || i + 1 >= LIST_BUCKETS_MAX) && i + 1 < buckets.length) {
        // Go on after this bucket's span next time.
        const end = lastMsOf(r);
        if (stoppedAt === null || end < stoppedAt.dueMs) stoppedAt = { dueMs: end, id: Number.MAX_SAFE_INTEGER };
        break;
      }
    }
    if (fromBuckets.length > 0) {
      entries = entries.concat(fromBuckets).sort(compareDue);
      if (stoppedAt !== null) entries = entries.filter((e) => compareDue(e, stoppedAt!) <= 0);
    }
    if (entries.length >= limit) return { entries: entries.slice(0, limit), stoppedAt: null };
    return { entries, stoppedAt };
  }

  scanDueIds(after: DueEntry | null, limit: number): { minId: number; last: DueEntry | null } {
    let minId = Infinity;
    // Bucket entries count once, on the first step (their files are not in key order).
    if (after === null) for (const r of this.#buckets.values()) if (r.minId < minId) minId = r.minId;
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
    this.#bucketRecords.clearSync();
    this.#files.removeAll();
    this.#buckets = new Map();
    this.#topicNumbers = new Map();
    this.#topicValues = new Map();
    this.#nextTopicNumber = 1;
    this.#meta.clearSync();
    this.#meta.putSync('version', LAYOUT_VERSION);
    this.#promotedUntil = this.#initialPromotedUntil();
    this.#meta.putSync('promotedUntil', this.#promotedUntil);
    this.#applied = 0;
    this.#pending = 0;
  }

  async close(): Promise<void> {
    this.#files.closeAll();
    await this.#env.close();
  }
}
