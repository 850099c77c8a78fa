// Random and mutated inputs to every request decoder (and the headers): the only
// exception allowed is KafkaDecodeError, and the run must stay fast.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KafkaDecodeError, Reader, Writer } from '../codec/index.ts';
import { loadMessages, prng, SampleBuilder, versionsOf, type LoadedMessage } from './test-samples.ts';

const messages = await loadMessages();
const targets = messages.filter((m) => m.spec.type === 'request' || m.spec.type === 'header');

function attempt(msg: LoadedMessage, v: number, input: Buffer, stats: Map<string, number>): void {
  try {
    msg.decode(new Reader(input), v);
    stats.set('ok', (stats.get('ok') ?? 0) + 1);
  } catch (err) {
    if (!(err instanceof KafkaDecodeError)) {
      throw new Error(`${msg.spec.name} v${v} threw ${String(err)} for ${input.toString('hex')}`, { cause: err });
    }
    stats.set(err.code, (stats.get(err.code) ?? 0) + 1);
  }
}

test('50,000 random and mutated inputs across all request decoders throw only KafkaDecodeError', () => {
  const rnd = prng(0xd1a1);
  const pick = (n: number): number => Math.floor(rnd() * n);
  // valid encodings to mutate
  const seeds: { msg: LoadedMessage; v: number; bytes: Buffer }[] = [];
  for (const msg of targets) {
    for (const v of versionsOf(msg.spec)) {
      const w = new Writer();
      msg.encode(w, new SampleBuilder(msg, v, 40).build(v), v);
      seeds.push({ msg, v, bytes: w.toBuffer() });
    }
  }
  const stats = new Map<string, number>();
  const started = performance.now();
  const N = 50_000;
  for (let i = 0; i < N; i++) {
    if (i % 2 === 0) {
      // random bytes, biased towards short inputs and small/edge byte values
      const msg = targets[pick(targets.length)]!;
      const vs = versionsOf(msg.spec);
      const v = vs[pick(vs.length)]!;
      const len = rnd() < 0.8 ? pick(48) : pick(600);
      const input = Buffer.allocUnsafe(len);
      for (let j = 0; j < len; j++) {
        const r = rnd();
        input[j] = r < 0.3 ? 0 : r < 0.4 ? 0xff : r < 0.5 ? 1 : pick(256);
      }
      attempt(msg, v, input, stats);
    } else {
      // a valid encoding with a few bytes changed, inserted or removed
      const s = seeds[pick(seeds.length)]!;
      let input = Buffer.from(s.bytes);
      const edits = 1 + pick(4);
      for (let e = 0; e < edits && input.length > 0; e++) {
        const at = pick(input.length);
        const kind = pick(4);
        if (kind === 0) input[at] = pick(256);
        else if (kind === 1) input[at] = input[at]! ^ (1 << pick(8));
        else if (kind === 2) input = Buffer.concat([input.subarray(0, at), Buffer.from([pick(256)]), input.subarray(at)]);
        else input = Buffer.concat([input.subarray(0, at), input.subarray(at + 1)]);
      }
      attempt(s.msg, s.v, input, stats);
    }
  }
  const ms = performance.now() - started;
  const summary = [...stats].sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k} ${n}`).join(', ');
  console.log(`# ${N} inputs over ${targets.length} decoders in ${ms.toFixed(0)} ms: ${summary}`);
  assert.ok(ms < 20_000, `fuzzing took ${ms} ms`);
  assert.ok((stats.get('ok') ?? 0) > 0 && (stats.get('TRUNCATED') ?? 0) > 0);
});
