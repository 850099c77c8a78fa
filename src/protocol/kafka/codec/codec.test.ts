import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  INT64_MAX,
  INT64_MIN,
  KafkaDecodeError,
  KafkaEncodeError,
  Reader,
  Writer,
  ZERO_UUID,
  isUuid,
  uuidFromKafkaString,
  uuidToKafkaString,
  uvarintSize,
  varintSize,
  varlongSize,
} from './index.ts';

function decodeCode(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof KafkaDecodeError, `expected KafkaDecodeError, got ${String(err)}`);
    return err.code;
  }
  return 'ok';
}

function encodeCode(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof KafkaEncodeError, `expected KafkaEncodeError, got ${String(err)}`);
    return err.code;
  }
  return 'ok';
}

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

test('fixed-width integers: big-endian bytes and round trip at the boundaries', () => {
  const w = new Writer();
  w.bool(true);
  w.int8(-128);
  w.int16(-2);
  w.uint16(65535);
  w.int32(-2147483648);
  w.uint32(4294967295);
  w.int64(-1);
  w.int64(2 ** 40 + 7);
  w.float64(1.5);
  const b = w.toBuffer();
  assert.deepEqual(b, hex('01 80 fffe ffff 80000000 ffffffff ffffffffffffffff 0000010000000007 3ff8000000000000'));
  const r = new Reader(b);
  assert.equal(r.bool(), true);
  assert.equal(r.int8(), -128);
  assert.equal(r.int16(), -2);
  assert.equal(r.uint16(), 65535);
  assert.equal(r.int32(), -2147483648);
  assert.equal(r.uint32(), 4294967295);
  assert.equal(r.int64(), -1);
  assert.equal(r.int64(), 2 ** 40 + 7);
  assert.equal(r.float64(), 1.5);
  assert.equal(r.remaining, 0);
});

test('int64: safe integers exact, Long.MAX/MIN sentinels map to ±2^63, anything else throws UNSAFE_INT64', () => {
  const cases: [string, number][] = [
    ['001fffffffffffff', Number.MAX_SAFE_INTEGER],
    ['ffe0000000000001', Number.MIN_SAFE_INTEGER],
    ['7fffffffffffffff', INT64_MAX],
    ['8000000000000000', INT64_MIN],
  ];
  for (const [h, n] of cases) {
    assert.equal(new Reader(hex(h)).int64(), n);
    const w = new Writer();
    w.int64(n);
    assert.deepEqual(w.toBuffer(), hex(h));
  }
  assert.equal(INT64_MAX, 9223372036854775807);
  for (const h of ['0020000000000000', 'ffe0000000000000', '7ffffffffffffffe', '8000000000000001']) {
    assert.equal(decodeCode(() => new Reader(hex(h)).int64()), 'UNSAFE_INT64', h);
  }
  for (const bad of [2 ** 53, 1.5, NaN, Infinity]) assert.equal(encodeCode(() => new Writer().int64(bad)), 'OUT_OF_RANGE');
  fc.assert(
    fc.property(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }), (big) => {
      const b = Buffer.alloc(8);
      b.writeBigInt64BE(big);
      const safe = big >= -(2n ** 53n - 1n) && big <= 2n ** 53n - 1n;
      if (safe) assert.equal(new Reader(b).int64(), Number(big));
      else if (big !== 2n ** 63n - 1n && big !== -(2n ** 63n)) assert.equal(decodeCode(() => new Reader(b).int64()), 'UNSAFE_INT64');
    }),
    { numRuns: 2000 },
  );
});

test('writer rejects numbers that do not fit the wire type', () => {
  assert.equal(encodeCode(() => new Writer().int8(128)), 'OUT_OF_RANGE');
  assert.equal(encodeCode(() => new Writer().int16(32768)), 'OUT_OF_RANGE');
  assert.equal(encodeCode(() => new Writer().uint16(-1)), 'OUT_OF_RANGE');
  assert.equal(encodeCode(() => new Writer().int32(2 ** 31)), 'OUT_OF_RANGE');
  assert.equal(encodeCode(() => new Writer().int32(0.5)), 'OUT_OF_RANGE');
  assert.equal(encodeCode(() => new Writer().uint32(-1)), 'OUT_OF_RANGE');
  assert.equal(encodeCode(() => new Writer().uvarint(2 ** 32)), 'OUT_OF_RANGE');
});

