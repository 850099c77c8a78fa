// Public shapes of the storage engine. Storage knows nothing of protocols:
// a log is a sequence of Kafka RecordBatch v2 byte blobs with dense offsets.

export type FlushMode =
  /** fdatasync dirty logs every `flushIntervalMs` (durability promises wait for that flush) */
  | 'interval'
  /** every append is followed by a group-committed fdatasync before its promise resolves */
  | 'always';

/** Settings a single log obeys; topics may override them. */
export interface LogConfig {
  /** Roll the active segment once it holds this many bytes. */
  segmentBytesMax: number;
  /** Roll the active segment once its first batch is this old. */
  segmentAgeMsMax: number;
  /** Bytes of log between two sparse index entries. */
  indexIntervalBytes: number;
  /** Delete whole segments whose newest timestamp is older than this; -1 keeps forever. */
  retentionMs: number;
  /** Delete the oldest whole segments while the log is larger than this; -1 means unbounded. */
  retentionBytes: number;
  flushMode: FlushMode;
  flushIntervalMs: number;
}

export interface LogManagerConfig extends LogConfig {
  /** At most this many files are open at once across all logs (an LRU closes the rest). */
  openFilesMax: number;
  /** How often retention runs and checkpoints are written. */
  retentionCheckIntervalMs: number;
  /** At most this many fdatasync calls in flight at once. */
  flushConcurrencyMax: number;
  /**
   * A log whose appends outpace its fdatasyncs starts its next flush no sooner than this
   * after the previous one started (0: at once). An idle log flushes at once regardless.
   */
  flushCoalesceMs: number;
}

export const defaultLogConfig: Readonly<LogConfig> = Object.freeze({
  segmentBytesMax: 1024 * 1024 * 1024,
  segmentAgeMsMax: 7 * 24 * 3600 * 1000,
  indexIntervalBytes: 4096,
  retentionMs: 7 * 24 * 3600 * 1000,
  retentionBytes: -1,
  flushMode: 'interval',
  flushIntervalMs: 500,
});

export const defaultLogManagerConfig: Readonly<LogManagerConfig> = Object.freeze({
  ...defaultLogConfig,
  openFilesMax: 1024,
  retentionCheckIntervalMs: 30_000,
  flushConcurrencyMax: 8,
  flushCoalesceMs: 5,
});

/** What an append assigned. Offsets are Numbers (asserted < 2^53). */
export interface AppendInfo {
  baseOffset: number;
  lastOffset: number;
  /** Offset the next append will get (lastOffset + 1). */
  nextOffset: number;
  /** LogAppendTime used when the caller asked for it, else -1. */
  logAppendTimeMs: number;
  /** Records appended (sum of the batches' record counts). */
  recordCount: number;
}

/** A read returns whole batches, undecoded. */
export interface ReadResult {
  /** Concatenated whole batches (possibly empty). */
  bytes: Buffer;
  /** First offset of the first returned batch (may be below the requested offset). */
  firstOffset: number;
  /** Offset after the last returned batch; where the next read should start. */
  nextOffset: number;
  logStartOffset: number;
  logEndOffset: number;
}

/** Counters and gauges the observability layer exports; storage only counts. */
export interface StorageStats {
  appendedBytes: number;
  appendedRecords: number;
  appendedBatches: number;
  fsyncs: number;
  segmentsRolled: number;
  segmentsDeleted: number;
  truncatedBytesOnRecovery: number;
}

/** Hooks the owner of a LogManager can set; never required. */
export interface StorageObserver {
  /** One fdatasync of a log file finished, taking `durationMs`. */
  onFsync?(durationMs: number): void;
  /** Recovery found and cut a torn or corrupt tail. */
  onTruncate?(logName: string, segmentBaseOffset: number, fromPosition: number, reason: string): void;
  /** Something went wrong in background work (flush, retention). */
  onError?(err: Error, context: string): void;
}

export const MAX_SAFE_OFFSET = Number.MAX_SAFE_INTEGER;
