// Every generated message at every valid version: sample → encode → decode →
// deep-equal → encode again → identical bytes; then every truncation of the
// encoding must fail with KafkaDecodeError (never RangeError/TypeError).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KafkaDecodeError, Reader, Writer } from '../codec/index.ts';
import { loadMessages, SampleBuilder, versionsOf } from './test-samples.ts';

const messages = await loadMessages();

test('specs metadata covers every generated message', () => {
  const kinds = new Map<string, number>();
  for (const m of messages) kinds.set(m.spec.type, (kinds.get(m.spec.type) ?? 0) + 1);
  // 93 request keys minus the 4 "none" ones, headers, data types
  assert.equal(kinds.get('request'), 89);
  assert.equal(kinds.get('response'), 89);
  assert.equal(kinds.get('header'), 2);
  assert.ok((kinds.get('data') ?? 0) >= 10);
});

let totalCases = 0;
let totalTruncations = 0;

for (const msg of messages) {
  test(`${msg.spec.name}: round trip at every version ${versionsOf(msg.spec).join(',')}`, () => {
    for (const v of versionsOf(msg.spec)) {
      for (const seed of [v * 1000 + 1, v * 1000 + 2, v * 1000 + 3]) {
        const sample = new SampleBuilder(msg, seed).build(v);
        const w = new Writer();
        msg.encode(w, sample, v);
        const bytes = w.toBuffer();
        const r = new Reader(bytes);
        const decoded = msg.decode(r, v);
        assert.equal(r.remaining, 0, `${msg.spec.name} v${v}: ${r.remaining} byte(s) left over`);
        assert.deepStrictEqual(decoded, sample, `${msg.spec.name} v${v} seed ${seed}`);
        const w2 = new Writer();
        msg.encode(w2, decoded, v);
        assert.ok(w2.toBuffer().equals(bytes), `${msg.spec.name} v${v}: re-encoding differs`);
        totalCases++;

        if (seed % 1000 !== 1) continue;
        // truncations: every prefix up to 300 bytes, then a stride
        const n = bytes.length;
        for (let len = 0; len < n; len += len < 300 ? 1 : 97) {
          const cut = bytes.subarray(0, len);
          try {
            msg.decode(new Reader(cut), v);
            assert.fail(`${msg.spec.name} v${v}: a ${len}/${n}-byte prefix decoded`);
          } catch (err) {
            if (!(err instanceof KafkaDecodeError)) throw err;
            assert.ok(err.code === 'TRUNCATED' || err.code === 'INVALID_TAGGED_FIELD', `${err.code}: ${err.message}`);
          }
          totalTruncations++;
        }
      }
    }
  });
}

test('an empty message encodes to its defaults at every version', () => {
  for (const msg of messages) {
    for (const v of versionsOf(msg.spec)) {
      const w = new Writer();
      msg.encode(w, {}, v);
      const decoded = msg.decode(new Reader(w.toBuffer()), v);
      const dflt = (msg.module[`default${msg.spec.name}`] as () => unknown)();
      assert.deepStrictEqual(decoded, dflt, `${msg.spec.name} v${v}`);
    }
  }
});

test('round-trip totals', () => {
  // sanity: the loops above really ran
  assert.ok(totalCases >= 1800, `only ${totalCases} round trips`);
  assert.ok(totalTruncations > 50000, `only ${totalTruncations} truncations`);
  console.log(`# ${totalCases} round trips over ${messages.length} messages, ${totalTruncations} truncated inputs`);
});
