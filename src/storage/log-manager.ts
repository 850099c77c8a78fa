// Owns every partition log under one data directory: recovery on open, the
// shared file-handle pool, the flush and retention timers, checkpoints, and
// creation and deletion of logs. Knows nothing of protocols.

import path from 'node:path';
import { CHECKPOINT_FILE, encodeCheckpoint, readCheckpoint, writeFileAtomic, type LogCheckpoint } from './checkpoint.ts';
import { StorageError } from './errors.ts';
import { FileCache } from './file-cache.ts';
import type { FileIO, FileLock } from './file-io.ts';
import { NodeFileIO } from './node-file-io.ts';
import { PartitionLog, logDirName, parseLogDirName, validateTopicName, type LogContext } from './partition-log.ts';
import { SCAN_CHUNK_BYTES, SEGMENT_BYTES_LIMIT } from './segment.ts';
import {
  defaultLogManagerConfig,
  type LogConfig,
  type LogManagerConfig,
  type StorageObserver,
  type StorageStats,
} from './types.ts';

export interface LogManagerOptions {
  dir: string;
  io?: FileIO;
  config?: Partial<LogManagerConfig>;
  observer?: StorageObserver;
  nowMs?: () => number;
  /** Largest single batch accepted; defaults to the segment size limit. */
  maxBatchBytes?: number;
}

const DELETED_SUFFIX = '.deleted';
const LOCK_FILE = '.lock';

