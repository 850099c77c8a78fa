// A free list of equal-sized slabs for short-lived large buffers (fetch reads,
// request frames). Each fresh 1 MiB Buffer is external memory to V8, and their
// churn drove a Mark-Compact every few milliseconds under load; reusing slabs
// once the socket has taken the bytes removes that. A slab that is never given
// back is simply garbage collected: the pool tracks only what it holds.

export class BufferPool {
  readonly slabBytes: number;
  readonly #free: Buffer[] = [];
  readonly #freeMax: number;
  /** Slabs handed out and slabs reused (for tests and metrics). */
  taken = 0;
  reused = 0;

  constructor(slabBytes: number, freeMax: number) {
    this.slabBytes = slabBytes;
    this.#freeMax = freeMax;
  }

  /** A whole slab when `size` fits one (callers slice it), else a fresh unpooled buffer. */
  take(size: number): Buffer {
    if (size > this.slabBytes) return Buffer.allocUnsafe(size);
    this.taken++;
    const slab = this.#free.pop();
    if (slab !== undefined) {
      this.reused++;
      return slab;
    }
    return Buffer.allocUnsafeSlow(this.slabBytes);
  }

  /**
   * Returns a slab from take() (a whole slab-sized buffer; views and other sizes
   * are ignored). The caller must hold no view of it any more.
   */
  give(buffer: Buffer): void {
    if (buffer.length !== this.slabBytes || buffer.byteOffset !== 0 || this.#free.length >= this.#freeMax) return;
    this.#free.push(buffer);
  }
}
