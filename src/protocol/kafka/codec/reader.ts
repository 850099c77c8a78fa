// Bounds-checked cursor over a Buffer for decoding Kafka messages.
//
// Rules the generated decoders rely on:
// - every read checks `end` first; nothing ever reads past it, and every failure
//   is a KafkaDecodeError (never a RangeError/TypeError from Buffer);
// - a length or count is checked against the bytes left before anything is
//   allocated (an array count of 2^31 with 10 bytes left throws at once);
// - `bytes`/`records` values are zero-copy `subarray` views of the input: they
//   share its memory, so the input must not be reused while they are alive.

import { KafkaDecodeError } from './errors.ts';
import { uuidFromBytes } from './uuid.ts';
import { int64FromParts } from './varint.ts';

export class Reader {
  /** The whole input; reads stay within [start, end). */
  readonly buf: Buffer;
  /** Next byte to read. */
  pos: number;
  /** One past the last readable byte. */
  readonly end: number;

  constructor(buf: Buffer, start = 0, end = buf.length) {
    if (!(start >= 0 && start <= end && end <= buf.length)) {
      throw new RangeError(`Reader bounds [${start}, ${end}) outside a buffer of ${buf.length} bytes`);
    }
    this.buf = buf;
    this.pos = start;
    this.end = end;
  }

  /** Bytes left to read. */
  get remaining(): number {
    return this.end - this.pos;
  }

  // ---- errors (kept out of line so the fast paths stay small) ----

  truncated(need: number): KafkaDecodeError {
    return new KafkaDecodeError('TRUNCATED', `need ${need} more byte(s) at offset ${this.pos}, ${this.end - this.pos} left`, this.pos);
  }

  invalidLength(what: string, n: number): KafkaDecodeError {
    return new KafkaDecodeError('INVALID_LENGTH', `invalid ${what} length ${n} at offset ${this.pos}`, this.pos);
  }

  nullNotAllowed(field: string): KafkaDecodeError {
    return new KafkaDecodeError('NULL_NOT_ALLOWED', `null for non-nullable field ${field} at offset ${this.pos}`, this.pos);
  }

  // ---- fixed-width ----

  bool(): boolean {
    const p = this.pos;
    if (p >= this.end) throw this.truncated(1);
    this.pos = p + 1;
    return this.buf[p] !== 0;
  }

  int8(): number {
    const p = this.pos;
    if (p >= this.end) throw this.truncated(1);
    this.pos = p + 1;
    return (this.buf[p]! << 24) >> 24;
  }

  int16(): number {
    const p = this.pos;
    if (p + 2 > this.end) throw this.truncated(2);
    this.pos = p + 2;
    const b = this.buf;
    return ((b[p]! << 24) | (b[p + 1]! << 16)) >> 16;
  }

  uint16(): number {
    const p = this.pos;
    if (p + 2 > this.end) throw this.truncated(2);
    this.pos = p + 2;
    const b = this.buf;
    return (b[p]! << 8) | b[p + 1]!;
  }