export class LogManager {
  readonly dir: string;
  readonly config: LogManagerConfig;
  readonly stats: StorageStats = {
    appendedBytes: 0,
    appendedRecords: 0,
    appendedBatches: 0,
    fsyncs: 0,
    segmentsRolled: 0,
    segmentsDeleted: 0,
    truncatedBytesOnRecovery: 0,
  };
  readonly #io: FileIO;
  readonly #cache: FileCache;
  readonly #observer: StorageObserver;
  readonly #ctx: LogContext;
  readonly #logs = new Map<string, PartitionLog>();
  readonly #dirty = new Set<PartitionLog>();
  readonly #staged = new Set<PartitionLog>();
  readonly #commitStagedTask = (): void => {
    try {
      this.commitStaged();
    } catch {
      // The failing log is marked failed and reported through observer.onError.
    }
  };
  #flushTimer: NodeJS.Timeout | null = null;
  #maintenanceTimer: NodeJS.Timeout | null = null;
  #closed = false;
  #lock: FileLock | null = null;
  // Flush concurrency limit: a bounded count and a FIFO of waiting tasks.
  #flushesInFlight = 0;
  readonly #flushQueue: Array<() => void> = [];
  // The shared flush round (flushCoalesceMs): follow-up flushes of busy logs, at most one per log.
  #roundRuns: Array<() => void> = [];
  #roundTimer: NodeJS.Timeout | NodeJS.Immediate | null = null;
  #roundStartMs = -Infinity;
  // Checkpoint writes are serialised; a request during a write runs one more after it.
  #checkpointRunning: Promise<void> | null = null;
  #checkpointAgain = false;
  #checkpointAgainWaiters: Array<{ resolve: () => void; reject: (e: unknown) => void }> = [];

  private constructor(options: LogManagerOptions) {
    this.dir = options.dir;
    this.config = { ...defaultLogManagerConfig, ...options.config };
    validateConfig(this.config);
    this.#io = options.io ?? new NodeFileIO();
    this.#cache = new FileCache(this.#io, this.config.openFilesMax);
    this.#observer = options.observer ?? {};
    this.#ctx = {
      io: this.#io,
      cache: this.#cache,
      stats: this.stats,
      observer: this.#observer,
      nowMs: options.nowMs ?? Date.now,
      maxBatchBytes: options.maxBatchBytes ?? SEGMENT_BYTES_LIMIT,
      flushCoalesceMs: this.config.flushCoalesceMs,
      limitFlush: (task) => this.#limitFlush(task),
      deferFlush: (run, earliestMs) => this.#deferFlush(run, earliestMs),
      markDirty: (log) => this.#dirty.add(log),
      markStaged: (log) => {
        if (this.#staged.size === 0) queueMicrotask(this.#commitStagedTask);
        this.#staged.add(log);
      },
      scratch: { buf: Buffer.allocUnsafe(SCAN_CHUNK_BYTES) },
    };
  }

  /** Opens (creating if needed) a data directory, recovers every log in it and syncs what recovery repaired. */
  static async open(options: LogManagerOptions): Promise<LogManager> {
    const manager = new LogManager(options);
    const io = manager.#io;
    if (!io.isDirectory(manager.dir)) {
      io.mkdirp(manager.dir);
      await io.syncDir(path.dirname(manager.dir));
    }
    const lock = io.lock(path.join(manager.dir, LOCK_FILE));
    if (lock === null) {
      throw new StorageError('DIR_LOCKED', `data directory ${manager.dir} is in use by another process (${LOCK_FILE} names its pid)`);
    }
    manager.#lock = lock;
    try {
      await manager.#recoverAll();
    } catch (err) {
      manager.abandon();
      throw err;
    }
    manager.#startTimers();
    return manager;
  }

  async #recoverAll(): Promise<void> {
    const io = this.#io;
    const checkpoint = readCheckpoint(io, this.dir) ?? new Map<string, LogCheckpoint>();
    for (const name of io.readdir(this.dir)) {
      const full = path.join(this.dir, name);
      if (!io.isDirectory(full)) continue;
      if (name.endsWith(DELETED_SUFFIX)) {
        io.rmrf(full); // a deletion interrupted by a crash
        continue;
      }
      if (parseLogDirName(name) === null) continue;
      const log = PartitionLog.load(this.#ctx, this.dir, name, { ...this.config }, checkpoint.get(name));
      this.#logs.set(log.name, log);
    }
    // Make what recovery kept durable before anyone relies on it, then record it.
    await Promise.all([...this.#logs.values()].map((log) => log.flush()));
    await this.checkpoint();
  }

  #startTimers(): void {
    this.#flushTimer = setInterval(() => this.#flushDirty(), this.config.flushIntervalMs);
    this.#flushTimer.unref();
    this.#maintenanceTimer = setInterval(() => void this.#maintenance(), this.config.retentionCheckIntervalMs);
    this.#maintenanceTimer.unref();
  }

  #flushDirty(): void {
    if (this.#dirty.size === 0) return;
    const logs = [...this.#dirty];
    this.#dirty.clear();
    for (const log of logs) {
      if (log.config.flushMode !== 'interval' || !log.hasUnflushed()) continue;
      log.flush().catch((err: Error) => this.#observer.onError?.(err, `interval flush of ${log.name}`));
    }
  }

  async #maintenance(): Promise<void> {
    try {
      this.applyRetention();
      await this.checkpoint();
    } catch (err) {
      if (!this.#closed) this.#observer.onError?.(err as Error, 'retention and checkpoint');
    }
  }

  #deferFlush(run: () => void, earliestMs: number): void {
    // Bounded: a log defers only while it has no flush scheduled (PartitionLog #flushScheduled),
    // so a round holds at most one run per log.
    this.#roundRuns.push(run);
    if (this.#roundTimer !== null) return;
    const waitMs = Math.max(earliestMs, this.#roundStartMs + this.config.flushCoalesceMs) - performance.now();
    this.#roundTimer = waitMs >= 1 ? setTimeout(this.#runRound, waitMs) : setImmediate(this.#runRound);
  }

  readonly #runRound = (): void => {
    this.#roundTimer = null;
    this.#roundStartMs = performance.now();
    const runs = this.#roundRuns;
    this.#roundRuns = [];
    for (const run of runs) run();
  };

  #limitFlush<T>(task: () => Promise<T>): Promise<T> {
    const run = async (): Promise<T> => {
      this.#flushesInFlight++;
      try {
        return await task();
      } finally {
        this.#flushesInFlight--;
        this.#flushQueue.shift()?.();
      }
    };
    if (this.#flushesInFlight < this.config.flushConcurrencyMax) return run();
    return new Promise<void>((resolve) => this.#flushQueue.push(resolve)).then(run);
  }

  /** The log for a partition, created empty if missing. `overrides` apply to a new log only. */
  getOrCreate(topic: string, partition: number, overrides?: Partial<LogConfig>): PartitionLog {
    this.#checkOpen();
    const name = logDirName(topic, partition);
    const existing = this.#logs.get(name);
    if (existing !== undefined) return existing;
    validateTopicName(topic);
    if (!Number.isInteger(partition) || partition < 0 || partition > 999_999_999) {
      throw new StorageError('INVALID_ARGUMENT', `partition ${partition} must be an integer in [0, 999999999]`);
    }
    const config = { ...pickLogConfig(this.config), ...overrides };
    validateConfig(config);
    const log = PartitionLog.create(this.#ctx, this.dir, topic, partition, config);
    this.#logs.set(name, log);
    return log;
  }

  get(topic: string, partition: number): PartitionLog | undefined {
    return this.#logs.get(logDirName(topic, partition));
  }

  logs(): IterableIterator<PartitionLog> {
    return this.#logs.values();
  }

  logCount(): number {
    return this.#logs.size;
  }

  segmentCount(): number {
    let count = 0;
    for (const log of this.#logs.values()) count += log.segmentCount();
    return count;
  }

  get openFileCount(): number {
    return this.#cache.openCount;
  }

  /** Deletes a log and its directory: rename to `*.deleted` (atomic), sync, then remove. */
  async delete(topic: string, partition: number): Promise<void> {
    this.#checkOpen();
    const name = logDirName(topic, partition);
    const log = this.#logs.get(name);
    if (log === undefined) return;
    this.#logs.delete(name);
    this.#dirty.delete(log);
    log.abandon('deleted', true);
    const trash = path.join(this.dir, `${name}.${Date.now()}${DELETED_SUFFIX}`);
    this.#io.rename(log.dir, trash);
    await this.#io.syncDir(this.dir);
    this.#io.rmrf(trash);
    await this.checkpoint();
  }

  /** Moves a log's start offset (DeleteRecords) and resolves once that is durable in the checkpoint. */
  async advanceLogStart(log: PartitionLog, offset: number): Promise<void> {
    log.advanceLogStart(offset);
    await this.checkpoint();
  }

  /**
   * Writes every log's staged appends to its file. Runs by itself at the end of
   * the microtask turn; protocol front ends call it before acknowledging writes
   * that do not wait for durability. Throws the first write error after trying all.
   */
  commitStaged(): void {
    if (this.#staged.size === 0) return;
    const logs = [...this.#staged];
    this.#staged.clear();
    let first: unknown = null;
    for (const log of logs) {
      try {
        log.commitStaged();
      } catch (err) {
        first ??= err;
      }
    }
    if (first !== null) throw first;
  }

  /** Applies retention to every log; returns segments deleted. */
  applyRetention(): number {
    let deleted = 0;
    for (const log of this.#logs.values()) deleted += log.applyRetention();
    return deleted;
  }

  /** Flushes every log with unflushed data. */
  async flushAll(): Promise<void> {
    const pending: Promise<void>[] = [];
    for (const log of this.#logs.values()) if (log.hasUnflushed() && !log.failed) pending.push(log.flush());
    await Promise.all(pending);
  }

  /** Writes the checkpoint file atomically; resolves once a write that started after this call is durable. */
  checkpoint(): Promise<void> {
    if (this.#checkpointRunning === null) {
      this.#checkpointRunning = this.#writeCheckpointLoop();
      return this.#checkpointRunning;
    }
    this.#checkpointAgain = true;
    return new Promise((resolve, reject) => this.#checkpointAgainWaiters.push({ resolve, reject }));
  }

  async #writeCheckpointLoop(): Promise<void> {
    try {
      await this.#writeCheckpointOnce();
      while (this.#checkpointAgain) {
        this.#checkpointAgain = false;
        const waiters = this.#checkpointAgainWaiters;
        this.#checkpointAgainWaiters = [];
        try {
          await this.#writeCheckpointOnce();
          for (const w of waiters) w.resolve();
        } catch (err) {
          for (const w of waiters) w.reject(err);
        }
      }
    } finally {
      this.#checkpointRunning = null;
    }
  }

  async #writeCheckpointOnce(): Promise<void> {
    const entries: Array<[string, LogCheckpoint]> = [];
    for (const log of this.#logs.values()) entries.push([log.name, log.checkpoint()]);
    await writeFileAtomic(this.#io, this.dir, CHECKPOINT_FILE, encodeCheckpoint(entries));
  }

  /** Stops timers, flushes and fsyncs everything, writes the checkpoint and closes every file. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#stopTimers();
    await Promise.all([...this.#logs.values()].map((log) => log.close().catch((err: Error) => this.#observer.onError?.(err, `close of ${log.name}`))));
    while (this.#checkpointRunning !== null) await this.#checkpointRunning;
    await this.#writeCheckpointOnce();
    this.#closed = true;
    this.#cache.closeAll();
    this.#releaseLock();
  }

  #releaseLock(): void {
    try {
      this.#lock?.release();
    } catch {
      // after a simulated power cut the FileIO refuses everything; a reboot drops locks anyway
    }
    this.#lock = null;
  }

  /** Drops everything without any I/O — for crash simulation, after the FileIO "lost power". */
  abandon(): void {
    this.#stopTimers();
    this.#closed = true;
    for (const log of this.#logs.values()) log.abandon('manager abandoned', false);
    this.#releaseLock();
  }

  #stopTimers(): void {
    if (this.#flushTimer !== null) clearInterval(this.#flushTimer);
    if (this.#maintenanceTimer !== null) clearInterval(this.#maintenanceTimer);
    this.#flushTimer = null;
    this.#maintenanceTimer = null;
  }

  #checkOpen(): void {
    if (this.#closed) throw new StorageError('LOG_CLOSED', `log manager for ${this.dir} is closed`);
  }
}

function pickLogConfig(config: LogManagerConfig): LogConfig {
  const { segmentBytesMax, segmentAgeMsMax, indexIntervalBytes, retentionMs, retentionBytes, flushMode, flushIntervalMs } = config;
  return { segmentBytesMax, segmentAgeMsMax, indexIntervalBytes, retentionMs, retentionBytes, flushMode, flushIntervalMs };
}

function validateConfig(config: LogConfig & Partial<LogManagerConfig>): void {
  const check = (ok: boolean, key: string, allowed: string): void => {
    if (!ok) throw new StorageError('INVALID_ARGUMENT', `${key} = ${JSON.stringify((config as unknown as Record<string, unknown>)[key])}: ${allowed}`);
  };
  const int = (v: unknown): v is number => Number.isSafeInteger(v);
  check(int(config.segmentBytesMax) && config.segmentBytesMax >= 1024 && config.segmentBytesMax <= SEGMENT_BYTES_LIMIT, 'segmentBytesMax', `an integer in [1024, ${SEGMENT_BYTES_LIMIT}]`);
  check(int(config.segmentAgeMsMax) && config.segmentAgeMsMax >= 1, 'segmentAgeMsMax', 'a positive integer');
  check(int(config.indexIntervalBytes) && config.indexIntervalBytes >= 1, 'indexIntervalBytes', 'a positive integer');
  check(int(config.retentionMs) && config.retentionMs >= -1, 'retentionMs', '-1 or a non-negative integer');
  check(int(config.retentionBytes) && config.retentionBytes >= -1, 'retentionBytes', '-1 or a non-negative integer');
  check(config.flushMode === 'interval' || config.flushMode === 'always', 'flushMode', "'interval' or 'always'");
  check(int(config.flushIntervalMs) && config.flushIntervalMs >= 1, 'flushIntervalMs', 'a positive integer');
  if (config.openFilesMax !== undefined) check(int(config.openFilesMax) && config.openFilesMax >= 4, 'openFilesMax', 'an integer >= 4');
  if (config.flushCoalesceMs !== undefined) check(int(config.flushCoalesceMs) && config.flushCoalesceMs >= 0 && config.flushCoalesceMs <= 1000, 'flushCoalesceMs', 'an integer in [0, 1000]');
  if (config.flushConcurrencyMax !== undefined) check(int(config.flushConcurrencyMax) && config.flushConcurrencyMax >= 1, 'flushConcurrencyMax', 'a positive integer');
  if (config.retentionCheckIntervalMs !== undefined) check(int(config.retentionCheckIntervalMs) && config.retentionCheckIntervalMs >= 1, 'retentionCheckIntervalMs', 'a positive integer');
}
