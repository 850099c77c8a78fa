// Chunk-list writer for encoding Kafka messages without Buffer.concat.
//
// Small values go into a scratch Buffer. When it is full a new, larger scratch is
// started and the filled part becomes a chunk (nothing is copied). `bytes` and
// `records` values of at least `zeroCopyThreshold` bytes are not copied either:
// the caller's Buffer itself becomes a chunk, so it must stay unchanged until the
// chunks have been written out. `finish()` hands back the chunks and their total
// length; the network layer writes a size prefix and the chunks (cork/uncork or
// writev). `toBuffer()` joins them, for tests and small messages.

import { KafkaEncodeError } from './errors.ts';
import { uuidToBytes, ZERO_UUID } from './uuid.ts';
import { int64ToParts } from './varint.ts';

export interface WriterOptions {
  /** Size of the first scratch buffer (default 512). */
  initialCapacity?: number;
  /** bytes/records values at least this long are referenced, not copied (default 1024). */
  zeroCopyThreshold?: number;
}

export interface WriterOutput {
  chunks: Buffer[];
  length: number;
}

const MAX_SCRATCH = 1 << 20;
const EMPTY = Buffer.alloc(0);

export class Writer {
  /** Current scratch buffer. */
  private buf: Buffer;
  /** Next write position in `buf`. */
  private pos = 0;
  /** Start of the part of `buf` not yet turned into a chunk. */
  private mark = 0;
  private chunks: Buffer[] = [];
  /** Bytes already in `chunks`. */
  private flushed = 0;
  private readonly initialCapacity: number;
  readonly zeroCopyThreshold: number;

  constructor(options: WriterOptions = {}) {
    this.initialCapacity = Math.max(16, options.initialCapacity ?? 512);
    this.zeroCopyThreshold = options.zeroCopyThreshold ?? 1024;
    this.buf = EMPTY;
  }

  /** Bytes written so far. */
  get length(): number {
    return this.flushed + this.pos - this.mark;
  }

  private ensure(n: number): void {
    if (this.pos + n > this.buf.length) this.grow(n);
  }

  private grow(n: number): void {
    this.cut();
    const size = Math.max(n, this.buf.length === 0 ? this.initialCapacity : Math.min(this.buf.length * 2, MAX_SCRATCH));
    this.buf = Buffer.allocUnsafe(size);
    this.pos = 0;
    this.mark = 0;
  }

  /** Turns the pending part of the scratch buffer into a chunk. */
  private cut(): void {
    if (this.pos > this.mark) {
      this.chunks.push(this.buf.subarray(this.mark, this.pos));
      this.flushed += this.pos - this.mark;
      this.mark = this.pos;
    }
  }

  /**
   * Ends the message: returns its chunks and total length and leaves the writer
   * empty (a later write starts a fresh scratch buffer; returned chunks are
   * never written to again).
   */
  finish(): WriterOutput {
    this.cut();
    const out = { chunks: this.chunks, length: this.flushed };
    this.chunks = [];
    this.flushed = 0;
    // keep the rest of the scratch buffer for further writes; returned chunks end before `pos`
    return out;
  }

  /** finish() joined into one Buffer (no copy when there is a single chunk). */
  toBuffer(): Buffer {
    const { chunks, length } = this.finish();
    if (chunks.length === 1) return chunks[0]!;
    return Buffer.concat(chunks, length);
  }

  // ---- position patching (size prefixes) ----

  /** Reserves `n` bytes (contiguous) and returns their absolute offset for a later patch. */
  reserve(n: number): number {
    this.ensure(n);
    const at = this.length;
    this.pos += n;
    return at;
  }

  /** Overwrites 4 bytes reserved earlier at absolute offset `at` with an int32. Valid until finish(). */
  patchInt32(at: number, v: number): void {
    let target: Buffer | undefined;
    let off = 0;
    if (at >= this.flushed) {
      target = this.buf;
      off = this.mark + (at - this.flushed);
    } else {
      let base = 0;
      for (const c of this.chunks) {
        if (at < base + c.length) {
          target = c;
          off = at - base;
          break;
        }
        base += c.length;
      }
    }
    if (target === undefined || off + 4 > target.length) throw new RangeError(`no reserved int32 at ${at}`);
    target.writeInt32BE(v | 0, off);
  }

