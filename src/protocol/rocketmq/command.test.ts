// decodeCommand's JSON header path: extFields as Java clients send them (all
// strings, used as parsed) and as ali-ons sends them (raw numbers, booleans,
// nulls — converted in place).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeCommand, RemotingDecodeError } from './command.ts';

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
