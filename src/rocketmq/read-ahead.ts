// The last read of each recently pulled queue, kept for the pulls that follow it. A push consumer takes
// 32 messages per pull while a pull reads 64 KiB of whole batches (a delay round delivers ~64 records in
// one batch per queue; 1 KiB messages come ~50 to a read), so without this the next pull of the queue
// reads most of the same bytes again. Stored batches never change below the log end (the log is
// append-only; retention and DeleteRecords only raise its start, which the pull checks first), so a
// kept read stays valid as long as it is of the same log object (a recreated topic has new ones).
//
// Reads land in slabs of this class. One pull (an attempt, synchronous) lends slabs with `alloc`, may
// `keep` the read of one, and `settle`s at its end: only then do slabs it did not keep, and those of
// reads it displaced, become reusable — the records it encoded point into them until then.

import { BufferPool } from '../storage/buffer-pool.ts';
import type { PartitionLog } from '../storage/partition-log.ts';

/**
 * Bytes a pull reads per step: a push consumer asks for 32 messages (~33 KiB of 1 KiB bodies), so a
 * pull reads 64 KiB first and reads on only while too few messages matched (filters that drop most).
 */
export const PULL_READ_STEP_BYTES = 64 * 1024;
/** Queues whose last read is kept (64 KiB each). */
export const PULL_READ_AHEAD_QUEUES = 64;

interface KeptRead {
  slab: Buffer;
  bytes: Buffer;
  /** Base offset of the first batch in `bytes`; `nextOffset` is past the last one. */
  firstOffset: number;
  nextOffset: number;
}

export class PullReadAhead {
  readonly slabBytes: number;
  readonly #queuesMax: number;
  /** Least recently kept first. */
  readonly #reads = new Map<PartitionLog, KeptRead>();
  /** Free slabs (beyond what the kept reads could need at once they are left to the GC). */
  readonly #pool: BufferPool;
  #lent: Buffer[] = [];
  #retired: Buffer[] = [];

  /** Keeps the reads of at most `queuesMax` queues, each in a slab of `slabBytes`. */
  constructor(queuesMax: number, slabBytes: number) {
    this.#queuesMax = queuesMax;
    this.slabBytes = slabBytes;
    this.#pool = new BufferPool(slabBytes, Math.max(4, queuesMax / 4));
  }

  /** The kept read of `log` that holds `offset`, if any. */
  get(log: PartitionLog, offset: number): { bytes: Buffer; nextOffset: number } | undefined {
    const read = this.#reads.get(log);
    if (read === undefined || offset < read.firstOffset || offset >= read.nextOffset) return undefined;
    return read;
  }

  /** A buffer to read into (for PartitionLog.read's `alloc`): a slab when `size` fits one. */
  readonly alloc = (size: number): Buffer => {
    const slab = this.#pool.take(size);
    if (size <= this.slabBytes) this.#lent.push(slab);
    return slab;
  };

  /** Keeps a read of `log` whose bytes are in a slab lent by `alloc` in this attempt (others are not kept). */
  keep(log: PartitionLog, bytes: Buffer, firstOffset: number, nextOffset: number): void {
    const i = this.#lent.findIndex((slab) => slab.buffer === bytes.buffer);
    if (i < 0 || nextOffset <= firstOffset) return;
    const slab = this.#lent[i]!;
    this.#lent.splice(i, 1);
    const old = this.#reads.get(log);
    if (old !== undefined) {
      this.#retired.push(old.slab);
      this.#reads.delete(log);
    }
    this.#reads.set(log, { slab, bytes, firstOffset, nextOffset });
    if (this.#reads.size > this.#queuesMax) {
      const [oldestLog, oldest] = this.#reads.entries().next().value!;
      this.#reads.delete(oldestLog);
      this.#retired.push(oldest.slab);
    }
  }

  /** The end of an attempt: slabs lent but not kept, and those of displaced reads, are reusable again. */
  settle(): void {
    for (const slab of this.#lent) this.#pool.give(slab);
    for (const slab of this.#retired) this.#pool.give(slab);
    this.#lent = [];
    this.#retired = [];
  }

  /** Queues with a kept read. */
  get size(): number {
    return this.#reads.size;
  }
}
