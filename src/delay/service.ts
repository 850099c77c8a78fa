// The delay service: accepts schedules, cancels, answers queries, and hands
// due messages to their targets exactly once (README.md). Every change is a
// `__delay` record first; the index follows in the same order (a queue of
// parsed changes flushed at the end of the turn, in transactions of at most
// APPLY_QUEUE_MAX, so a burst of sends costs few index commits). A dispatch round is synchronous from INTENT to
// DONE: no cancel or schedule can interleave with it.

import { assert, invariantFailed } from '../storage/errors.ts';
import type { PartitionLog } from '../storage/partition-log.ts';
import type { PointPrefetch } from '../storage/point-prefetch.ts';
import { buildRecordBatch, buildRecordBatches, forEachBatch, readRecordAt, readRecordAtKeeping, readRecords, type HeaderInput, type RecordHeader, type RecordInput } from '../storage/records.ts';
import { BASE_OFFSET, BATCH_LENGTH, LAST_OFFSET_DELTA, LOG_OVERHEAD, RECORDS as RECORDS_START, readInt32, readInt64 } from '../storage/record-batch.ts';
import type { ReadResult } from '../storage/types.ts';
import type { DelayIndex, DelayState, DueEntry, InFlightRound, RepeatSpec } from './index-store.ts';
import {
  CONTROL_PREFIX_BYTES,
  controlInput,
  decodeDelayRecord,
  deliveredFire,
  deliveryInput,
  scheduleForFiring,
  scheduleInput,
  type DelayLogRecord,
  type DoneRecord,
  type ScheduleRecord,
} from './log-records.ts';

/** Entries handed over per dispatch round: bounds the time one round holds the event loop. */
export const DISPATCH_BATCH_MAX = 512;
/** Bytes of records per batch appended to a target. */
const DELIVERY_BATCH_BYTES_MAX = 256 * 1024;
/** Queued index changes before they are applied at once rather than at the end of the turn. */
const APPLY_QUEUE_MAX = 1024;
/** The dispatcher looks at the index at least this often even with nothing due (clock jumps). */
const IDLE_POLL_MS = 1000;
/** Bytes read per step when replaying `__delay` and when scanning targets after a crash. */
const READ_BYTES = 256 * 1024;
/** Pending schedules (of every topic) one listing call looks at, at most (~10 ms). */
export const LIST_SCAN_MAX = 20_000;
/** A schedule read reads ahead over at most this many following due ids... */
const READ_AHEAD_IDS_MAX = 1024;
/** ...while they average at most this many `__delay` offsets apart (else each id is read alone). */
const READ_AHEAD_DENSITY = 4;
/**
 * Work per dispatch turn before yielding to the event loop: consumers pull
 * what was just delivered between turns, and a pull waits for the turn in
 * progress (a 50 ms budget held pulls back so that a backlog reached consumers
 * at half the rate it was delivered). 1 ms is one round per turn: the bench/delay
 * rate phase with the Java push consumer received 80.6k/s at 10 ms, 91.4k/s at 2 ms
 * and 94.1k/s at 1 ms (one run each, `--only diglot --phases rate --sender node`).
 */
const TICK_BUDGET_MS = 1;
/** Of which moving far-tier entries into the dispatch order may take this much (index.promote). */
const PROMOTE_BUDGET_MS = 5;
/** How often `__delay` is trimmed below the lowest pending id. */
const TRIM_INTERVAL_MS = 60_000;
/** Due entries looked at per step of the trim scan (the scan yields between steps). */
const TRIM_SCAN_STEP = 20_000;

export type DelayErrorCode = 'INVALID_ARGUMENT' | 'BEYOND_HORIZON' | 'UNKNOWN_TOPIC_OR_PARTITION' | 'NOT_FOUND' | 'CONFLICT';

export class DelayError extends Error {
  readonly code: DelayErrorCode;
  /** The input field at fault, for 400 answers. */
  readonly field: string | null;

  constructor(code: DelayErrorCode, message: string, field: string | null = null) {
    super(message);
    this.code = code;
    this.field = field;
  }
}

/** What the service needs of the broker to deliver (the broker implements it; tests fake it). */
export interface DelayTargets {
  /** Partitions of a user topic, undefined when it does not exist. */
  partitionCount(topic: string): number | undefined;
  endOffset(topic: string, partition: number): number;
  /** Appends one batch to a target partition and wakes its long polls; throws on a storage error. */
  append(topic: string, partition: number, batch: Buffer): void;
  /** Writes every staged append out (page cache). */
  commit(): void;
  read(topic: string, partition: number, offset: number, maxBytes: number): ReadResult | null;
}

export interface ScheduleRequest {
  topic: string;
  partition: number;
  key: Buffer | null;
  value: Buffer | null;
  headers: readonly HeaderInput[];
  timestampMs: number;
  deliverAtMs: number;
  repeat: RepeatSpec | null;
}

