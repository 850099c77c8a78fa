// One partition's log: an ordered run of segments with dense offsets.
//
// append() validates the batches (lengths, magic, CRC32C), patches baseOffset
// (and optionally partitionLeaderEpoch) in place — both outside the CRC — and
// writes the bytes with one positional write. It returns the assigned offsets at
// once; durable(offset) resolves when an fdatasync that covers them finished.
// Flushes are group commits: appends that land while one fdatasync is in flight
// all share the next one.

import path from 'node:path';
import { assert, invariantFailed, StorageError } from './errors.ts';
import type { CachedFile, FileCache } from './file-cache.ts';
import type { FileIO } from './file-io.ts';
import {
  BASE_OFFSET,
  LAST_OFFSET_DELTA,
  LOG_OVERHEAD,
  MAX_TIMESTAMP,
  PARTITION_LEADER_EPOCH,
  RECORD_COUNT,
  firstRecordAtOrAfterTimestamp,
  readInt32,
  readInt64,
  stampLogAppendTime,
  validateBatchesForAppend,
  writeInt32,
  writeInt64,
} from './record-batch.ts';
import { RELATIVE_OFFSET_MAX, SEGMENT_BYTES_LIMIT, Segment, parseSegmentFileName, segmentFileName, type BatchInfo } from './segment.ts';
import type { AppendInfo, LogConfig, ReadResult, StorageObserver, StorageStats } from './types.ts';
import type { LogCheckpoint } from './checkpoint.ts';
import { PointPrefetch } from './point-prefetch.ts';

/** What every log of a manager shares. */
export interface LogContext {
  readonly io: FileIO;
  readonly cache: FileCache;
  readonly stats: StorageStats;
  readonly observer: StorageObserver;
  readonly nowMs: () => number;
  /** Largest batch accepted (and believed during recovery). */
  readonly maxBatchBytes: number;
  /** Least time between the starts of back-to-back flushes of one busy log (ms). */
  readonly flushCoalesceMs: number;
  /**
   * Runs `run` in the manager's next shared flush round, no sooner than `earliestMs`
   * (performance.now() time) unless a round is already set: busy logs flush together.
   */
  readonly deferFlush: (run: () => void, earliestMs: number) => void;
  /** Runs an fdatasync-bearing task under the manager's concurrency limit. */
  readonly limitFlush: <T>(task: () => Promise<T>) => Promise<T>;
  /** A log has bytes not yet durable (interval mode uses this to find work). */
  readonly markDirty: (log: PartitionLog) => void;
  /** A log staged bytes: the manager writes every stage at the end of this microtask turn. */
  readonly markStaged: (log: PartitionLog) => void;
  /** Shared scan buffer for synchronous recovery and header scans. */
  readonly scratch: { buf: Buffer };
}

interface Waiter {
  offset: number;
  resolve: () => void;
  reject: (err: Error) => void;
}

/** Waiters beyond this are a leak upstream: producers are bounded long before. */
const WAITERS_MAX = 1_000_000;
const READ_SCAN_CHUNK_BYTES = 64 * 1024;
/** The first read of a header walk is at least this (two index intervals when larger). */
const POINT_READ_BYTES_MIN = 1024;
const HEADER_PREFIX_BYTES = MAX_TIMESTAMP + 8;
/** Offsets one prefetchPoints() takes (its slab is this many slots). */
const PREFETCH_POINTS_MAX = 4096;

export function validateTopicName(topic: string): void {
  if (topic.length === 0 || topic.length > 249 || topic === '.' || topic === '..' || /[/\\\0\s]/.test(topic)) {
    throw new StorageError('INVALID_ARGUMENT', `topic name ${JSON.stringify(topic)} cannot be a directory name (1-249 chars, no slashes, whitespace or NUL, not . or ..)`);
  }
}

export function logDirName(topic: string, partition: number): string {
  return `${topic}-${partition}`;
}

/** Splits `<topic>-<partition>`; null when the directory name is not a log. */
export function parseLogDirName(name: string): { topic: string; partition: number } | null {
  const dash = name.lastIndexOf('-');
  if (dash <= 0) return null;
  const digits = name.slice(dash + 1);
  if (!/^\d{1,9}$/.test(digits)) return null;
  return { topic: name.slice(0, dash), partition: Number(digits) };
}

/** A batch found by a header scan; `scratchPos` ≥ 0 when the scan buffer holds all of it (until the next scan). */
interface ScanHit {
  position: number;
  baseOffset: number;
  maxTimestampMs: number;
  sizeBytes: number;
  scratchPos: number;
}

export class PartitionLog {
  readonly topic: string;
  readonly partition: number;
  readonly name: string;
  readonly dir: string;
  config: LogConfig;