  // ---- fixed-width ----

  bool(v: boolean): void {
    this.ensure(1);
    this.buf[this.pos++] = v ? 1 : 0;
  }

  int8(v: number): void {
    if ((v << 24) >> 24 !== v) throw outOfRange('int8', v);
    this.ensure(1);
    this.buf[this.pos++] = v;
  }

  int16(v: number): void {
    if ((v << 16) >> 16 !== v) throw outOfRange('int16', v);
    this.ensure(2);
    const b = this.buf;
    const p = this.pos;
    b[p] = v >> 8;
    b[p + 1] = v;
    this.pos = p + 2;
  }

  uint16(v: number): void {
    if ((v & 0xffff) !== v) throw outOfRange('uint16', v);
    this.ensure(2);
    const b = this.buf;
    const p = this.pos;
    b[p] = v >> 8;
    b[p + 1] = v;
    this.pos = p + 2;
  }

  int32(v: number): void {
    if ((v | 0) !== v) throw outOfRange('int32', v);
    this.ensure(4);
    const b = this.buf;
    const p = this.pos;
    b[p] = v >> 24;
    b[p + 1] = v >> 16;
    b[p + 2] = v >> 8;
    b[p + 3] = v;
    this.pos = p + 4;
  }

  uint32(v: number): void {
    if (v >>> 0 !== v) throw outOfRange('uint32', v);
    this.ensure(4);
    const b = this.buf;
    const p = this.pos;
    b[p] = v >>> 24;
    b[p + 1] = v >>> 16;
    b[p + 2] = v >>> 8;
    b[p + 3] = v;
    this.pos = p + 4;
  }

  /** int64 from a safe integer, or ±2^63 for Long.MAX/MIN_VALUE (see varint.ts). */
  int64(v: number): void {
    let hi: number;
    let lo: number;
    if (v >= -2147483648 && v <= 2147483647 && (v | 0) === v) {
      hi = v < 0 ? -1 : 0;
      lo = v;
    } else {
      const parts = int64ToParts(v);
      if (parts === undefined) throw outOfRange('int64', v);
      hi = parts[0];
      lo = parts[1];
    }
    this.ensure(8);
    const b = this.buf;
    const p = this.pos;
    b[p] = hi >> 24;
    b[p + 1] = hi >> 16;
    b[p + 2] = hi >> 8;
    b[p + 3] = hi;
    b[p + 4] = lo >>> 24;
    b[p + 5] = lo >>> 16;
    b[p + 6] = lo >>> 8;
    b[p + 7] = lo;
    this.pos = p + 8;
  }

  float64(v: number): void {
    if (typeof v !== 'number') throw outOfRange('float64', v);
    this.ensure(8);
    this.buf.writeDoubleBE(v, this.pos);
    this.pos += 8;
  }

  /** A uuid in 8-4-4-4-12 hex text as its 16 bytes. */
  uuid(v: string): void {
    this.ensure(16);
    if (v === ZERO_UUID) this.buf.fill(0, this.pos, this.pos + 16);
    else uuidToBytes(v, this.buf, this.pos);
    this.pos += 16;
  }

  // ---- varints ----

