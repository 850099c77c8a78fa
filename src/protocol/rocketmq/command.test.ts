// decodeCommand's JSON header path: extFields as Java clients send them (all
// strings, used as parsed) and as ali-ons sends them (raw numbers, booleans,
// nulls — converted in place); and its ROCKETMQ binary header path (Java
// clients with serializeType ROCKETMQ, e.g. rocketmq-client 5.x's benchmark).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeCommand, encodeBinaryCommand, RemotingDecodeError } from './command.ts';

function frame(header: string, body = Buffer.alloc(0)): Buffer {
  const h = Buffer.from(header, 'utf8');
  const out = Buffer.alloc(4 + h.length + body.length);
  out.writeUInt32BE(h.length, 0); // serialise type 0 (JSON) in the top byte
  h.copy(out, 4);
  body.copy(out, 4 + h.length);
  return out;
}

test('JSON header: string extFields kept, numbers and booleans as text, nulls absent, objects as JSON text', () => {
  const header = JSON.stringify({
    code: 310,
    opaque: 7,
    flag: 0,
    language: 'JAVA',
    version: 453,
    remark: null,
    extFields: { a: 'group', e: 3, k: false, n: null, o: { x: [1, 2] }, i: 'UNIQ_KEY\u0001abc\u0002' },
  });
  const c = decodeCommand(frame(header, Buffer.from('body')));
  assert.equal(c.code, 310);
  assert.equal(c.opaque, 7);
  assert.equal(c.language, 'JAVA');
  assert.equal(c.remark, null);
  assert.equal(c.body.toString(), 'body');
  assert.deepEqual({ ...c.extFields }, { a: 'group', e: '3', k: 'false', o: '{"x":[1,2]}', i: 'UNIQ_KEY\u0001abc\u0002' });
  assert.equal('n' in c.extFields, false);
  for (const v of Object.values(c.extFields)) assert.equal(typeof v, 'string');
});

test('JSON header: a "__proto__" field is an ordinary field, not a prototype', () => {
  const c = decodeCommand(frame('{"code":10,"opaque":1,"extFields":{"__proto__":"x","topic":"t"}}'));
  assert.equal(Object.getPrototypeOf(c.extFields), Object.prototype);
  assert.equal(Object.getOwnPropertyDescriptor(c.extFields, '__proto__')?.value, 'x');
  assert.equal(c.extFields['topic'], 't');
  assert.deepEqual(decodeCommand(frame('{"code":10}')).extFields, {});
});

test('JSON header: malformed shapes are RemotingDecodeError', () => {
  const bad = ['{"code":10,"extFields":[1]}', '{"code":10,"extFields":"x"}', '[1]', '{"code":"10"}', '{"code":10,"opaque":4294967296}', 'not json'];
  for (const h of bad) assert.throws(() => decodeCommand(frame(h)), RemotingDecodeError, h);
  const deep = `{"code":10,"extFields":{"d":${'['.repeat(20_000)}${']'.repeat(20_000)}}}`;
  assert.throws(() => decodeCommand(frame(deep)), RemotingDecodeError);
});

/** A ROCKETMQ binary frame as the frame reader hands it over (without the size prefix). */
function binaryFrame(extFields: Record<string, string>, remark: string | null = null): Buffer {
  return encodeBinaryCommand({ code: 310, opaque: 9, flag: 0, remark, extFields, body: Buffer.from('payload') }).subarray(4);
}

test('binary header: ASCII and UTF-8 fields decode to the strings that were sent', () => {
  const ascii = { a: 'benchmark_producer', b: 'BenchmarkTest', e: '3', g: '1795591181186', i: 'UNIQ_KEY\u0001AC11000100002A9F0000000000000001\u0002WAIT\u0001true\u0002' };
  const c = decodeCommand(binaryFrame(ascii, 'r'));
  assert.equal(c.serializeType, 1);
  assert.equal(c.code, 310);
  assert.equal(c.opaque, 9);
  assert.equal(c.remark, 'r');
  assert.equal(c.body.toString(), 'payload');
  assert.deepEqual({ ...c.extFields }, ascii);
  // One multi-byte value anywhere: every field is still read as UTF-8 (a Latin-1 reading would
  // turn each of these into two or three wrong characters).
  for (const odd of ['TAGS\u0001标签\u0002', 'ü', '😀 emoji', '\u0080']) {
    const fields = { ...ascii, i: odd, z: 'tail' };
    assert.deepEqual({ ...decodeCommand(binaryFrame(fields)).extFields }, fields, odd);
  }
  // Empty keys and values: Java reads them as null, and a null entry is no entry.
  assert.deepEqual({ ...decodeCommand(binaryFrame({ topic: 't', empty: '', '': 'x' })).extFields }, { topic: 't' });
  assert.deepEqual(decodeCommand(binaryFrame({})).extFields, {});
});

test('binary header: a "__proto__" field is an ordinary field, not a prototype', () => {
  const c = decodeCommand(binaryFrame({ ['__proto__']: 'x', topic: 't' }));
  assert.equal(Object.getPrototypeOf(c.extFields), Object.prototype);
  assert.equal(Object.getOwnPropertyDescriptor(c.extFields, '__proto__')?.value, 'x');
  assert.equal(c.extFields['topic'], 't');
});

test('binary header: lengths past their region are RemotingDecodeError', () => {
  const good = binaryFrame({ topic: 'abc' });
  const extLengthAt = 4 + 17; // after the frame mark, the 17 fixed bytes (no remark)
  const cases: Array<[string, (b: Buffer) => void]> = [
    ['extFields length', (b) => b.writeInt32BE(1 << 20, extLengthAt)],
    ['key length', (b) => b.writeInt16BE(200, extLengthAt + 4)],
    ['value length', (b) => b.writeInt32BE(200, extLengthAt + 4 + 2 + 5)],
    ['negative key length', (b) => b.writeInt16BE(-1, extLengthAt + 4)],
  ];
  for (const [what, spoil] of cases) {
    const b = Buffer.from(good);
    spoil(b);
    assert.throws(() => decodeCommand(b), RemotingDecodeError, what);
  }
  assert.throws(() => decodeCommand(good.subarray(0, 4 + 10)), RemotingDecodeError, 'short header');
});
