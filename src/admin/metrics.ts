// Prometheus metrics for one broker instance, in its own registry (not
// prom-client's global one) so several brokers can live in one process.
// Storage only counts (LogManager.stats); the values are read at scrape time.

import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { StorageStats } from '../storage/types.ts';

/** What metrics need of one partition log (a PartitionLog satisfies it). */
export interface PartitionLogView {
  readonly topic: string;
  readonly partition: number;
  sizeBytes(): number;
  segmentCount(): number;
}

/** What metrics need from the storage engine (a LogManager satisfies it). */
export interface StorageView {
  readonly stats: StorageStats;
  logs(): Iterable<PartitionLogView>;
}

/** Counters mirrored from StorageStats: metric name → stats field. */
const storageCounters: ReadonlyArray<[name: string, field: keyof StorageStats, help: string]> = [
  ['diglot_storage_appended_bytes_total', 'appendedBytes', 'Bytes of record batches appended to the log'],
  ['diglot_storage_appended_records_total', 'appendedRecords', 'Records appended to the log'],
  ['diglot_storage_appended_batches_total', 'appendedBatches', 'Record batches appended to the log'],
  ['diglot_storage_fsyncs_total', 'fsyncs', 'fdatasync calls on log files'],
  ['diglot_storage_segments_rolled_total', 'segmentsRolled', 'Segments rolled (by size or age)'],
  ['diglot_storage_segments_deleted_total', 'segmentsDeleted', 'Segments deleted by retention or log-start truncation'],
  ['diglot_storage_recovery_truncated_bytes_total', 'truncatedBytesOnRecovery', 'Bytes of torn or corrupt tail cut off during recovery'],
];

export const FSYNC_BUCKETS_SECONDS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

export class BrokerMetrics {
  readonly registry = new Registry();
  readonly #fsyncSeconds: Histogram;
  #storage: StorageView | undefined;

  constructor() {
    collectDefaultMetrics({ register: this.registry });
    const metrics = this;

    for (const [name, field, help] of storageCounters) {
      new Counter({
        name,
        help,
        registers: [this.registry],
        collect() {
          const value = metrics.#storage?.stats[field] ?? 0;
          this.reset();
          if (value > 0) this.inc(value);
        },
      });
    }

    this.#fsyncSeconds = new Histogram({
      name: 'diglot_storage_fsync_seconds',
      help: 'Duration of one fdatasync of a log file',
      buckets: FSYNC_BUCKETS_SECONDS,
      registers: [this.registry],
    });

    new Gauge({
      name: 'diglot_storage_segments',
      help: 'Segments on disk across all partitions',
      registers: [this.registry],
      collect() {
        let segments = 0;
        for (const log of metrics.#logs()) segments += log.segmentCount();
        this.set(segments);
      },
    });

    new Gauge({
      name: 'diglot_storage_log_size_bytes',
      help: 'Bytes on disk of one partition log (all its segments)',
      labelNames: ['topic', 'partition'] as const,
      registers: [this.registry],
      collect() {
        // Reset first so partitions that were deleted disappear.
        this.reset();
        for (const log of metrics.#logs()) {
          this.set({ topic: log.topic, partition: String(log.partition) }, log.sizeBytes());
        }
      },
    });
  }

  /** The logs to report; none when storage is not open (or is closing and refuses). */
  #logs(): PartitionLogView[] {
    try {
      return [...(this.#storage?.logs() ?? [])];
    } catch {
      return [];
    }
  }

  /** Storage is open: its counters and gauges show from the next scrape on. */
  attachStorage(storage: StorageView): void {
    this.#storage = storage;
  }

  /** Feed from StorageObserver.onFsync. */
  observeFsync(durationMs: number): void {
    this.#fsyncSeconds.observe(durationMs / 1000);
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }
}