export interface DelayServiceOptions {
  /** `__delay` partition 0. */
  log: PartitionLog;
  index: DelayIndex;
  targets: DelayTargets;
  nowMs: () => number;
  /** Latest accepted delivery time, relative to now. */
  horizonMs: number;
  /** false: no timers; tests drive `runDue()` with their own clock. */
  autoDispatch?: boolean;
  /** Moves the `__delay` log start (LogManager.advanceLogStart); without it the log is never trimmed. */
  advanceLogStart?: (offset: number) => Promise<void>;
  onError?: (err: unknown, context: string) => void;
}

export interface DelayView extends DelayState {
  key: Buffer | null;
  value: Buffer | null;
  headers: RecordHeader[];
}

export interface DelayStats {
  pending: number;
  scheduled: number;
  fired: number;
  cancelled: number;
  failed: number;
  /** Lateness of fires (fire time − due) by power-of-two ms bucket: bucket i counts [2^(i-1), 2^i), bucket 0 is < 1 ms. */
  latenessBuckets: number[];
  latenessMaxMs: number;
}

interface QueuedChange {
  offset: number;
  record: DelayLogRecord;
}

const LATENESS_BUCKETS = 32;

export class DelayService {
  readonly #log: PartitionLog;
  readonly #index: DelayIndex;
  readonly #targets: DelayTargets;
  readonly #nowMs: () => number;
  readonly #horizonMs: number;
  readonly #autoDispatch: boolean;
  readonly #onError: (err: unknown, context: string) => void;
  readonly #advanceLogStart: ((offset: number) => Promise<void>) | null;
  #trimTimer: NodeJS.Timeout | null = null;
  #trimming: Promise<number> | null = null;
  #queue: QueuedChange[] = [];
  #applyScheduled = false;
  #timer: NodeJS.Timeout | null = null;
  #immediate: NodeJS.Immediate | null = null;
  #timerAtMs = Infinity;
  #closed = false;
  /** False while the index has far-tier entries left to move for now (the tick comes back soon). */
  #promoted = true;
  /** The next round's SCHEDULE records, read ahead on the storage helper thread (#tickRound). */
  #readAhead: PointPrefetch | null = null;
  /** A read ahead is in flight: its landing ticks again. */
  #readingAhead = false;
  /** The slab of the read ahead before last, free for the next one. */
  #spareSlab: ArrayBuffer | undefined = undefined;
  /** The helper thread failed once: dispatch reads on the event loop from then on. */
  #readAheadOff = false;
  /** States read by the running dispatch round, reused when its DONE is applied. */
  #roundStates: Map<number, DelayState> | null = null;
  readonly #stats: DelayStats = { pending: 0, scheduled: 0, fired: 0, cancelled: 0, failed: 0, latenessBuckets: new Array<number>(LATENESS_BUCKETS).fill(0), latenessMaxMs: 0 };