test('unsigned varints: encoding, sizes, 5-byte / 32-bit limits', () => {
  const cases: [number, string][] = [
    [0, '00'],
    [1, '01'],
    [127, '7f'],
    [128, '8001'],
    [300, 'ac02'],
    [16383, 'ff7f'],
    [16384, '808001'],
    [2 ** 32 - 1, 'ffffffff0f'],
  ];
  for (const [n, h] of cases) {
    const w = new Writer();
    w.uvarint(n);
    assert.deepEqual(w.toBuffer(), hex(h), String(n));
    assert.equal(uvarintSize(n), hex(h).length);
    assert.equal(new Reader(hex(h)).uvarint(), n);
  }
  assert.equal(decodeCode(() => new Reader(hex('ffffffff10')).uvarint()), 'INVALID_VARINT');
  assert.equal(decodeCode(() => new Reader(hex('ffffffffff01')).uvarint()), 'INVALID_VARINT');
  assert.equal(decodeCode(() => new Reader(hex('8080')).uvarint()), 'TRUNCATED');
  assert.equal(decodeCode(() => new Reader(hex('')).uvarint()), 'TRUNCATED');
});

test('zigzag varint and varlong match a BigInt reference', () => {
  const refVarlong = (v: bigint): Buffer => {
    let u = BigInt.asUintN(64, (v << 1n) ^ (v >> 63n));
    const out: number[] = [];
    while (u > 0x7fn) {
      out.push(Number(u & 0x7fn) | 0x80);
      u >>= 7n;
    }
    out.push(Number(u));
    return Buffer.from(out);
  };
  fc.assert(
    fc.property(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), (n) => {
      const w = new Writer();
      w.varint(n);
      const b = w.toBuffer();
      assert.deepEqual(b, refVarlong(BigInt(n)));
      assert.equal(varintSize(n), b.length);
      assert.equal(new Reader(b).varint(), n);
    }),
    { numRuns: 3000 },
  );
  fc.assert(
    fc.property(fc.oneof(fc.maxSafeInteger(), fc.integer({ min: -1000, max: 1000 }), fc.constantFrom(INT64_MAX, INT64_MIN)), (n) => {
      const big = n === INT64_MAX ? 2n ** 63n - 1n : BigInt(n);
      const w = new Writer();
      w.varlong(n);
      const b = w.toBuffer();
      assert.deepEqual(b, refVarlong(big));
      assert.equal(varlongSize(n), b.length);
      const r = new Reader(b);
      assert.equal(r.varlong(), n);
      assert.equal(r.remaining, 0);
    }),
    { numRuns: 3000 },
  );
  // beyond the safe range but not a sentinel
  assert.equal(decodeCode(() => new Reader(refVarlong(2n ** 60n)).varlong()), 'UNSAFE_INT64');
  assert.equal(decodeCode(() => new Reader(hex('ffffffffffffffffff7f')).varlong()), 'INVALID_VARINT');
  assert.equal(decodeCode(() => new Reader(hex('ffffffffffffffffffff01')).varlong()), 'INVALID_VARINT');
  assert.equal(decodeCode(() => new Reader(hex('ffff')).varlong()), 'TRUNCATED');
});

test('strings: classic and compact, null, ASCII and multi-byte, length limits', () => {
  const samples = ['', 'a', 'client-1', 'é', 'héllo wörld ✓', '\u{1F600}', 'x'.repeat(40), 'y'.repeat(32767)];
  for (const s of samples) {
    const w = new Writer();
    w.string(s);
    w.compactString(s);
    w.nullableString(s);
    w.compactNullableString(s);
    const b = w.toBuffer();
    const r = new Reader(b);
    assert.equal(r.string(), s);
    assert.equal(r.compactString(), s);
    assert.equal(r.nullableString(), s);
    assert.equal(r.compactNullableString(), s);
    assert.equal(r.remaining, 0);
    assert.equal(b.readInt16BE(0), Buffer.byteLength(s));
  }
  const w = new Writer();
  w.nullableString(null);
  w.compactNullableString(null);
  assert.deepEqual(w.toBuffer(), hex('ffff 00'));
  assert.equal(new Reader(hex('ffff')).nullableString(), null);
  assert.equal(new Reader(hex('00')).compactNullableString(), null);
  assert.equal(decodeCode(() => new Reader(hex('ffff')).string()), 'NULL_NOT_ALLOWED');
  assert.equal(decodeCode(() => new Reader(hex('00')).compactString()), 'NULL_NOT_ALLOWED');
  assert.equal(decodeCode(() => new Reader(hex('fffe')).nullableString()), 'INVALID_LENGTH');
  assert.equal(decodeCode(() => new Reader(hex('0005 6162')).string()), 'TRUNCATED');
  assert.equal(decodeCode(() => new Reader(hex('818002')).compactString()), 'INVALID_LENGTH');
  assert.equal(encodeCode(() => new Writer().string('z'.repeat(32768))), 'TOO_LONG');
  assert.equal(encodeCode(() => new Writer().string(null as unknown as string)), 'NULL_NOT_ALLOWED');
});