  int32(): number {
    const p = this.pos;
    if (p + 4 > this.end) throw this.truncated(4);
    this.pos = p + 4;
    const b = this.buf;
    return (b[p]! << 24) | (b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!;
  }

  uint32(): number {
    return this.int32() >>> 0;
  }

  /** int64 as a number; throws UNSAFE_INT64 unless it is safe or a Long.MIN/MAX sentinel (see varint.ts). */
  int64(): number {
    const p = this.pos;
    if (p + 8 > this.end) throw this.truncated(8);
    this.pos = p + 8;
    const b = this.buf;
    const hi = (b[p]! << 24) | (b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!;
    const lo = ((b[p + 4]! << 24) | (b[p + 5]! << 16) | (b[p + 6]! << 8) | b[p + 7]!) >>> 0;
    if (hi >= -0x200000 && hi < 0x200000 && (hi !== -0x200000 || lo !== 0)) return hi * 4294967296 + lo;
    const v = int64FromParts(hi, lo);
    if (v === undefined) throw this.unsafeInt64(p, hi, lo);
    return v;
  }

  private unsafeInt64(p: number, hi: number, lo: number): KafkaDecodeError {
    const big = (BigInt(hi) << 32n) | BigInt(lo);
    return new KafkaDecodeError('UNSAFE_INT64', `int64 ${big} at offset ${p} is outside the safe integer range`, p);
  }

  float64(): number {
    const p = this.pos;
    if (p + 8 > this.end) throw this.truncated(8);
    this.pos = p + 8;
    return this.buf.readDoubleBE(p);
  }

  /** 16 bytes as canonical lowercase uuid text. */
  uuid(): string {
    const p = this.pos;
    if (p + 16 > this.end) throw this.truncated(16);
    this.pos = p + 16;
    return uuidFromBytes(this.buf, p);
  }

  // ---- varints ----

  /** Unsigned varint, at most 5 bytes, value 0 … 2^32-1. */
  uvarint(): number {
    const p = this.pos;
    if (p < this.end) {
      const x = this.buf[p]!;
      if (x < 0x80) {
        this.pos = p + 1;
        return x;
      }
    }
    return this.uvarintSlow();
  }

  private uvarintSlow(): number {
    const b = this.buf;
    const end = this.end;
    let p = this.pos;
    let result = 0;
    let mul = 1;
    for (let i = 0; i < 5; i++) {
      if (p >= end) throw this.truncated(1);
      const x = b[p++]!;
      if (i === 4 && x > 0x0f) {
        throw new KafkaDecodeError('INVALID_VARINT', `unsigned varint at offset ${this.pos} exceeds 32 bits`, this.pos);
      }
      result += (x & 0x7f) * mul;
      if (x < 0x80) {
        this.pos = p;
        return result;
      }
      mul *= 128;
    }
    /* c8 ignore next */
    throw new KafkaDecodeError('INVALID_VARINT', `unsigned varint at offset ${this.pos} is longer than 5 bytes`, this.pos);
  }

  /** Zigzag varint (int32), as in record headers and record batches. */
  varint(): number {
    const u = this.uvarint();
    return (u >>> 1) ^ -(u & 1);
  }

  /** Zigzag varlong (int64) as a number; same safety rule as int64(). */
  varlong(): number {
    const b = this.buf;
    const end = this.end;
    const start = this.pos;
    let p = start;
    let lo = 0;
    let hi = 0;
    for (let i = 0; i < 10; i++) {
      if (p >= end) throw this.truncated(1);
      const x = b[p++]!;
      const bits = x & 0x7f;
      const shift = 7 * i;
      if (shift < 28) {
        lo |= bits << shift;
      } else if (shift === 28) {
        lo |= bits << 28;
        hi |= bits >>> 4;
      } else {
        if (i === 9 && x > 0x01) {
          throw new KafkaDecodeError('INVALID_VARINT', `varlong at offset ${start} exceeds 64 bits`, start);
        }
        hi |= bits << (shift - 32);
      }
      if (x < 0x80) {
        this.pos = p;
        lo >>>= 0;
        // un-zigzag: (u >>> 1) ^ -(u & 1) over 64 bits
        const neg = lo & 1;
        let rlo = ((lo >>> 1) | (hi << 31)) >>> 0;
        let rhi = hi >>> 1;
        if (neg) {
          rlo = ~rlo >>> 0;
          rhi = ~rhi;
        } else {
          rhi |= 0;
        }
        const v = int64FromParts(rhi, rlo);
        if (v === undefined) throw this.unsafeInt64(start, rhi, rlo);
        return v;
      }
    }
    throw new KafkaDecodeError('INVALID_VARINT', `varlong at offset ${start} is longer than 10 bytes`, start);
  }

  // ---- strings ----

  /** `n` bytes of UTF-8 (n already validated ≥ 0). */
  utf8(n: number): string {
    const p = this.pos;
    const e = p + n;
    if (e > this.end) throw this.truncated(n);
    this.pos = e;
    const b = this.buf;
    if (n <= 16) {
      let s = '';
      for (let i = p; i < e; i++) {
        const c = b[i]!;
        if (c >= 0x80) return b.toString('utf8', p, e);
        s += String.fromCharCode(c);
      }
      return s;
    }
    return b.toString('utf8', p, e);
  }

  /** int16 length + UTF-8; null (-1) throws NULL_NOT_ALLOWED. */
  string(field = 'string'): string {
    const n = this.int16();
    if (n < 0) {
      if (n === -1) throw this.nullNotAllowed(field);
      throw this.invalidLength('string', n);
    }
    return this.utf8(n);
  }

  nullableString(): string | null {
    const n = this.int16();
    if (n < 0) {
      if (n === -1) return null;
      throw this.invalidLength('string', n);
    }
    return this.utf8(n);
  }

  /** uvarint (length+1) + UTF-8; null (0) throws NULL_NOT_ALLOWED. */
  compactString(field = 'string'): string {
    const u = this.uvarint();
    if (u === 0) throw this.nullNotAllowed(field);
    if (u > 0x8000) throw this.invalidLength('compact string', u - 1);
    return this.utf8(u - 1);
  }

  compactNullableString(): string | null {
    const u = this.uvarint();
    if (u === 0) return null;
    if (u > 0x8000) throw this.invalidLength('compact string', u - 1);
    return this.utf8(u - 1);
  }

  // ---- bytes / records: zero-copy views ----

  /** The next `n` bytes as a view of the input (no copy). */
  view(n: number): Buffer {
    const p = this.pos;
    const e = p + n;
    if (e > this.end) throw this.truncated(n);
    this.pos = e;
    return this.buf.subarray(p, e);
  }

  /** int32 length + bytes (a view); null (-1) throws NULL_NOT_ALLOWED. */
  bytes(field = 'bytes'): Buffer {
    const n = this.int32();
    if (n < 0) {
      if (n === -1) throw this.nullNotAllowed(field);
      throw this.invalidLength('bytes', n);
    }
    return this.view(n);
  }

  nullableBytes(): Buffer | null {
    const n = this.int32();
    if (n < 0) {
      if (n === -1) return null;
      throw this.invalidLength('bytes', n);
    }
    return this.view(n);
  }

  compactBytes(field = 'bytes'): Buffer {
    const u = this.uvarint();
    if (u === 0) throw this.nullNotAllowed(field);
    return this.view(u - 1);
  }

  compactNullableBytes(): Buffer | null {
    const u = this.uvarint();
    if (u === 0) return null;
    return this.view(u - 1);
  }

  // ---- array counts, checked against what is left ----

  private checkCount(n: number, minElementSize: number): number {
    if (n * minElementSize > this.end - this.pos) {
      throw new KafkaDecodeError('TRUNCATED',
        `array of ${n} element(s) of at least ${minElementSize} byte(s) at offset ${this.pos}, only ${this.end - this.pos} byte(s) left`,
        this.pos);
    }
    return n;
  }

  /** int32 count; null (-1) throws NULL_NOT_ALLOWED. */
  arrayLength(minElementSize: number, field = 'array'): number {
    const n = this.int32();
    if (n < 0) {
      if (n === -1) throw this.nullNotAllowed(field);
      throw this.invalidLength('array', n);
    }
    return this.checkCount(n, minElementSize);
  }

  /** int32 count; -1 for null. */
  nullableArrayLength(minElementSize: number): number {
    const n = this.int32();
    if (n < 0) {
      if (n === -1) return -1;
      throw this.invalidLength('array', n);
    }
    return this.checkCount(n, minElementSize);
  }

  /** uvarint count+1; null (0) throws NULL_NOT_ALLOWED. */
  compactArrayLength(minElementSize: number, field = 'array'): number {
    const u = this.uvarint();
    if (u === 0) throw this.nullNotAllowed(field);
    return this.checkCount(u - 1, minElementSize);
  }

  /** uvarint count+1; -1 for null. */
  compactNullableArrayLength(minElementSize: number): number {
    const u = this.uvarint();
    if (u === 0) return -1;
    return this.checkCount(u - 1, minElementSize);
  }

  // ---- tagged fields ----

  /**
   * Reads a tagged field's size and returns the offset where its content ends,
   * after checking it lies within the input.
   */
  taggedFieldEnd(): number {
    const size = this.uvarint();
    const e = this.pos + size;
    if (e > this.end) throw this.truncated(size);
    return e;
  }

  /** After decoding a known tagged field: its content must have filled exactly its size. */
  endTaggedField(end: number, tag: number): void {
    if (this.pos !== end) {
      throw new KafkaDecodeError('INVALID_TAGGED_FIELD',
        `tagged field ${tag} ended at offset ${this.pos}, its size said ${end}`, this.pos);
    }
  }

  /** Skips a whole tagged-field section (used by structs without known tagged fields). */
  skipTaggedFields(): void {
    let n = this.uvarint();
    while (n-- > 0) {
      this.uvarint();
      this.pos = this.taggedFieldEnd();
    }
  }

  /** Moves `n` bytes forward. */
  skip(n: number): void {
    if (n < 0 || this.pos + n > this.end) throw this.truncated(n);
    this.pos += n;
  }
}