  private constructor(options: DelayServiceOptions) {
    this.#log = options.log;
    this.#index = options.index;
    this.#targets = options.targets;
    this.#nowMs = options.nowMs;
    this.#horizonMs = options.horizonMs;
    this.#autoDispatch = options.autoDispatch ?? true;
    this.#onError = options.onError ?? (() => {});
    this.#advanceLogStart = options.advanceLogStart ?? null;
    if (this.#autoDispatch && this.#advanceLogStart !== null) {
      this.#trimTimer = setInterval(() => {
        this.trim().catch((err: unknown) => this.#onError(err, 'delay log trim'));
      }, TRIM_INTERVAL_MS);
      this.#trimTimer.unref?.();
    }
  }

  /**
   * Folds the log into the index (rebuilding it when it cannot be trusted),
   * settles a round a crash interrupted, and starts dispatching.
   */
  static open(options: DelayServiceOptions): DelayService {
    const service = new DelayService(options);
    service.#recover();
    service.#armTimer(service.#nowMs());
    return service;
  }

  get pendingCount(): number {
    this.#applyQueued();
    return this.#index.pendingCount;
  }

  stats(): DelayStats {
    this.#stats.pending = this.pendingCount;
    return { ...this.#stats, latenessBuckets: this.#stats.latenessBuckets.slice() };
  }

  // ---- schedule / cancel / query -------------------------------------------

  /** Throws DelayError when a request cannot be held (nothing is stored then). */
  #validate(request: ScheduleRequest, nowMs: number): void {
    const at = request.deliverAtMs;
    if (!Number.isSafeInteger(at) || at < 0) throw new DelayError('INVALID_ARGUMENT', `delivery time ${at} is not a time in ms since the epoch`, 'deliverAtMs');
    if (at > nowMs + this.#horizonMs) {
      throw new DelayError('BEYOND_HORIZON', `delivery time ${new Date(at).toISOString()} is beyond the horizon of ${this.#horizonMs} ms from now`, 'deliverAtMs');
    }
    const partitions = this.#targets.partitionCount(request.topic);
    if (partitions === undefined) throw new DelayError('UNKNOWN_TOPIC_OR_PARTITION', `topic ${request.topic} does not exist`, 'topic');
    if (!Number.isInteger(request.partition) || request.partition < 0 || request.partition >= partitions) {
      throw new DelayError('UNKNOWN_TOPIC_OR_PARTITION', `partition ${request.partition} of ${request.topic} does not exist (it has ${partitions})`, 'partition');
    }
    if (request.repeat !== null) validateRepeat(request.repeat, at);
  }

  /**
   * Stores the requests in `__delay` and returns their ids at once; `durable()`
   * resolves when the log's flush policy has them on disk.
   */
  schedule(requests: readonly ScheduleRequest[]): { ids: number[]; durable: () => Promise<void> } {
    assert(!this.#closed, 'delay service is closed');
    assert(requests.length > 0, 'schedule needs at least one request');
    const now = this.#nowMs();
    for (const r of requests) this.#validate(r, now);
    // One batch per message, appended at once: firing reads back just that message's bytes.
    const info = this.#log.append(buildRecordBatches(requests.map(scheduleInput)));
    const ids: number[] = [];
    let earliest = Infinity;
    for (let i = 0; i < requests.length; i++) {
      const r = requests[i]!;
      const id = info.baseOffset + i;
      ids.push(id);
      this.#enqueue({
        offset: id,
        record: { kind: 'schedule', topic: r.topic, partition: r.partition, deliverAtMs: r.deliverAtMs, repeat: r.repeat, key: null, value: null, headers: [], rawHeaders: null, timestampMs: r.timestampMs },
      });
      if (r.deliverAtMs < earliest) earliest = r.deliverAtMs;
    }
    this.#stats.scheduled += requests.length;
    if (earliest < this.#timerAtMs) this.#armTimer(now, earliest);
    // Made only when asked: most sends answer once written out and must not leave a waiter per message.
    return { ids, durable: () => this.#log.durable(info.nextOffset) };
  }

  /** Flushes `__delay` now (Kafka acks=all on a delay topic). */
  flush(): Promise<void> {
    return this.#log.flush();
  }

  /** Cancels a pending schedule durably; NOT_FOUND or CONFLICT (already delivered, cancelled or failed). */
  async cancel(id: number): Promise<DelayState> {
    this.#applyQueued();
    const state = this.#stateOf(id);
    if (state === undefined) throw new DelayError('NOT_FOUND', `no delay message ${id}`);
    if (state.state !== 'pending') throw new DelayError('CONFLICT', `delay message ${id} is ${state.state}`);
    const now = this.#nowMs();
    const info = this.#log.append(buildRecordBatch([controlInput({ kind: 'cancel', id }, now)]));
    this.#enqueue({ offset: info.baseOffset, record: { kind: 'cancel', id } });
    this.#applyQueued();
    this.#stats.cancelled++;
    await this.#log.durable(info.nextOffset);
    return this.#stateOf(id)!;
  }

  get(id: number): DelayView | undefined {
    if (!Number.isSafeInteger(id) || id < 0) return undefined;
    this.#applyQueued();
    const record = this.#readSchedules([id]).get(id);
    const state = this.#stateOf(id, record);
    if (state === undefined) return undefined;
    return { ...state, key: record?.key ?? null, value: record?.value ?? null, headers: record?.headers ?? [] };
  }

  /**
   * Pending schedules of a topic due in [fromMs, toMs), in due order, after the cursor. One call
   * looks at no more than `scanMax` pending schedules of all topics (the index has one due order
   * for every topic): when that runs out first, `stoppedAt` says where to go on from.
   */
  list(topic: string, fromMs: number, toMs: number, after: DueEntry | null, limit: number, scanMax: number = LIST_SCAN_MAX): { views: DelayView[]; stoppedAt: DueEntry | null } {
    this.#applyQueued();
    const { entries, stoppedAt } = this.#index.listTopic(topic, fromMs, toMs, after, limit, scanMax);
    const records = this.#readSchedules(entries.map((e) => e.id));
    const views: DelayView[] = [];
    for (const e of entries) {
      const record = records.get(e.id);
      const state = this.#stateOf(e.id, record);
      if (state === undefined) continue;
      views.push({ ...state, key: record?.key ?? null, value: record?.value ?? null, headers: record?.headers ?? [] });
    }
    return { views, stoppedAt };
  }

  // ---- dispatch ------------------------------------------------------------

  /**
   * Hands over what is due at `nowMs` (rounds of DISPATCH_BATCH_MAX) for about `budgetMs` (unbounded: all of it,
   * after moving every far-tier entry due by then into the index's dispatch order); returns how many fired.
   */
  runDue(budgetMs: number = Infinity): number {
    const started = this.#nowMs();
    // Without a budget (tests, tools) everything due is fired, so everything due is moved first.
    this.#promoted = this.#index.promote(started, budgetMs === Infinity ? Infinity : Math.min(budgetMs, PROMOTE_BUDGET_MS));
    let fired = 0;
    for (;;) {
      const n = this.#round(this.#nowMs(), null, null);
      fired += n;
      if (n < DISPATCH_BATCH_MAX || this.#nowMs() - started >= budgetMs) return fired;
    }
  }

  /**
   * One dispatch turn of a backlog (the timer's, unlike runDue's rounds): one round, whose
   * SCHEDULE records were read ahead on the storage helper thread while the round before ran,
   * and which reads the next round's the same way. A pread per record on the event loop was
   * half of a fire's cost there (bench/delay rate phase profile). The first round of a backlog
   * waits for its reads (pulls are served meanwhile); records the read ahead missed (schedules
   * due meanwhile, batches larger than a slot) are read here as before, so it is only a cache.
   */
  #tickRound(): number {
    const now = this.#nowMs();
    this.#promoted = this.#index.promote(now, Math.min(TICK_BUDGET_MS, PROMOTE_BUDGET_MS));
    this.#applyQueued();
    const ahead = this.#readAhead;
    this.#readAhead = null;
    const due = this.#index.due(now, 2 * DISPATCH_BATCH_MAX);
    if (due.length > DISPATCH_BATCH_MAX) {
      if (ahead === null) {
        this.#startReadAhead(due.slice(0, DISPATCH_BATCH_MAX));
        return 0;
      }
      this.#startReadAhead(due.slice(DISPATCH_BATCH_MAX));
      due.length = DISPATCH_BATCH_MAX;
    }
    try {
      return this.#round(now, due, ahead);
    } finally {
      if (ahead !== null) this.#spareSlab = ahead.slab;
    }
  }

  #startReadAhead(entries: readonly DueEntry[]): void {
    const ids = new Float64Array(entries.length);
    for (let i = 0; i < entries.length; i++) ids[i] = entries[i]!.id;
    ids.sort(); // ascending file positions
    const slab = this.#spareSlab;
    this.#spareSlab = undefined;
    this.#readingAhead = true;
    const landed = (prefetch: PointPrefetch | null): void => {
      this.#readingAhead = false;
      if (this.#closed) return;
      this.#readAhead = prefetch;
      const now = this.#nowMs();
      this.#armTimer(now, now);
    };
    let reading: Promise<PointPrefetch>;
    try {
      reading = this.#log.prefetchPoints(ids, undefined, slab);
    } catch (err) {
      reading = Promise.reject(err);
    }
    reading.then(landed, (err: unknown) => {
      this.#readAheadOff = true;
      this.#onError(err, 'delay read ahead (dispatch reads on the event loop from now on)');
      landed(null);
    });
  }

  /** `due`: the round's entries when the caller listed them (else listed here); `ahead`: records read ahead. */
  #round(now: number, due: DueEntry[] | null, ahead: PointPrefetch | null): number {
    try {
      return this.#roundBody(now, due, ahead);
    } finally {
      this.#roundStates = null;
    }
  }

  #roundBody(now: number, listed: DueEntry[] | null, ahead: PointPrefetch | null): number {
    this.#applyQueued();
    const due = listed ?? this.#index.due(now, DISPATCH_BATCH_MAX);
    if (due.length === 0) return 0;
    const records = this.#readSchedules(due.map((e) => e.id), true, ahead);
    const states = new Map<number, DelayState>();
    for (const e of due) {
      // A one-shot schedule has no stored state while pending (cancel and failure remove its due entry,
      // promotion skips entries whose state changed), so a due one's state is its record's: no lookup.
      const record = records.get(e.id);
      const stored = record?.repeat === null ? undefined : this.#index.getState(e.id);
      const state = stored ?? (record !== undefined ? derivedState(e.id, record, true) : undefined);
      if (state === undefined) invariantFailed(`due entry ${e.id} has neither a state nor its record`);
      states.set(e.id, state);
    }
    this.#roundStates = states;
    const fires: Array<[number, number]> = [];
    const failed: Array<[number, string]> = [];
    const byTarget = new Map<string, { topic: string; partition: number; fires: Array<[number, number]> }>();
    for (const e of due) {
      const state = states.get(e.id)!;
      const fire = state.fires + 1;
      fires.push([e.id, fire]);
      const partitions = this.#targets.partitionCount(state.topic);
      if (!records.has(e.id)) failed.push([e.id, `its record at __delay offset ${e.id} is gone`]);
      else if (partitions === undefined) failed.push([e.id, `topic ${state.topic} no longer exists`]);
      else if (state.partition >= partitions) failed.push([e.id, `partition ${state.partition} of ${state.topic} no longer exists`]);
      else {
        const k = `${state.partition}:${state.topic}`;
        let target = byTarget.get(k);
        if (target === undefined) byTarget.set(k, (target = { topic: state.topic, partition: state.partition, fires: [] }));
        target.fires.push([e.id, fire]);
      }
    }
    const starts: InFlightRound['starts'] = [];
    for (const t of byTarget.values()) starts.push([t.topic, t.partition, this.#targets.endOffset(t.topic, t.partition)]);
    const intent = this.#appendControl({ kind: 'intent', round: this.#log.logEndOffset, fires, starts }, now);
    this.#log.commitStaged(); // the INTENT is out before any target write
    for (const t of byTarget.values()) this.#deliver(t.topic, t.partition, t.fires, records);
    this.#targets.commit();
    this.#appendControl({ kind: 'done', round: intent, failed }, now);
    this.#log.commitStaged();
    this.#applyQueued();
    for (const e of due) this.#observeLateness(now - e.dueMs);
    this.#stats.fired += fires.length - failed.length;
    this.#stats.failed += failed.length;
    return due.length;
  }

  #deliver(topic: string, partition: number, fires: ReadonlyArray<readonly [number, number]>, records: Map<number, ScheduleRecord>): void {
    let inputs: RecordInput[] = [];
    let bytes = 0;
    for (const [id, fire] of fires) {
      const input = deliveryInput(records.get(id)!, id, fire);
      const size = (input.value?.length ?? 0) + (input.key?.length ?? 0) + 64;
      if (inputs.length > 0 && bytes + size > DELIVERY_BATCH_BYTES_MAX) {
        this.#targets.append(topic, partition, buildRecordBatch(inputs));
        inputs = [];
        bytes = 0;
      }
      inputs.push(input);
      bytes += size;
    }
    if (inputs.length > 0) this.#targets.append(topic, partition, buildRecordBatch(inputs));
  }

  #observeLateness(ms: number): void {
    const late = Math.max(0, ms);
    const bucket = late < 1 ? 0 : Math.min(LATENESS_BUCKETS - 1, 1 + Math.floor(Math.log2(late)));
    this.#stats.latenessBuckets[bucket]!++;
    if (late > this.#stats.latenessMaxMs) this.#stats.latenessMaxMs = late;
  }

  #armTimer(now: number, atMs?: number): void {
    if (!this.#autoDispatch || this.#closed) return;
    const first = atMs ?? this.#index.firstDueMs() ?? Infinity;
    const target = Math.min(first, now + IDLE_POLL_MS);
    if (this.#timer !== null) clearTimeout(this.#timer);
    if (this.#immediate !== null) clearImmediate(this.#immediate);
    this.#timer = null;
    this.#immediate = null;
    this.#timerAtMs = target;
    if (target <= now) {
      // Due now (a backlog): after the pending I/O callbacks, not a timer's 1 ms later.
      this.#immediate = setImmediate(this.#tick);
      this.#immediate.unref?.();
      return;
    }
    this.#timer = setTimeout(this.#tick, target - now);
    this.#timer.unref?.();
  }

  readonly #tick = (): void => {
    this.#timer = null;
    this.#immediate = null;
    this.#timerAtMs = Infinity;
    if (this.#closed || this.#readingAhead) return; // a read ahead's landing ticks again
    let fired = 0;
    try {
      fired = this.#readAheadOff ? this.runDue(TICK_BUDGET_MS) : this.#tickRound();
    } catch (err) {
      this.#onError(err, 'delay dispatch');
    }
    if (this.#readingAhead) return;
    const now = this.#nowMs();
    // More due (or to promote) than one budget: come back after other work had a turn.
    if (!this.#promoted || (fired > 0 && (this.#index.firstDueMs() ?? Infinity) <= now)) this.#armTimer(now, now);
    else this.#armTimer(now);
  };

  // ---- the fold: log record → index ----------------------------------------

  #appendControl(record: Exclude<DelayLogRecord, ScheduleRecord>, now: number): number {
    const info = this.#log.append(buildRecordBatch([controlInput(record, now)]));
    this.#enqueue({ offset: info.baseOffset, record });
    return info.baseOffset;
  }

  #enqueue(change: QueuedChange): void {
    this.#queue.push(change);
    if (this.#queue.length >= APPLY_QUEUE_MAX) this.#applyQueued();
    else if (!this.#applyScheduled) {
      this.#applyScheduled = true;
      setImmediate(this.#applyQueuedTask);
    }
  }

  readonly #applyQueuedTask = (): void => {
    this.#applyScheduled = false;
    try {
      this.#applyQueued();
    } catch (err) {
      this.#onError(err, 'delay index update');
    }
  };

  #applyQueued(): void {
    if (this.#queue.length === 0) return;
    const queue = this.#queue;
    this.#queue = [];
    const last = queue[queue.length - 1]!.offset;
    assert(queue[0]!.offset >= this.#index.applied, `delay index at ${this.#index.applied} but change at ${queue[0]!.offset}`);
    this.#index.transaction(last + 1, () => {
      for (const change of queue) this.#apply(change.offset, change.record);
    });
  }

  #apply(offset: number, record: DelayLogRecord): void {
    const index = this.#index;
    switch (record.kind) {
      case 'schedule': {
        // No state is stored until it changes: until then the SCHEDULE record and its due entry are the state.
        index.addDue(record.topic, { dueMs: record.deliverAtMs, id: offset });
        index.setPendingCount(index.pendingCount + 1);
        return;
      }
      case 'cancel': {
        const state = this.#stateOf(record.id);
        if (state === undefined || state.state !== 'pending') return;
        index.removeDue(state.topic, { dueMs: state.nextFireMs, id: state.id });
        index.putState({ ...state, state: 'cancelled' });
        index.setPendingCount(index.pendingCount - 1);
        return;
      }
      case 'intent':
        index.setInFlight({ round: offset, fires: record.fires, starts: record.starts });
        return;
      case 'done':
        this.#applyDone(record);
        return;
    }
  }

  #applyDone(record: DoneRecord): void {
    const index = this.#index;
    const round = index.inFlight();
    if (round === null || round.round !== record.round) return; // replayed twice or settled already
    const failed = new Map(record.failed);
    for (const [id, fire] of round.fires) {
      // The round just read these states; nothing changed them since (a round is synchronous).
      const state = this.#roundStates?.get(id) ?? this.#stateOf(id);
      if (state === undefined || state.state !== 'pending' || fire !== state.fires + 1) continue;
      index.removeDue(state.topic, { dueMs: state.nextFireMs, id });
      const reason = failed.get(id);
      if (reason !== undefined) {
        index.putState({ ...state, fires: state.fires, state: 'failed', reason });
        index.setPendingCount(index.pendingCount - 1);
        continue;
      }
      const next = nextFireMs(state, fire);
      if (next !== null) {
        index.putState({ ...state, fires: fire, nextFireMs: next });
        index.addDue(state.topic, { dueMs: next, id });
      } else {
        // A one-shot schedule delivered is derived (no state, no due entry): nothing to store.
        if (state.repeat !== null) index.putState({ ...state, fires: fire, state: 'delivered' });
        index.setPendingCount(index.pendingCount - 1);
      }
    }
    index.setInFlight(null);
  }

  // ---- recovery --------------------------------------------------------------

  #recover(): void {
    const log = this.#log;
    const index = this.#index;
    // The index folds the log; one that is ahead of it (the log lost an unflushed
    // tail) or starts below its start cannot be trusted: rebuild from the start.
    if (index.applied > log.logEndOffset || (index.applied < log.logStartOffset && index.applied !== 0) || (index.applied === 0 && log.logStartOffset > 0)) {
      index.clear();
    }
    let offset = index.applied === 0 ? log.logStartOffset : index.applied;
    while (offset < log.logEndOffset) {
      const result = log.read(offset, READ_BYTES);
      if (result.bytes.length === 0) break;
      const changes: QueuedChange[] = [];
      forEachBatch(result.bytes, (pos) => {
        for (const r of readRecords(result.bytes, pos)) {
          if (r.offset >= offset) changes.push({ offset: r.offset, record: decodeDelayRecord(r) });
        }
      });
      if (changes.length > 0) {
        index.transaction(changes[changes.length - 1]!.offset + 1, () => {
          for (const c of changes) this.#apply(c.offset, c.record);
        });
      }
      offset = result.nextOffset;
    }
    const round = index.inFlight();
    if (round !== null) this.#settle(round);
  }

  /** A round a crash interrupted: deliver the fires its targets do not hold, then DONE. */
  #settle(round: InFlightRound): void {
    const present = new Set<string>();
    for (const [topic, partition, start] of round.starts) {
      if (this.#targets.partitionCount(topic) === undefined) continue;
      let offset = start;
      for (;;) {
        const result = this.#targets.read(topic, partition, offset, READ_BYTES);
        if (result === null || result.bytes.length === 0) break;
        forEachBatch(result.bytes, (pos) => {
          for (const r of readRecords(result.bytes, pos)) {
            const f = deliveredFire(r);
            if (f !== null) present.add(`${f.id}:${f.fire}`);
          }
        });
        if (result.nextOffset <= offset) break;
        offset = result.nextOffset;
      }
    }
    const missing = round.fires.filter(([id, fire]) => !present.has(`${id}:${fire}`));
    const records = this.#readSchedules(missing.map(([id]) => id), true);
    const failed: Array<[number, string]> = [];
    const byTarget = new Map<string, Array<[number, number]>>();
    for (const [id, fire] of missing) {
      const record = records.get(id);
      const state = this.#stateOf(id, record);
      if (state === undefined || record === undefined) continue;
      const partitions = this.#targets.partitionCount(state.topic);
      if (partitions === undefined || state.partition >= partitions) {
        failed.push([id, `topic ${state.topic} partition ${state.partition} no longer exists`]);
        continue;
      }
      const k = `${state.partition}:${state.topic}`;
      let list = byTarget.get(k);
      if (list === undefined) byTarget.set(k, (list = []));
      list.push([id, fire]);
    }
    for (const list of byTarget.values()) {
      const first = records.get(list[0]![0])!;
      this.#deliver(first.topic, first.partition, list, records);
    }
    this.#targets.commit();
    this.#appendControl({ kind: 'done', round: round.round, failed }, this.#nowMs());
    this.#log.commitStaged();
    this.#applyQueued();
  }

  /**
   * The state of `id`: stored once it changed (fired, cancelled, failed), else
   * derived from its SCHEDULE record — pending while its first due entry is in
   * the index, delivered once it is not. Undefined for an unknown id (or one
   * trimmed from `__delay` that never changed state).
   */
  #stateOf(id: number, record?: ScheduleRecord): DelayState | undefined {
    const stored = this.#index.getState(id);
    if (stored !== undefined) return stored;
    const r = record ?? this.#readSchedules([id]).get(id);
    if (r === undefined) return undefined;
    return derivedState(id, r, this.#index.hasDue({ dueMs: r.deliverAtMs, id }));
  }

  /**
   * Reads the SCHEDULE records of `ids` from `__delay`, decoding only those records. Ids close
   * together (a backlog fires schedules in the order they were written) share one read of the
   * batches between them; a lone id reads just its batch. `forFiring`: the message's own headers
   * stay encoded (ScheduleRecord.rawHeaders), to be copied into the delivered record as they are.
   */
  #readSchedules(ids: readonly number[], forFiring = false, ahead: PointPrefetch | null = null): Map<number, ScheduleRecord> {
    const out = new Map<number, ScheduleRecord>();
    const sorted = Float64Array.from(ids).sort(); // numeric order (a typed array's sort)
    const log = this.#log;
    let buf: Buffer | null = null;
    let bufNext = -1; // offset after the last batch in buf
    let pos = 0; // position of the batch the cursor is at
    let bytesPerOffset = 0; // learnt from the last read
    for (let i = 0; i < sorted.length; i++) {
      const id = sorted[i]!;
      if ((i > 0 && id === sorted[i - 1]) || id < log.logStartOffset || id >= log.logEndOffset) continue;
      const at = ahead === null ? -1 : ahead.positionOf(id);
      if (at >= 0) {
        this.#takeSchedule(ahead!.bytes, at, id, forFiring, out);
        continue;
      }
      if (buf === null || id < readInt64(buf, pos + BASE_OFFSET) || id >= bufNext) {
        // Read ahead to the last of the following ids that are dense enough to be worth it.
        let last = i;
        while (last + 1 < sorted.length && last - i < READ_AHEAD_IDS_MAX && sorted[last + 1]! - id <= READ_AHEAD_DENSITY * (last + 2 - i)) last++;
        const spanBytes = bytesPerOffset * (sorted[last]! - id + 1);
        const result = log.read(id, last === i || bytesPerOffset === 0 ? 1 : Math.min(READ_BYTES, Math.ceil(spanBytes)));
        if (result.bytes.length < RECORDS_START) continue;
        buf = result.bytes;
        bufNext = result.nextOffset;
        pos = 0;
        bytesPerOffset = buf.length / (result.nextOffset - result.firstOffset);
      }
      // Step the cursor to the batch holding `id` (ids ascend, so it only moves forward).
      while (pos < buf.length && readInt64(buf, pos + BASE_OFFSET) + readInt32(buf, pos + LAST_OFFSET_DELTA) < id) {
        pos += LOG_OVERHEAD + readInt32(buf, pos + BATCH_LENGTH);
      }
      if (!(pos < buf.length)) invariantFailed(`__delay read up to ${bufNext} holds no batch with offset ${id}`);
      this.#takeSchedule(buf, pos, id, forFiring, out);
    }
    return out;
  }

  /** Decodes the record `id` of the batch at `pos` into `out` when it is a SCHEDULE. */
  #takeSchedule(buf: Buffer, pos: number, id: number, forFiring: boolean, out: Map<number, ScheduleRecord>): void {
    const fast = forFiring ? scheduleForFiring(buf, pos, id) : undefined;
    if (fast !== undefined) {
      if (fast !== null) out.set(id, fast);
      return;
    }
    const r = forFiring ? readRecordAtKeeping(buf, pos, id, CONTROL_PREFIX_BYTES) : readRecordAt(buf, pos, id);
    if (r === null) return;
    const record = decodeDelayRecord(r);
    if (record.kind === 'schedule') out.set(id, record);
  }

  /**
   * Drops `__delay` records below the lowest pending id (whole segments go;
   * their schedules were all delivered, cancelled or failed). Scans the due
   * index in steps, yielding between them: entries added meanwhile have higher
   * ids, and a repeating entry moves only later in time, so the scan still sees
   * every pending id. Returns the new log start.
   */
  trim(): Promise<number> {
    if (this.#trimming !== null) return this.#trimming;
    this.#trimming = (async () => {
      const endBefore = this.#log.logEndOffset;
      let minId = Infinity;
      let after: DueEntry | null = null;
      for (let step = 0; step < Number.MAX_SAFE_INTEGER; step++) {
        if (this.#closed) return this.#log.logStartOffset;
        this.#applyQueued();
        const scanned = this.#index.scanDueIds(after, TRIM_SCAN_STEP);
        if (scanned.minId < minId) minId = scanned.minId;
        if (scanned.last === null) break;
        after = scanned.last;
        await new Promise((resolve) => setImmediate(resolve));
      }
      // Nothing pending: everything written before the scan began is done with.
      const to = Math.min(minId, endBefore, this.#index.applied);
      if (this.#index.inFlight() !== null || to <= this.#log.logStartOffset || this.#advanceLogStart === null || this.#closed) return this.#log.logStartOffset;
      await this.#advanceLogStart(to);
      return to;
    })().finally(() => {
      this.#trimming = null;
    });
    return this.#trimming;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    if (this.#trimTimer !== null) clearInterval(this.#trimTimer);
    if (this.#timer !== null) clearTimeout(this.#timer);
    if (this.#immediate !== null) clearImmediate(this.#immediate);
    this.#immediate = null;
    this.#timer = null;
    this.#applyQueued();
    this.#closed = true;
    await this.#index.close();
  }
}

function derivedState(id: number, r: ScheduleRecord, pending: boolean): DelayState {
  return {
    id,
    topic: r.topic,
    partition: r.partition,
    state: pending ? 'pending' : 'delivered',
    deliverAtMs: r.deliverAtMs,
    nextFireMs: r.deliverAtMs,
    fires: pending ? 0 : 1,
    repeat: r.repeat,
    timestampMs: r.timestampMs,
  };
}

/** When a schedule fires after its `fire`-th delivery, or null when that was the last. */
export function nextFireMs(state: Pick<DelayState, 'nextFireMs' | 'repeat'>, fire: number): number | null {
  const r = state.repeat;
  if (r === null) return null;
  if (r.times !== null && fire >= r.times) return null;
  let interval = r.intervalMs * Math.pow(r.multiplier, fire - 1);
  if (r.maxIntervalMs !== null) interval = Math.min(interval, r.maxIntervalMs);
  if (!Number.isFinite(interval)) return null;
  const next = state.nextFireMs + Math.round(interval);
  if (!Number.isSafeInteger(next)) return null;
  if (r.untilMs !== null && next > r.untilMs) return null;
  return next;
}

/** Fires a repeating schedule may have at most: bounds loops whose `times` is unset. */
export const REPEAT_TIMES_MAX = 1_000_000;

export function validateRepeat(r: RepeatSpec, deliverAtMs: number): void {
  const int = (v: unknown, field: string, min: number): void => {
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min) throw new DelayError('INVALID_ARGUMENT', `${field} must be an integer ≥ ${min}`, field);
  };
  int(r.intervalMs, 'repeat.intervalMs', 1);
  if (typeof r.multiplier !== 'number' || !Number.isFinite(r.multiplier) || r.multiplier < 1 || r.multiplier > 100) {
    throw new DelayError('INVALID_ARGUMENT', 'repeat.multiplier must be a number from 1 (fixed interval) to 100', 'repeat.multiplier');
  }
  if (r.maxIntervalMs !== null) int(r.maxIntervalMs, 'repeat.maxIntervalMs', r.intervalMs);
  if (r.times !== null) {
    int(r.times, 'repeat.times', 1);
    if (r.times > REPEAT_TIMES_MAX) throw new DelayError('INVALID_ARGUMENT', `repeat.times must be at most ${REPEAT_TIMES_MAX}`, 'repeat.times');
  }
  if (r.untilMs !== null) int(r.untilMs, 'repeat.untilMs', deliverAtMs);
  if (r.times === null && r.untilMs === null) throw new DelayError('INVALID_ARGUMENT', 'repeat needs times or untilMs (a loop must end)', 'repeat');
}
