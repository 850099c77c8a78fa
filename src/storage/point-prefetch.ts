// Point reads fetched ahead: PartitionLog.prefetchPoints() reads, on FileIO's
// helper thread, the bytes from the offset index entry at or before each offset
// asked for; positionOf() then finds the offset's batch in them, or says it is
// not there whole (the caller reads it the usual way). A cache, never the truth:
// a slot that missed, came up short or holds other offsets is simply a miss.

import { BASE_OFFSET, BATCH_LENGTH, LAST_OFFSET_DELTA, LOG_OVERHEAD, readInt32, readInt64 } from './record-batch.ts';

export class PointPrefetch {
  /** The slab the slots live in; hand it to the next prefetchPoints() once done with this one. */
  readonly slab: ArrayBuffer;
  /** The slots, back to back, `slotBytes` apart. */
  readonly bytes: Buffer;
  /** The offsets asked for, ascending: slot i holds offsets[i]'s read. */
  readonly #offsets: Float64Array;
  readonly #got: Int32Array;
  readonly #slotBytes: number;

  constructor(slab: ArrayBuffer, slotBytes: number, offsets: Float64Array, got: Int32Array) {
    this.slab = slab;
    this.bytes = Buffer.from(slab);
    this.#offsets = offsets;
    this.#got = got;
    this.#slotBytes = slotBytes;
  }

  /** Offsets asked for (a hit needs more: see positionOf). */
  get size(): number {
    return this.#offsets.length;
  }

  /** Position in `bytes` of the whole batch holding `offset`, or -1. */
  positionOf(offset: number): number {
    const slot = this.#slotOf(offset);
    if (slot < 0) return -1;
    const got = this.#got[slot]!;
    const start = slot * this.#slotBytes;
    const end = start + got;
    const bytes = this.bytes;
    let pos = start;
    // Each step moves past a batch of at least a header, so the walk ends within the slot.
    while (pos + LAST_OFFSET_DELTA + 4 <= end) {
      const size = LOG_OVERHEAD + readInt32(bytes, pos + BATCH_LENGTH);
      if (size <= LOG_OVERHEAD) return -1; // zeros past the end, or not a batch boundary
      const baseOffset = readInt64(bytes, pos + BASE_OFFSET);
      const lastOffset = baseOffset + readInt32(bytes, pos + LAST_OFFSET_DELTA);
      if (lastOffset >= offset) return baseOffset <= offset && pos + size <= end ? pos : -1;
      pos += size;
    }
    return -1;
  }

  #slotOf(offset: number): number {
    const offsets = this.#offsets;
    let lo = 0;
    let hi = offsets.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const at = offsets[mid]!;
      if (at === offset) return mid;
      if (at < offset) lo = mid + 1;
      else hi = mid - 1;
    }
    return -1;
  }
}
