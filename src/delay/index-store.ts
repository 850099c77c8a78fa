// The derived index of scheduled messages: what is due when, and the state of
// every schedule. It is a fold of the `__delay` log (README.md): every change
// happens inside `transaction`, together with the new `applied` offset, so the
// index is always the log folded up to `applied`. Two twins: LMDB (durable,
// memory flat in the number of pending messages) and memory (unit tests).

import { rmSync } from 'node:fs';
import { open, type Database, type RootDatabase } from 'lmdb';

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
  /** Up to `limit` entries due at or before `uptoMs`, in (dueMs, id) order. */
  due(uptoMs: number, limit: number): DueEntry[];
  firstDueMs(): number | null;
  /** Pending entries of `topic` due in [fromMs, toMs), after the cursor, in (dueMs, id) order. */
  listTopic(topic: string, fromMs: number, toMs: number, after: DueEntry | null, limit: number): DueEntry[];
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

  listTopic(topic: string, fromMs: number, toMs: number, after: DueEntry | null, limit: number): DueEntry[] {
    const out: DueEntry[] = [];
    for (const e of this.#sortedDue()) {
      if (out.length >= limit || e.dueMs >= toMs) break;
      if (e.topic !== topic || e.dueMs < fromMs || (after !== null && compareDue(e, after) <= 0)) continue;
      out.push({ dueMs: e.dueMs, id: e.id });
    }
    return out;
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
const LAYOUT_VERSION = 1;

type StoredState = Omit<DelayState, 'id'>;

/**
 * LMDB twin. `noSync`: the index is derived — kill -9 keeps every committed
 * transaction (page cache); after a power loss it may be behind (replayed from
 * `applied`), ahead of the log or unreadable (rebuilt) — the broker checks.
 */
export class LmdbDelayIndex implements DelayIndex {
  readonly #env: RootDatabase;
  readonly #meta: Database<unknown, string>;
  readonly #states: Database<StoredState, number>;
  readonly #due: Database<string, [number, number]>;
  readonly #byTopic: Database<number, [string, number, number]>;
  #applied: number;
  #pending: number;

  private constructor(env: RootDatabase) {
    this.#env = env;
    this.#meta = env.openDB<unknown, string>({ name: 'meta' });
    this.#states = env.openDB<StoredState, number>({ name: 'state' });
    this.#due = env.openDB<string, [number, number]>({ name: 'due' });
    this.#byTopic = env.openDB<number, [string, number, number]>({ name: 'byTopic' });
    const version = this.#meta.get('version');
    if (version !== undefined && version !== LAYOUT_VERSION) this.clear();
    if (version !== LAYOUT_VERSION) this.#meta.putSync('version', LAYOUT_VERSION);
    this.#applied = (this.#meta.get('applied') as number | undefined) ?? 0;
    this.#pending = (this.#meta.get('pending') as number | undefined) ?? 0;
  }

  /** Opens (or creates) the index in `dir`; an unreadable one is deleted and created empty. */
  static open(dir: string): LmdbDelayIndex {
    const attempt = (): LmdbDelayIndex => new LmdbDelayIndex(open({ path: dir, noSync: true, compression: false, maxDbs: 8 }));
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
      throw err;
    }
    this.#applied = appliedOffset;
  }

  putState(state: DelayState): void {
    const { id, ...stored } = state;
    void this.#states.put(id, stored);
  }

  addDue(topic: string, entry: DueEntry): void {
    void this.#due.put([entry.dueMs, entry.id], topic);
    void this.#byTopic.put([topic, entry.dueMs, entry.id], 0);
  }

  removeDue(topic: string, entry: DueEntry): void {
    void this.#due.remove([entry.dueMs, entry.id]);
    void this.#byTopic.remove([topic, entry.dueMs, entry.id]);
  }

  setPendingCount(count: number): void {
    this.#pending = count;
  }

  setInFlight(round: InFlightRound | null): void {
    if (round === null) void this.#meta.remove('inFlight');
    else void this.#meta.put('inFlight', round);
  }

  getState(id: number): DelayState | undefined {
    const stored = this.#states.get(id);
    return stored === undefined ? undefined : { id, ...stored };
  }

  inFlight(): InFlightRound | null {
    return (this.#meta.get('inFlight') as InFlightRound | undefined) ?? null;
  }

  due(uptoMs: number, limit: number): DueEntry[] {
    const out: DueEntry[] = [];
    for (const key of this.#due.getKeys({ end: [uptoMs + 1] as unknown as [number, number], limit })) {
      out.push({ dueMs: key[0], id: key[1] });
    }
    return out;
  }

  firstDueMs(): number | null {
    for (const key of this.#due.getKeys({ limit: 1 })) return key[0];
    return null;
  }

  listTopic(topic: string, fromMs: number, toMs: number, after: DueEntry | null, limit: number): DueEntry[] {
    // Due times and ids are integers: [t, id + 1] is the first key after the cursor.
    const start = after === null ? [topic, fromMs] : [topic, after.dueMs, after.id + 1];
    const out: DueEntry[] = [];
    for (const key of this.#byTopic.getKeys({ start: start as [string, number, number], end: [topic, toMs] as unknown as [string, number, number], limit })) {
      out.push({ dueMs: key[1], id: key[2] });
    }
    return out;
  }

  clear(): void {
    this.#states.clearSync();
    this.#due.clearSync();
    this.#byTopic.clearSync();
    this.#meta.clearSync();
    this.#meta.putSync('version', LAYOUT_VERSION);
    this.#applied = 0;
    this.#pending = 0;
  }

  async close(): Promise<void> {
    await this.#env.close();
  }
}