test('bytes decode as zero-copy views of the input', () => {
  const input = hex('00000003 616263 04 646566 ffffffff 00');
  const r = new Reader(input);
  const a = r.bytes();
  const b = r.compactBytes();
  assert.deepEqual(a, Buffer.from('abc'));
  assert.deepEqual(b, Buffer.from('def'));
  for (const view of [a, b]) {
    assert.equal(view.buffer, input.buffer);
  }
  assert.equal(a.byteOffset, input.byteOffset + 4);
  input[4] = 0x41; // writes through: it is a view
  assert.equal(a.toString(), 'Abc');
  assert.equal(r.nullableBytes(), null);
  assert.equal(r.compactNullableBytes(), null);
  assert.equal(decodeCode(() => new Reader(hex('ffffffff')).bytes()), 'NULL_NOT_ALLOWED');
  assert.equal(decodeCode(() => new Reader(hex('fffffffe')).nullableBytes()), 'INVALID_LENGTH');
  assert.equal(decodeCode(() => new Reader(hex('7fffffff 00')).bytes()), 'TRUNCATED');
});

test('array counts are checked against the bytes left before any allocation', () => {
  // 2^31-1 elements announced, 10 bytes left
  const b = Buffer.concat([hex('7fffffff'), Buffer.alloc(10)]);
  assert.equal(decodeCode(() => new Reader(b).arrayLength(1)), 'TRUNCATED');
  assert.equal(decodeCode(() => new Reader(hex('ffffffff0f 00')).compactArrayLength(1)), 'TRUNCATED');
  assert.equal(decodeCode(() => new Reader(hex('00000003 0000000000000000')).arrayLength(4)), 'TRUNCATED');
  assert.equal(new Reader(hex('00000003 000000000000000000000000')).arrayLength(4), 3);
  assert.equal(new Reader(hex('ffffffff')).nullableArrayLength(4), -1);
  assert.equal(new Reader(hex('00')).compactNullableArrayLength(4), -1);
  assert.equal(decodeCode(() => new Reader(hex('ffffffff')).arrayLength(4)), 'NULL_NOT_ALLOWED');
  assert.equal(decodeCode(() => new Reader(hex('80000000')).nullableArrayLength(4)), 'INVALID_LENGTH');
});

test('reads never pass `end`, even inside a larger buffer', () => {
  const buf = hex('0102030405060708');
  const r = new Reader(buf, 2, 5);
  assert.equal(r.remaining, 3);
  assert.equal(decodeCode(() => r.int32()), 'TRUNCATED');
  assert.equal(r.pos, 2);
  assert.equal(r.int16(), 0x0304);
  assert.equal(decodeCode(() => r.int16()), 'TRUNCATED');
  assert.equal(decodeCode(() => r.uuid()), 'TRUNCATED');
  assert.equal(decodeCode(() => r.float64()), 'TRUNCATED');
  assert.equal(r.int8(), 5);
  assert.equal(decodeCode(() => r.bool()), 'TRUNCATED');
  assert.throws(() => new Reader(buf, 4, 9), RangeError);
});

test('tagged-field helpers skip unknown fields and check sizes', () => {
  // two tagged fields: tag 0 size 2, tag 5 size 1; then a trailing byte
  const r = new Reader(hex('02 00 02 aaaa 05 01 bb cc'));
  r.skipTaggedFields();
  assert.equal(r.int8(), -52);
  assert.equal(decodeCode(() => new Reader(hex('01 00 05 aa')).skipTaggedFields()), 'TRUNCATED');
  const r2 = new Reader(hex('02 0001'));
  const end = r2.taggedFieldEnd();
  r2.int8();
  assert.equal(decodeCode(() => r2.endTaggedField(end, 0)), 'INVALID_TAGGED_FIELD');
});

