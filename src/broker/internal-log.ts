// The broker's own state lives in logs like user data (DESIGN.md §3): topic
// metadata in `__diglot_metadata`, committed offsets in `__consumer_offsets`.
// An InternalLog appends keyed JSON records and replays them on open, so the
// state replicates later like any partition.

import type { LogManager } from '../storage/log-manager.ts';
import type { PartitionLog } from '../storage/partition-log.ts';
import { buildRecordBatch, forEachBatch, readRecords, type RecordInput } from '../storage/records.ts';

export const METADATA_TOPIC = '__diglot_metadata';
export const OFFSETS_TOPIC = '__consumer_offsets';
/** Protocol front ends' own durable state (RocketMQ subscription groups, KV config): broker/state-store.ts. */
export const PROTOCOL_STATE_TOPIC = '__diglot_protocol_state';

/** Offsets and metadata are small: read them back in chunks of this size. */
const REPLAY_CHUNK_BYTES = 1 << 20;

export interface InternalRecord {
  key: string;
  /** null is a tombstone. */
  value: unknown;
}

export class InternalLog {
  readonly log: PartitionLog;
  readonly #nowMs: () => number;

  constructor(logManager: LogManager, topic: string, nowMs: () => number) {
    this.log = logManager.getOrCreate(topic, 0);
    // The broker's state is never expired by time or size: a restart after a
    // quiet week must still find its topics and offsets. Recovered logs come
    // back with the broker defaults, so this is set on every open.
    this.log.config = { ...this.log.config, retentionMs: -1, retentionBytes: -1 };
    this.#nowMs = nowMs;
  }

  /** Calls `apply` for every record from the start, in order. */
  replay(apply: (record: InternalRecord) => void): number {
    let offset = this.log.logStartOffset;
    let count = 0;
    while (offset < this.log.logEndOffset) {
      const result = this.log.read(offset, REPLAY_CHUNK_BYTES);
      if (result.bytes.length === 0) break;
      forEachBatch(result.bytes, (pos) => {
        for (const record of readRecords(result.bytes, pos)) {
          if (record.offset < offset) continue;
          const key = record.key === null ? '' : record.key.toString('utf8');
          apply({ key, value: record.value === null ? null : JSON.parse(record.value.toString('utf8')) });
          count++;
        }
      });
      offset = result.nextOffset;
    }
    return count;
  }

  /** Appends records as one batch; resolves once they are durable. */
  async append(records: readonly InternalRecord[]): Promise<number> {
    const now = this.#nowMs();
    const inputs: RecordInput[] = records.map((r) => ({
      key: Buffer.from(r.key, 'utf8'),
      value: r.value === null ? null : Buffer.from(JSON.stringify(r.value), 'utf8'),
      timestampMs: now,
    }));
    const info = this.log.append(buildRecordBatch(inputs));
    await this.log.flush();
    return info.baseOffset;
  }
}