  readonly #ctx: LogContext;
  #segments: Segment[] = [];
  #logStartOffset = 0;
  /** Everything below this offset is on disk. */
  #durableOffset = 0;
  /** Files written since their last datasync. */
  #dirtyFiles = new Set<CachedFile>();
  #dirDirty = false;
  #parentDirDirty = false;
  #waiters: Waiter[] = [];
  #waitersHead = 0;
  #flushing = false;
  #flushScheduled = false;
  #lastFlushStartMs = -1e9;
  #failure: Error | null = null;
  #closed = false;
  /** Sealed segments whose index files wait for the next flush. */
  #sealedUnsynced: Segment[] = [];
  /** Reused per append: batch descriptions, grown on demand. */
  #batchInfos: BatchInfo[] = [newBatchInfo()];

  private constructor(ctx: LogContext, topic: string, partition: number, dir: string, config: LogConfig) {
    this.#ctx = ctx;
    this.topic = topic;
    this.partition = partition;
    this.name = logDirName(topic, partition);
    this.dir = dir;
    this.config = config;
  }

  /** Creates an empty log in a new directory under `parentDir`. */
  static create(ctx: LogContext, parentDir: string, topic: string, partition: number, config: LogConfig): PartitionLog {
    validateTopicName(topic);
    assert(Number.isInteger(partition) && partition >= 0, `partition ${partition}`);
    const dir = path.join(parentDir, logDirName(topic, partition));
    ctx.io.mkdirp(dir);
    const log = new PartitionLog(ctx, topic, partition, dir, config);
    log.#parentDirDirty = true;
    log.#segments.push(log.#newSegment(0));
    return log;
  }

  /**
   * Opens an existing log directory, trusting whole segments below the
   * checkpoint's recovery point (after sanity checks of their indexes) and
   * rescanning everything from there: a torn or corrupt tail is cut, missing or
   * corrupt indexes are rebuilt, segments after a gap in offsets are dropped.
   */
  static load(ctx: LogContext, parentDir: string, name: string, config: LogConfig, checkpoint: LogCheckpoint | undefined): PartitionLog {
    const parsed = parseLogDirName(name);
    assert(parsed !== null, `not a log directory: ${name}`);
    const dir = path.join(parentDir, name);
    const log = new PartitionLog(ctx, parsed.topic, parsed.partition, dir, config);
    log.#recover(checkpoint);
    return log;
  }

  #newSegment(baseOffset: number): Segment {
    const segment = new Segment(this.#ctx.cache, this.dir, baseOffset, this.config.indexIntervalBytes);
    this.#ctx.cache.handle(segment.logFile); // creates the file
    this.#dirDirty = true;
    return segment;
  }

  #recover(checkpoint: LogCheckpoint | undefined): void {
    const { io, cache, observer, scratch, maxBatchBytes, stats } = this.#ctx;
    const names = io.readdir(this.dir);
    const logBases: number[] = [];
    const present = new Set(names);
    for (const name of names) {
      if (name.endsWith('.tmp')) {
        io.unlink(path.join(this.dir, name));
        continue;
      }
      const parsed = parseSegmentFileName(name);
      if (parsed === null) continue;
      if (parsed.ext === 'log') logBases.push(parsed.baseOffset);
      else if (!present.has(segmentFileName(parsed.baseOffset, 'log'))) {
        // An index whose log was deleted (crash during segment deletion).
        io.unlink(path.join(this.dir, name));
        this.#dirDirty = true;
      }
    }
    logBases.sort((a, b) => a - b);
    const recoveryPoint = checkpoint?.recoveryPoint ?? 0;
    const segments: Segment[] = [];
    for (let i = 0; i < logBases.length; i++) {
      const base = logBases[i]!;
      const segment = new Segment(cache, this.dir, base, this.config.indexIntervalBytes);
      const previous = segments[segments.length - 1];
      if (previous !== undefined && previous.nextOffset !== base) {
        // A gap: nothing after it can have been acknowledged as durable
        // (flushes cover every earlier segment first). Drop the rest.
        observer.onTruncate?.(this.name, base, 0, `offset gap: previous segment ends at ${previous.nextOffset}`);
        for (let j = i; j < logBases.length; j++) this.#unlinkSegmentFiles(new Segment(cache, this.dir, logBases[j]!, this.config.indexIntervalBytes));
        break;
      }
      const nextBase = logBases[i + 1];
      const isLast = nextBase === undefined;
      const trusted = !isLast && nextBase <= recoveryPoint && segment.loadTrusted(nextBase);
      if (!trusted) {
        const fileSize = cache.handle(segment.logFile).size();
        const outcome = segment.recover(maxBatchBytes, scratch);
        // Bytes past the recovery point (or a cut) may exist only in the page cache.
        if (segment.nextOffset > recoveryPoint || outcome.stopReason !== null) this.#dirtyFiles.add(segment.logFile);
        if (outcome.stopReason !== null) {
          stats.truncatedBytesOnRecovery += fileSize - outcome.validEndPosition;
          observer.onTruncate?.(this.name, base, outcome.validEndPosition, outcome.stopReason);
        }
        if (!isLast && segment.nextOffset !== nextBase) {
          // Cut short: later segments would leave a gap; the loop drops them.
          segments.push(segment);
          continue;
        }
        if (!isLast) this.#sealAndMarkDirty(segment);
      }
      segments.push(segment);
    }
    // Only the last segment takes appends; a segment cut short became last when its successors were dropped.
    for (let i = 0; i < segments.length - 1; i++) assert(segments[i]!.sealed, `${this.name}: segment ${segments[i]!.baseOffset} not sealed`);
    if (segments.length === 0) segments.push(this.#newSegment(Math.max(checkpoint?.logStartOffset ?? 0, 0)));
    this.#segments = segments;
    this.#logStartOffset = Math.min(Math.max(checkpoint?.logStartOffset ?? 0, segments[0]!.baseOffset), this.logEndOffset);
    // What recovery read may still sit only in the page cache (a process crash
    // keeps it there, a power cut would not): below the recovery point it was
    // synced before; the rest is synced by the manager before it reports ready.
    this.#durableOffset = Math.min(recoveryPoint, this.logEndOffset);
    this.#deleteSegmentsBelowLogStart();
  }