test('uuid: canonical text both ways, ZERO_UUID, Kafka base64 form', () => {
  const text = '0123abcd-4567-89ef-0011-2233445566ff';
  const w = new Writer();
  w.uuid(text);
  w.uuid(ZERO_UUID);
  w.uuid(text.toUpperCase());
  const b = w.toBuffer();
  assert.deepEqual(b.subarray(0, 16), hex('0123abcd456789ef00112233445566ff'));
  assert.deepEqual(b.subarray(16, 32), Buffer.alloc(16));
  const r = new Reader(b);
  assert.equal(r.uuid(), text);
  assert.equal(r.uuid(), ZERO_UUID);
  assert.equal(r.uuid(), text);
  assert.equal(encodeCode(() => new Writer().uuid('not-a-uuid')), 'INVALID_UUID');
  assert.equal(encodeCode(() => new Writer().uuid('0123abcd-4567-89ef-0011-2233445566fg')), 'INVALID_UUID');
  assert.ok(isUuid(text));
  assert.ok(!isUuid('0123abcd456789ef00112233445566ff'));
  assert.equal(uuidToKafkaString(ZERO_UUID), 'AAAAAAAAAAAAAAAAAAAAAA');
  assert.equal(uuidFromKafkaString(uuidToKafkaString(text)), text);
  assert.equal(encodeCode(() => uuidFromKafkaString('short')), 'INVALID_UUID');
});

test('writer: small values share a scratch buffer, large bytes are referenced, never concatenated', () => {
  const big = Buffer.alloc(4096, 7);
  const small = Buffer.from('tiny');
  const w = new Writer({ initialCapacity: 16 });
  w.int32(1);
  w.bytes(small);
  w.bytes(big);
  w.int16(2);
  w.compactNullableBytes(big);
  const { chunks, length } = w.finish();
  assert.equal(length, 4 + 4 + 4 + 4 + 4096 + 2 + 2 + 4096);
  assert.equal(chunks.reduce((n, c) => n + c.length, 0), length);
  const refs = chunks.filter((c) => c === big);
  assert.equal(refs.length, 2, 'the large buffer is pushed by reference twice');
  assert.ok(!chunks.some((c) => c !== big && c.buffer === big.buffer), 'small values never land in the caller buffer');
  const joined = Buffer.concat(chunks);
  const r = new Reader(joined);
  assert.equal(r.int32(), 1);
  assert.deepEqual(r.bytes(), small);
  assert.deepEqual(r.bytes(), big);
  assert.equal(r.int16(), 2);
  assert.deepEqual(r.compactNullableBytes(), big);
  assert.equal(w.length, 0, 'finish() empties the writer');
});

test('writer: growing the scratch buffer keeps earlier chunks intact (no copy, no overwrite)', () => {
  const w = new Writer({ initialCapacity: 16 });
  for (let i = 0; i < 1000; i++) w.int32(i);
  const { chunks, length } = w.finish();
  assert.equal(length, 4000);
  assert.ok(chunks.length > 1);
  const r = new Reader(Buffer.concat(chunks));
  for (let i = 0; i < 1000; i++) assert.equal(r.int32(), i);
  // later writes do not disturb returned chunks
  const before = Buffer.concat(chunks);
  for (let i = 0; i < 100; i++) w.int32(-1);
  assert.deepEqual(Buffer.concat(chunks), before);
});

test('writer: reserve + patchInt32 fills a size prefix, also after the scratch buffer was cut', () => {
  const w = new Writer({ initialCapacity: 16, zeroCopyThreshold: 8 });
  const at = w.reserve(4);
  w.int32(7);
  w.bytes(Buffer.alloc(100, 1));
  for (let i = 0; i < 20; i++) w.int32(i);
  w.patchInt32(at, w.length - 4);
  const b = w.toBuffer();
  assert.equal(b.readInt32BE(0), b.length - 4);
  assert.equal(b.readInt32BE(4), 7);
  // a second message on the same writer starts at offset 0 again
  const at2 = w.reserve(4);
  w.int8(1);
  w.patchInt32(at2, 1);
  assert.deepEqual(w.toBuffer(), hex('00000001 01'));
});

test('writer.append copies a small sub-writer and references large chunks', () => {
  const big = Buffer.alloc(2000, 3);
  const sub = new Writer();
  sub.int16(5);
  sub.bytes(big);
  const w = new Writer();
  w.int8(1);
  w.append(sub);
  const { chunks } = w.finish();
  assert.ok(chunks.includes(big));
  const r = new Reader(Buffer.concat(chunks));
  assert.equal(r.int8(), 1);
  assert.equal(r.int16(), 5);
  assert.deepEqual(r.bytes(), big);
});