  /** Unsigned varint of 0 … 2^32-1. */
  uvarint(v: number): void {
    if (v >>> 0 !== v) throw outOfRange('unsigned varint', v);
    this.ensure(5);
    const b = this.buf;
    let p = this.pos;
    while (v > 0x7f) {
      b[p++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    b[p++] = v;
    this.pos = p;
  }

  /** Zigzag varint of an int32. */
  varint(v: number): void {
    if ((v | 0) !== v) throw outOfRange('varint', v);
    this.uvarint(((v << 1) ^ (v >> 31)) >>> 0);
  }

  /** Zigzag varlong of a safe integer (or ±2^63). */
  varlong(v: number): void {
    const parts = int64ToParts(v);
    if (parts === undefined) throw outOfRange('varlong', v);
    const [hi, lo] = parts;
    let zhi = (((hi << 1) | (lo >>> 31)) ^ (hi >> 31)) >>> 0;
    let zlo = ((lo << 1) ^ (hi >> 31)) >>> 0;
    this.ensure(10);
    const b = this.buf;
    let p = this.pos;
    while (zhi !== 0 || zlo > 0x7f) {
      b[p++] = (zlo & 0x7f) | 0x80;
      zlo = ((zlo >>> 7) | (zhi << 25)) >>> 0;
      zhi = zhi >>> 7;
    }
    b[p++] = zlo;
    this.pos = p;
  }

  // ---- strings ----

  /** Writes the UTF-8 of `s` preceded by its length (int16, or uvarint length+1 when compact). */
  private str(s: string, compact: boolean): void {
    const n = s.length;
    if (n <= 32) {
      // ASCII fast path: byte length = char count
      let ascii = true;
      for (let i = 0; i < n; i++) {
        if (s.charCodeAt(i) >= 0x80) {
          ascii = false;
          break;
        }
      }
      if (ascii) {
        this.ensure(n + 2);
        const b = this.buf;
        let p = this.pos;
        if (compact) b[p++] = n + 1;
        else {
          b[p++] = 0;
          b[p++] = n;
        }
        for (let i = 0; i < n; i++) b[p++] = s.charCodeAt(i);
        this.pos = p;
        return;
      }
    }
    const len = Buffer.byteLength(s, 'utf8');
    if (len > 0x7fff) throw new KafkaEncodeError('TOO_LONG', `string of ${len} UTF-8 bytes exceeds 32767`);
    if (compact) this.uvarint(len + 1);
    else this.int16(len);
    this.ensure(len);
    this.buf.write(s, this.pos, len, 'utf8');
    this.pos += len;
  }

  /** int16 length + UTF-8. */
  string(s: string): void {
    if (typeof s !== 'string') throw nullNotAllowed('string');
    this.str(s, false);
  }

  /** int16 length (-1 for null) + UTF-8. */
  nullableString(s: string | null): void {
    if (s === null) this.int16(-1);
    else this.string(s);
  }

  /** uvarint length+1 + UTF-8. */
  compactString(s: string): void {
    if (typeof s !== 'string') throw nullNotAllowed('string');
    this.str(s, true);
  }

  /** uvarint length+1 (0 for null) + UTF-8. */
  compactNullableString(s: string | null): void {
    if (s === null) {
      this.ensure(1);
      this.buf[this.pos++] = 0;
    } else this.compactString(s);
  }

  // ---- bytes / records ----

  /**
   * Appends raw bytes: copied into the scratch buffer when short, else the
   * caller's Buffer is referenced as its own chunk (it must stay unchanged until
   * the chunks are written).
   */
  raw(b: Uint8Array): void {
    const n = b.length;
    if (n === 0) return;
    if (n >= this.zeroCopyThreshold) {
      this.cut();
      this.chunks.push(Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, n));
      this.flushed += n;
      return;
    }
    this.ensure(n);
    this.buf.set(b, this.pos);
    this.pos += n;
  }

  /** int32 length + bytes. */
  bytes(b: Uint8Array): void {
    if (b === null || b === undefined) throw nullNotAllowed('bytes');
    this.int32(b.length);
    this.raw(b);
  }

  /** int32 length (-1 for null) + bytes. */
  nullableBytes(b: Uint8Array | null): void {
    if (b === null) this.int32(-1);
    else this.bytes(b);
  }

  /** uvarint length+1 + bytes. */
  compactBytes(b: Uint8Array): void {
    if (b === null || b === undefined) throw nullNotAllowed('bytes');
    this.uvarint(b.length + 1);
    this.raw(b);
  }

  /** uvarint length+1 (0 for null) + bytes. */
  compactNullableBytes(b: Uint8Array | null): void {
    if (b === null) this.uvarint(0);
    else this.compactBytes(b);
  }

  /** Appends everything another writer holds (it is left empty). */
  append(other: Writer): void {
    const { chunks } = other.finish();
    for (const c of chunks) this.raw(c);
  }

  // ---- array counts ----

  arrayLength(n: number): void {
    this.int32(n);
  }

  compactArrayLength(n: number): void {
    this.uvarint(n + 1);
  }
}

function outOfRange(type: string, v: unknown): KafkaEncodeError {
  return new KafkaEncodeError('OUT_OF_RANGE', `${String(v)} does not fit ${type}`);
}

function nullNotAllowed(type: string): KafkaEncodeError {
  return new KafkaEncodeError('NULL_NOT_ALLOWED', `null or undefined given for a non-nullable ${type}`);
}