  #sealAndMarkDirty(segment: Segment): void {
    for (const file of segment.seal()) this.#dirtyFiles.add(file);
    this.#sealedUnsynced.push(segment);
    this.#dirDirty = true;
  }

  get logStartOffset(): number {
    return this.#logStartOffset;
  }

  get logEndOffset(): number {
    return this.#segments[this.#segments.length - 1]!.nextOffset;
  }

  get durableOffset(): number {
    return this.#durableOffset;
  }

  get failed(): boolean {
    return this.#failure !== null;
  }

  sizeBytes(): number {
    let total = 0;
    for (const segment of this.#segments) total += segment.sizeBytes;
    return total;
  }

  segmentCount(): number {
    return this.#segments.length;
  }

  /** Base offsets of the segments, oldest first (for tests and admin views). */
  segmentBaseOffsets(): number[] {
    return this.#segments.map((s) => s.baseOffset);
  }

  /**
   * Appends one or more whole RecordBatch v2 blobs. The buffer is patched in
   * place (baseOffset, and partitionLeaderEpoch when given) and the log keeps
   * it: the caller must not modify it afterwards. The bytes are staged and
   * written with other appends of the same turn in one pwritev — at the end of
   * the current microtask checkpoint, or earlier by commitStaged() (callers
   * that acknowledge a write before it is durable, like Kafka acks=1, call
   * LogManager.commitStaged() first). Reads see staged bytes.
   */
  append(buf: Buffer, options?: { leaderEpoch?: number; logAppendTimeMs?: number }): AppendInfo {
    this.#checkWritable();
    const batchCount = validateBatchesForAppend(buf, this.#ctx.maxBatchBytes);
    while (this.#batchInfos.length < batchCount) this.#batchInfos.push(newBatchInfo());
    const logAppendTimeMs = options?.logAppendTimeMs ?? -1;
    const leaderEpoch = options?.leaderEpoch;
    const baseOffset = this.logEndOffset;
    let nextOffset = baseOffset;
    let recordCount = 0;
    let pos = 0;
    for (let i = 0; i < batchCount; i++) {
      const size = LOG_OVERHEAD + readInt32(buf, pos + 8);
      const lastOffsetDelta = readInt32(buf, pos + LAST_OFFSET_DELTA);
      writeInt64(buf, pos + BASE_OFFSET, nextOffset);
      if (leaderEpoch !== undefined) writeInt32(buf, pos + PARTITION_LEADER_EPOCH, leaderEpoch);
      if (logAppendTimeMs >= 0) stampLogAppendTime(buf, pos, size, logAppendTimeMs);
      const info = this.#batchInfos[i]!;
      info.position = pos;
      info.sizeBytes = size;
      info.baseOffset = nextOffset;
      info.lastOffset = nextOffset + lastOffsetDelta;
      info.maxTimestampMs = readInt64(buf, pos + MAX_TIMESTAMP);
      recordCount += readInt32(buf, pos + RECORD_COUNT);
      nextOffset += lastOffsetDelta + 1;
      pos += size;
    }
    assert(nextOffset <= Number.MAX_SAFE_INTEGER, 'offset beyond 2^53');
    let active = this.#segments[this.#segments.length - 1]!;
    if (this.#shouldRoll(active, buf.length, nextOffset - 1)) active = this.#roll();
    if (active.isEmpty()) active.firstAppendMs = this.#ctx.nowMs();
    if (active.appendBytes(buf, this.#batchInfos, batchCount)) this.#ctx.markStaged(this);
    if (!this.#dirtyFiles.has(active.logFile)) this.#dirtyFiles.add(active.logFile);
    const stats = this.#ctx.stats;
    stats.appendedBytes += buf.length;
    stats.appendedRecords += recordCount;
    stats.appendedBatches += batchCount;
    if (this.config.flushMode === 'always') this.#scheduleFlush();
    else this.#ctx.markDirty(this);
    return { baseOffset, lastOffset: nextOffset - 1, nextOffset, logAppendTimeMs, recordCount };
  }

  #checkWritable(): void {
    if (this.#closed) throw new StorageError('LOG_CLOSED', `log ${this.name} is closed`);
    if (this.#failure !== null) {
      throw new StorageError('LOG_FAILED', `log ${this.name} failed a write or fdatasync and takes no writes: ${this.#failure.message}`, { cause: this.#failure });
    }
  }

  #shouldRoll(active: Segment, incomingBytes: number, lastOffset: number): boolean {
    if (active.isEmpty()) return false;
    const segmentBytesMax = Math.min(this.config.segmentBytesMax, SEGMENT_BYTES_LIMIT);
    return (
      active.sizeBytes + incomingBytes > segmentBytesMax ||
      this.#ctx.nowMs() - active.firstAppendMs > this.config.segmentAgeMsMax ||
      lastOffset - active.baseOffset > RELATIVE_OFFSET_MAX
    );
  }

  #roll(): Segment {
    const active = this.#segments[this.#segments.length - 1]!;
    this.#sealAndMarkDirty(active);
    const next = this.#newSegment(active.nextOffset);
    this.#segments.push(next);
    this.#ctx.stats.segmentsRolled++;
    return next;
  }

  /** Resolves once every offset below `offset` is durable (default: all appended so far). */
  durable(offset: number = this.logEndOffset): Promise<void> {
    if (offset <= this.#durableOffset) return Promise.resolve();
    if (offset > this.logEndOffset) {
      return Promise.reject(new StorageError('INVALID_ARGUMENT', `durable(${offset}) beyond the log end ${this.logEndOffset} of ${this.name}`));
    }
    if (this.#failure !== null) return Promise.reject(new StorageError('LOG_FAILED', `log ${this.name} failed: ${this.#failure.message}`));
    if (this.#closed) return Promise.reject(new StorageError('LOG_CLOSED', `log ${this.name} is closed`));
    const pending = this.#waiters.length - this.#waitersHead;
    assert(pending < WAITERS_MAX, `more than ${WAITERS_MAX} durability waiters on ${this.name}`);
    return new Promise<void>((resolve, reject) => {
      const waiter = { offset, resolve, reject };
      const waiters = this.#waiters;
      // Offsets almost always arrive in order; keep the queue sorted for the rare other case.
      let i = waiters.length;
      while (i > this.#waitersHead && waiters[i - 1]!.offset > offset) i--;
      if (i === waiters.length) waiters.push(waiter);
      else waiters.splice(i, 0, waiter);
      if (this.config.flushMode === 'always') this.#scheduleFlush();
    });
  }

  /** Writes staged appends to the file (page cache). A failure fails the log. */
  commitStaged(): void {
    if (this.#closed || this.#failure !== null) return;
    const active = this.#segments[this.#segments.length - 1]!;
    if (!active.hasStaged()) return;
    try {
      active.commit();
    } catch (err) {
      this.#fail(err as Error);
      throw err;
    }
  }

  /** Starts a flush of everything appended so far and resolves when it is durable. */
  flush(): Promise<void> {
    const done = this.durable();
    this.#scheduleFlush();
    return done;
  }

  /** True when some appended bytes or repairs are not yet durable. */
  hasUnflushed(): boolean {
    return (
      this.#durableOffset < this.logEndOffset ||
      this.#dirtyFiles.size > 0 ||
      this.#dirDirty ||
      this.#parentDirDirty ||
      this.#sealedUnsynced.length > 0
    );
  }

  /**
   * `followUp`: waiters arrived while the previous flush ran, so appends come in faster than
   * fdatasyncs finish. The next flush then starts no sooner than flushCoalesceMs after the
   * previous one did, so that it covers more appends: every fdatasync costs fixed kernel CPU
   * (journal commit, device flush), which pipelined acks=all producers otherwise pay per
   * request. Follow-ups of all busy logs run in one shared round of the manager, so a
   * request that spans partitions waits for one round, not for the slowest of several
   * unaligned ones. A flush asked for by an idle log starts in the same turn as before.
   */
  #scheduleFlush(followUp = false): void {
    if (this.#flushScheduled || this.#flushing || this.#failure !== null) return;
    this.#flushScheduled = true;
    if (followUp) this.#ctx.deferFlush(this.#runScheduledFlush, this.#lastFlushStartMs + this.#ctx.flushCoalesceMs);
    // setImmediate lets every append arriving in this turn of the event loop join the group.
    else setImmediate(this.#runScheduledFlush);
  }

  readonly #runScheduledFlush = (): void => {
    this.#flushScheduled = false;
    void this.#runFlush();
  };

  async #runFlush(): Promise<void> {
    if (this.#flushing || this.#failure !== null) return;
    if (!this.hasUnflushed()) {
      this.#resolveWaiters();
      return;
    }
    try {
      this.commitStaged();
    } catch {
      return; // the log has failed; waiters were rejected
    }
    this.#flushing = true;
    this.#lastFlushStartMs = performance.now();
    const target = this.logEndOffset;
    const files = [...this.#dirtyFiles];
    this.#dirtyFiles.clear();
    const syncDir = this.#dirDirty;
    const syncParent = this.#parentDirDirty;
    const sealed = this.#sealedUnsynced;
    this.#sealedUnsynced = [];
    this.#dirDirty = false;
    this.#parentDirDirty = false;
    const { cache, io, observer, stats, limitFlush } = this.#ctx;
    try {
      await limitFlush(async () => {
        const started = performance.now();
        const syncs: Promise<void>[] = [];
        for (const file of files) {
          const handle = cache.pin(file);
          syncs.push(handle.datasync().finally(() => cache.unpin(file)));
        }
        if (syncParent) syncs.push(io.syncDir(path.dirname(this.dir)));
        if (syncDir) syncs.push(io.syncDir(this.dir));
        await Promise.all(syncs);
        stats.fsyncs += syncs.length;
        observer.onFsync?.(performance.now() - started);
      });
    } catch (err) {
      this.#fail(err as Error);
      return;
    } finally {
      this.#flushing = false;
    }
    if (target > this.#durableOffset) this.#durableOffset = target;
    for (const segment of sealed) segment.indexesDurable = true;
    this.#resolveWaiters();
    if (this.#waitersHead < this.#waiters.length || (this.config.flushMode === 'always' && this.hasUnflushed())) {
      this.#scheduleFlush(true);
    }
  }

  #resolveWaiters(): void {
    const waiters = this.#waiters;
    let head = this.#waitersHead;
    while (head < waiters.length && waiters[head]!.offset <= this.#durableOffset) {
      waiters[head]!.resolve();
      head++;
    }
    if (head === waiters.length) {
      this.#waiters = [];
      this.#waitersHead = 0;
    } else if (head > 1024 && head * 2 > waiters.length) {
      this.#waiters = waiters.slice(head);
      this.#waitersHead = 0;
    } else this.#waitersHead = head;
  }

  #fail(err: Error): void {
    if (this.#failure !== null) return;
    this.#failure = err;
    this.#ctx.observer.onError?.(err, `write or fdatasync of log ${this.name}`);
    const failure = new StorageError('LOG_FAILED', `log ${this.name} failed a write or fdatasync: ${err.message}`, { cause: err });
    for (let i = this.#waitersHead; i < this.#waiters.length; i++) this.#waiters[i]!.reject(failure);
    this.#waiters = [];
    this.#waitersHead = 0;
  }

  /**
   * Reads whole batches starting with the one that holds `offset`, at most
   * `maxBytes` of them — but always at least one whole batch (KIP-74) — from a
   * single segment, and none at or beyond `maxOffset` (e.g. a high watermark).
   * `alloc` supplies the buffer read into (at least the size asked), e.g. from
   * a pool; the result's bytes are a view of it.
   */
  read(offset: number, maxBytes: number, maxOffset: number = this.logEndOffset, alloc?: (size: number) => Buffer): ReadResult {
    if (this.#closed) throw new StorageError('LOG_CLOSED', `log ${this.name} is closed`);
    const logEndOffset = this.logEndOffset;
    if (offset < this.#logStartOffset || offset > logEndOffset) {
      throw new StorageError('OFFSET_OUT_OF_RANGE', `offset ${offset} is outside [${this.#logStartOffset}, ${logEndOffset}] of ${this.name}`);
    }
    const limit = Math.min(maxOffset, logEndOffset);
    if (offset >= limit) return this.#empty(offset);
    for (let i = this.#segmentIndexFor(offset); i < this.#segments.length; i++) {
      const segment = this.#segments[i]!;
      if (offset >= segment.nextOffset) continue;
      const start = this.#findBatch(segment, offset);
      if (start === null) continue;
      if (start.baseOffset >= limit) return this.#empty(offset);
      if (maxBytes <= start.sizeBytes && start.scratchPos >= 0) {
        // A point read (one batch) that the header scan already holds: copy it rather than read it again.
        const scratch = this.#ctx.scratch.buf;
        const bytes = (alloc === undefined ? Buffer.allocUnsafe(start.sizeBytes) : alloc(start.sizeBytes)).subarray(0, start.sizeBytes);
        scratch.copy(bytes, 0, start.scratchPos, start.scratchPos + start.sizeBytes);
        const nextOffset = start.baseOffset + readInt32(bytes, LAST_OFFSET_DELTA) + 1;
        return { bytes, firstOffset: start.baseOffset, nextOffset, logStartOffset: this.#logStartOffset, logEndOffset };
      }
      return this.#readFrom(segment, start.position, start.baseOffset, maxBytes, limit, offset, alloc);
    }
    return this.#empty(offset);
  }

  /**
   * Reads ahead, off the event loop (FileIO.readMany), the bytes a point read of each offset
   * would start from: `slotBytes` from the index entry at or before it. For callers that know
   * their next scattered reads (delay firing). `offsets` ascend; those outside the log are left out. `slab`
   * (from an earlier PointPrefetch) is reused when large enough.
   */
  prefetchPoints(offsets: Float64Array, slotBytes: number = this.#pointReadBytes(), slab?: ArrayBuffer): Promise<PointPrefetch> {
    if (this.#closed) throw new StorageError('LOG_CLOSED', `log ${this.name} is closed`);
    assert(slotBytes > 0 && offsets.length <= PREFETCH_POINTS_MAX, `prefetchPoints: ${offsets.length} offsets of ${slotBytes} bytes`);
    this.commitStaged(); // the helper thread reads the file: staged bytes must be in it
    const segments = this.#segments;
    const paths: string[] = [];
    const file = new Int32Array(offsets.length);
    const position = new Float64Array(offsets.length);
    const kept = new Float64Array(offsets.length);
    const end = this.logEndOffset;
    let count = 0;
    let s = -1; // segment of the previous offset (offsets ascend, so segments do too)
    for (let i = 0; i < offsets.length; i++) {
      const offset = offsets[i]!;
      if (i > 0 && !(offset >= offsets[i - 1]!)) invariantFailed(`prefetchPoints: offsets must ascend (${offsets[i - 1]} then ${offset})`);
      if (offset < this.#logStartOffset || offset >= end || (count > 0 && offset === kept[count - 1])) continue;
      if (s < 0) s = this.#segmentIndexFor(offset);
      const before = s;
      while (s + 1 < segments.length && segments[s + 1]!.baseOffset <= offset) s++;
      if (count === 0 || s !== before) paths.push(segments[s]!.logFile.path);
      file[count] = paths.length - 1;
      position[count] = segments[s]!.lookupPosition(offset);
      kept[count++] = offset;
    }
    const slabBytes = Math.max(1, count * slotBytes);
    const into = slab !== undefined && slab.byteLength >= slabBytes ? slab : new ArrayBuffer(slabBytes);
    return this.#ctx.io
      .readMany({ paths, file, position, count, slotBytes, slab: into })
      .then((result) => new PointPrefetch(result.slab, slotBytes, kept.subarray(0, count), result.got));
  }

  /** A point read's first read: two index intervals, at least POINT_READ_BYTES_MIN. */
  #pointReadBytes(): number {
    return Math.min(READ_SCAN_CHUNK_BYTES, Math.max(POINT_READ_BYTES_MIN, 2 * this.config.indexIntervalBytes));
  }

  #empty(offset: number): ReadResult {
    return { bytes: EMPTY, firstOffset: offset, nextOffset: offset, logStartOffset: this.#logStartOffset, logEndOffset: this.logEndOffset };
  }

  /** Index of the segment with the largest baseOffset <= offset. */
  #segmentIndexFor(offset: number): number {
    const segments = this.#segments;
    let lo = 0;
    let hi = segments.length - 1;
    let found = 0;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (segments[mid]!.baseOffset <= offset) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return found;
  }

  /** Position and base of the batch holding `offset` in `segment`, by index then header scan. */
  #findBatch(segment: Segment, offset: number): ScanHit | null {
    return this.#scanHeaders(segment, segment.lookupPosition(offset), (lastOffset) => lastOffset >= offset);
  }

  /**
   * Walks batch headers from `position` and returns the first batch for which
   * `stop(lastOffset, maxTimestampMs)` holds. Reads in chunks; decodes headers only.
   */
  #scanHeaders(
    segment: Segment,
    position: number,
    stop: (lastOffset: number, maxTimestampMs: number) => boolean,
  ): ScanHit | null {
    const scratch = this.#ctx.scratch;
    let chunkStart = position;
    // The batch sought is about one index interval past its index entry: a
    // first small read serves point lookups (delay messages, seeks) without
    // reading 64 KiB each; a longer walk reads full chunks. (`__delay`'s 512-byte
    // interval: 1 KiB reads, 4% more fires/s than 4 KiB in bench/micro/delay-service.ts.)
    let chunkBytes = this.#pointReadBytes();
    while (chunkStart < segment.sizeBytes) {
      const want = Math.min(chunkBytes, segment.sizeBytes - chunkStart);
      chunkBytes = READ_SCAN_CHUNK_BYTES;
      const got = segment.read(scratch.buf, 0, want, chunkStart);
      let pos = 0;
      while (pos + HEADER_PREFIX_BYTES <= got) {
        const size = LOG_OVERHEAD + readInt32(scratch.buf, pos + 8);
        if (size <= LOG_OVERHEAD) invariantFailed(`corrupt batch length in ${segment.logFile.path} at ${chunkStart + pos}`);
        const baseOffset = readInt64(scratch.buf, pos + BASE_OFFSET);
        const lastOffset = baseOffset + readInt32(scratch.buf, pos + LAST_OFFSET_DELTA);
        const maxTimestampMs = readInt64(scratch.buf, pos + MAX_TIMESTAMP);
        if (stop(lastOffset, maxTimestampMs)) {
          const whole = pos + size <= got;
          return { position: chunkStart + pos, baseOffset, maxTimestampMs, sizeBytes: size, scratchPos: whole ? pos : -1 };
        }
        pos += size;
      }
      if (pos === 0 && got < HEADER_PREFIX_BYTES) return null;
      chunkStart += pos;
    }
    return null;
  }

  #readFrom(segment: Segment, position: number, baseOffset: number, maxBytes: number, limit: number, offset: number, alloc?: (size: number) => Buffer): ReadResult {
    const available = segment.sizeBytes - position;
    const want = Math.max(Math.min(maxBytes, available), HEADER_PREFIX_BYTES);
    // A caller-supplied allocator may hand back more than asked (a pooled slab).
    let bytes = alloc === undefined ? Buffer.allocUnsafe(want) : alloc(want);
    let got = segment.read(bytes, 0, Math.min(want, available), position);
    const firstSize = LOG_OVERHEAD + readInt32(bytes, 8);
    if (firstSize > got) {
      // KIP-74: the first batch goes out whole even when larger than maxBytes.
      bytes = Buffer.allocUnsafe(firstSize);
      got = segment.read(bytes, 0, firstSize, position);
      assert(got === firstSize, `short read of a batch in ${segment.logFile.path}`);
    }
    let end = 0;
    let nextOffset = baseOffset;
    while (end + HEADER_PREFIX_BYTES <= got) {
      const size = LOG_OVERHEAD + readInt32(bytes, end + 8);
      if (end + size > got) break;
      const batchBase = readInt64(bytes, end + BASE_OFFSET);
      if (batchBase >= limit) break;
      nextOffset = batchBase + readInt32(bytes, end + LAST_OFFSET_DELTA) + 1;
      end += size;
    }
    if (end === 0) return this.#empty(offset);
    return { bytes: bytes.subarray(0, end), firstOffset: baseOffset, nextOffset, logStartOffset: this.#logStartOffset, logEndOffset: this.logEndOffset };
  }

  /**
   * The first record whose timestamp is >= `timestampMs` (ListOffsets by time),
   * or null when every record is older. A compressed batch answers with its
   * base offset and max timestamp: storage does not decompress.
   */
  offsetForTimestamp(timestampMs: number): { offset: number; timestampMs: number } | null {
    for (const segment of this.#segments) {
      if (segment.maxTimestampMs < timestampMs || segment.nextOffset <= this.#logStartOffset) continue;
      const from = Math.max(segment.lookupTimestamp(timestampMs), this.#logStartOffset, segment.baseOffset);
      const logStart = this.#logStartOffset;
      const found = this.#scanHeaders(segment, segment.lookupPosition(from), (lastOffset, maxTs) => maxTs >= timestampMs && lastOffset >= logStart);
      if (found === null) continue;
      const batch = Buffer.allocUnsafe(found.sizeBytes);
      segment.read(batch, 0, found.sizeBytes, found.position);
      const exact = firstRecordAtOrAfterTimestamp(batch, 0, timestampMs);
      if (exact !== null && exact.offset >= logStart) return exact;
      return { offset: Math.max(found.baseOffset, logStart), timestampMs: found.maxTimestampMs };
    }
    return null;
  }

  /** The last offset of the batch holding the largest timestamp (ListOffsets MAX_TIMESTAMP), or null when empty. */
  maxTimestamp(): { timestampMs: number; offset: number } | null {
    let best: Segment | null = null;
    for (const segment of this.#segments) {
      if (segment.nextOffset <= this.#logStartOffset || segment.isEmpty()) continue;
      if (best === null || segment.maxTimestampMs >= best.maxTimestampMs) best = segment;
    }
    if (best === null) return null;
    if (best.offsetOfMaxTimestamp < 0) {
      const target = best.maxTimestampMs;
      const found = this.#scanHeaders(best, 0, (_last, maxTs) => maxTs === target);
      if (found === null) return null;
      const header = Buffer.allocUnsafe(HEADER_PREFIX_BYTES);
      best.read(header, 0, HEADER_PREFIX_BYTES, found.position);
      best.offsetOfMaxTimestamp = found.baseOffset + readInt32(header, LAST_OFFSET_DELTA);
    }
    return { timestampMs: best.maxTimestampMs, offset: Math.max(best.offsetOfMaxTimestamp, this.#logStartOffset) };
  }

  /**
   * Moves the log start forward (DeleteRecords); whole segments below it are
   * deleted. The caller persists the new start with a checkpoint.
   */
  advanceLogStart(offset: number): void {
    this.#checkWritable();
    if (!Number.isSafeInteger(offset) || offset > this.logEndOffset) {
      throw new StorageError('OFFSET_OUT_OF_RANGE', `cannot move the log start of ${this.name} to ${offset}: log end is ${this.logEndOffset}`);
    }
    if (offset <= this.#logStartOffset) return;
    this.#logStartOffset = offset;
    this.#deleteSegmentsBelowLogStart();
  }

  /** Applies retention by time and size; returns the number of segments deleted. */
  applyRetention(): number {
    if (this.#closed || this.#failure !== null) return 0;
    const now = this.#ctx.nowMs();
    const { retentionMs, retentionBytes } = this.config;
    let deleted = 0;
    if (retentionMs >= 0) {
      const active = this.#segments[this.#segments.length - 1]!;
      if (!active.isEmpty() && active.maxTimestampMs >= 0 && now - active.maxTimestampMs > retentionMs) {
        this.#roll(); // the whole log expired: roll so the old active segment can go too
      }
      while (this.#segments.length > 1) {
        const oldest = this.#segments[0]!;
        if (oldest.maxTimestampMs < 0 || now - oldest.maxTimestampMs <= retentionMs) break;
        this.#deleteOldestSegment();
        deleted++;
      }
    }
    if (retentionBytes >= 0) {
      let size = this.sizeBytes();
      while (this.#segments.length > 1 && size - this.#segments[0]!.sizeBytes >= retentionBytes) {
        size -= this.#segments[0]!.sizeBytes;
        this.#deleteOldestSegment();
        deleted++;
      }
    }
    return deleted;
  }

  #deleteSegmentsBelowLogStart(): void {
    while (this.#segments.length > 1 && this.#segments[0]!.nextOffset <= this.#logStartOffset) this.#deleteOldestSegment();
  }

  #deleteOldestSegment(): void {
    assert(this.#segments.length > 1, 'the active segment is never deleted');
    const oldest = this.#segments.shift()!;
    this.#unlinkSegmentFiles(oldest);
    this.#ctx.stats.segmentsDeleted++;
    if (this.#logStartOffset < this.#segments[0]!.baseOffset) this.#logStartOffset = this.#segments[0]!.baseOffset;
  }

  #unlinkSegmentFiles(segment: Segment): void {
    segment.close();
    for (const file of [segment.logFile, segment.offsetIndexFile, segment.timeIndexFile]) {
      this.#dirtyFiles.delete(file);
      if (this.#ctx.io.exists(file.path)) this.#ctx.io.unlink(file.path);
    }
    this.#dirDirty = true;
  }

  /**
   * What the checkpoint file records. The recovery point stops at the first
   * sealed segment whose indexes are not yet durable, so recovery rescans it.
   */
  checkpoint(): LogCheckpoint {
    let recoveryPoint = this.#durableOffset;
    for (let i = this.#segments.length - 2; i >= 0; i--) {
      const segment = this.#segments[i]!;
      if (segment.indexesDurable) break;
      recoveryPoint = Math.min(recoveryPoint, segment.baseOffset);
    }
    return { logStartOffset: this.#logStartOffset, recoveryPoint };
  }

  /** Flushes everything, then closes the files. Further calls fail with LOG_CLOSED. */
  async close(): Promise<void> {
    if (this.#closed) return;
    if (this.#failure === null && this.hasUnflushed()) await this.flush();
    this.#closed = true;
    for (const segment of this.#segments) segment.close();
  }

  /**
   * Drops the log without flushing: before its directory is removed (closing
   * the files), or after a simulated power cut (no I/O at all).
   */
  abandon(reason: string, closeFiles: boolean): void {
    this.#closed = true;
    const err = new StorageError('LOG_CLOSED', `log ${this.name} was closed: ${reason}`);
    for (let i = this.#waitersHead; i < this.#waiters.length; i++) this.#waiters[i]!.reject(err);
    this.#waiters = [];
    this.#waitersHead = 0;
    if (closeFiles) for (const segment of this.#segments) segment.close();
  }
}

const EMPTY = Buffer.alloc(0);

function newBatchInfo(): BatchInfo {
  return { position: 0, sizeBytes: 0, baseOffset: 0, lastOffset: 0, maxTimestampMs: 0 };
}
