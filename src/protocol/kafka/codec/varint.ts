// Varint and int64 helpers shared by Reader and Writer.
//
// int64 representation: a JS `number`. Offsets, ids, timestamps and sizes fit in
// ±(2^53-1). The two Java sentinels Long.MAX_VALUE and Long.MIN_VALUE map to
// ±2^63 — exactly the values the JS literals 9223372036854775807 and
// -9223372036854775808 evaluate to — and back. Any other value beyond the safe
// range makes the decoder throw KafkaDecodeError('UNSAFE_INT64') rather than
// silently round, and the encoder throw KafkaEncodeError('OUT_OF_RANGE').

/** Long.MAX_VALUE as a JS number (=== 9223372036854775807 === 2 ** 63). */
export const INT64_MAX = 2 ** 63;
/** Long.MIN_VALUE as a JS number (=== -9223372036854775808 === -(2 ** 63)). */
export const INT64_MIN = -(2 ** 63);

const TWO_32 = 4294967296;

/**
 * The number for the signed 64-bit value `hi * 2^32 + lo` (`hi` signed int32, `lo`
 * uint32), or undefined when it is neither safe nor a sentinel.
 */
export function int64FromParts(hi: number, lo: number): number | undefined {
  // Safe iff -2^53 < value < 2^53, i.e. hi in [-2^21, 2^21) except exactly -2^53.
  if (hi >= -0x200000 && hi < 0x200000) {
    if (hi === -0x200000 && lo === 0) return undefined;
    return hi * TWO_32 + lo;
  }
  if (hi === 0x7fffffff && lo === 0xffffffff) return INT64_MAX;
  if (hi === -0x80000000 && lo === 0) return INT64_MIN;
  return undefined;
}

/** Splits an int64 number into [hi (signed int32), lo (uint32)], or undefined if it is not representable. */
export function int64ToParts(v: number): [number, number] | undefined {
  if (Number.isSafeInteger(v)) {
    const hi = Math.floor(v / TWO_32);
    return [hi | 0, v >>> 0];
  }
  if (v === INT64_MAX) return [0x7fffffff, 0xffffffff];
  if (v === INT64_MIN) return [-0x80000000, 0];
  return undefined;
}

/** Bytes an unsigned varint of `v` (0 ≤ v < 2^32) takes. */
export function uvarintSize(v: number): number {
  if (v < 0x80) return 1;
  if (v < 0x4000) return 2;
  if (v < 0x200000) return 3;
  if (v < 0x10000000) return 4;
  return 5;
}

/** Bytes a zigzag varint of the int32 `v` takes. */
export function varintSize(v: number): number {
  return uvarintSize(((v << 1) ^ (v >> 31)) >>> 0);
}

/** Bytes a zigzag varlong of the safe integer (or sentinel) `v` takes. */
export function varlongSize(v: number): number {
  const parts = int64ToParts(v);
  if (parts === undefined) return 10;
  const [hi, lo] = parts;
  let zhi = (((hi << 1) | (lo >>> 31)) ^ (hi >> 31)) >>> 0;
  let zlo = ((lo << 1) ^ (hi >> 31)) >>> 0;
  let n = 1;
  while (zhi !== 0 || zlo > 0x7f) {
    zlo = ((zlo >>> 7) | (zhi << 25)) >>> 0;
    zhi = zhi >>> 7;
    n++;
  }
  return n;
}
