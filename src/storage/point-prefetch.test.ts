import { test, describe, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { LogManager } from './log-manager.ts';
import { MemoryFileIO } from './memory-file-io.ts';
import { NodeFileIO } from './node-file-io.ts';
import { PointPrefetch } from './point-prefetch.ts';
import { buildSimpleBatch } from './test-batches.ts';
import { mulberry32 } from './memory-file-io.ts';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'diglot-prefetch-'));
});
afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

for (const kind of ['files (helper thread)', 'memory twin'] as const) {
  describe(`PartitionLog.prefetchPoints on ${kind}`, () => {
    test('every hit is exactly the batch holding the offset; batches larger than a slot miss; offsets outside the log are left out', async () => {
      const io = kind === 'memory twin' ? new MemoryFileIO() : undefined;
      const manager = await LogManager.open({ dir, ...(io ? { io } : {}), config: { retentionCheckIntervalMs: 3_600_000, segmentBytesMax: 16 * 1024, indexIntervalBytes: 512 } });
      try {
        const log = manager.getOrCreate('points', 0);
        const batches = new Map<number, Buffer>(); // every offset → its batch as written
        for (let i = 0; i < 300; i++) {
          // Mostly small batches, every 17th larger than a 1 KiB slot.
          const batch = buildSimpleBatch(1 + (i % 4), i % 17 === 0 ? 1500 : 20 + (i % 9) * 10, i);
          const info = log.append(Buffer.from(batch));
          for (let o = info.baseOffset; o <= info.lastOffset; o++) batches.set(o, batch);
        }
        assert.ok(log.segmentCount() > 3, 'sealed segments and the active one');
        const random = mulberry32(7);
        const asked: number[] = [log.logEndOffset, log.logEndOffset + 5, -1];
        for (let i = 0; i < 400; i++) asked.push(Math.floor(random() * log.logEndOffset));
        const prefetch = await log.prefetchPoints(Float64Array.from(asked).sort());
        const inLog = new Set(asked.filter((o) => o >= 0 && o < log.logEndOffset));
        assert.equal(prefetch.size, inLog.size);
        let hits = 0;
        let smallMisses = 0;
        for (const offset of inLog) {
          const expected = batches.get(offset)!;
          const at = prefetch.positionOf(offset);
          if (at < 0) {
            if (expected.length <= 512) smallMisses++;
            continue;
          }
          hits++;
          assert.ok(at + expected.length <= prefetch.bytes.length);
          // Same bytes as written except the base offset the log patched in.
          assert.deepEqual(prefetch.bytes.subarray(at + 8, at + expected.length), expected.subarray(8));
          const base = Number(prefetch.bytes.readBigInt64BE(at));
          assert.ok(base <= offset && offset <= base + prefetch.bytes.readInt32BE(at + 23), `offset ${offset} in batch ${base}`);
          assert.ok(expected.length <= 1024, 'a batch larger than the slot cannot be whole in it');
        }
        assert.equal(smallMisses, 0, 'a small batch lies within two index intervals of its entry');
        assert.ok(hits > inLog.size * 0.8, `${hits} hits of ${inLog.size}`);
        assert.equal(prefetch.positionOf(log.logEndOffset), -1);
        // The slab is reused by the next prefetch when large enough (the helper thread's comes back
        // as a new object: the one handed over is detached).
        const small = [...batches.keys()].find((o) => batches.get(o)!.length <= 512)!;
        const again = await log.prefetchPoints(Float64Array.of(small), undefined, prefetch.slab);
        assert.ok(again.slab === prefetch.slab || prefetch.slab.byteLength === 0, 'slab reused');
        assert.ok(again.positionOf(small) >= 0);
      } finally {
        await manager.close();
      }
    });

    test('offsets that do not ascend (or are NaN) are a caller bug: an invariant error naming them', async () => {
      const io = kind === 'memory twin' ? new MemoryFileIO() : undefined;
      const manager = await LogManager.open({ dir, ...(io ? { io } : {}), config: { retentionCheckIntervalMs: 3_600_000 } });
      try {
        const log = manager.getOrCreate('points', 0);
        for (let i = 0; i < 5; i++) log.append(Buffer.from(buildSimpleBatch(1, 20, i)));
        assert.throws(() => log.prefetchPoints(Float64Array.of(1, 3, 2)), /invariant violated: prefetchPoints: offsets must ascend \(3 then 2\)/);
        assert.throws(() => log.prefetchPoints(Float64Array.of(1, NaN)), /offsets must ascend \(1 then NaN\)/);
        const fine = await log.prefetchPoints(Float64Array.of(1, 1, 4));
        assert.equal(fine.size, 2);
      } finally {
        await manager.close();
      }
    });

    test('readMany: a missing file fails only its own slots; a read at the end of a file comes up short', async () => {
      const io = kind === 'memory twin' ? new MemoryFileIO() : new NodeFileIO();
      io.mkdirp(dir);
      const file = io.open(path.join(dir, 'a.log'), 'rw');
      file.write(Buffer.alloc(100, 7), 0, 100, 0);
      file.close();
      const result = await io.readMany({
        paths: [path.join(dir, 'gone.log'), path.join(dir, 'a.log')],
        file: Int32Array.of(0, 1, 1),
        position: Float64Array.of(0, 0, 80),
        count: 3,
        slotBytes: 64,
        slab: new ArrayBuffer(3 * 64),
      });
      assert.deepEqual([...result.got], [-1, 64, 20]);
      const bytes = Buffer.from(result.slab);
      assert.deepEqual(bytes.subarray(64, 128 + 20), Buffer.alloc(84, 7));
    });
  });
}

test('readMany on the helper thread: a request that cannot be handed over is refused and leaves nothing waiting (the process still exits)', async () => {
  const io = new NodeFileIO();
  fs.writeFileSync(path.join(dir, 'b.log'), Buffer.alloc(10, 3));
  const request = (slab: ArrayBuffer) => ({ paths: [path.join(dir, 'b.log')], file: Int32Array.of(0), position: Float64Array.of(0), count: 1, slotBytes: 16, slab });
  const detached = new ArrayBuffer(16);
  structuredClone(detached, { transfer: [detached] });
  await assert.rejects(io.readMany(request(detached)));
  const ok = await io.readMany(request(new ArrayBuffer(16)));
  assert.deepEqual([...ok.got], [10]);
});

describe('PointPrefetch.positionOf', () => {
  // Two slots of 128 bytes: slot 0 holds one batch of offset 10 (patched), slot 1 is given per case.
  const batch = buildSimpleBatch(1, 20, 1);
  const slotBytes = 128;
  function make(slot1: Buffer, got1: number): PointPrefetch {
    const slab = new ArrayBuffer(2 * slotBytes);
    const bytes = Buffer.from(slab);
    batch.copy(bytes, 0);
    bytes.writeBigInt64BE(10n, 0);
    slot1.copy(bytes, slotBytes, 0, Math.min(slot1.length, slotBytes));
    return new PointPrefetch(slab, slotBytes, Float64Array.of(10, 20), Int32Array.of(batch.length, got1));
  }

  test('finds a whole batch; offsets never asked for miss', () => {
    const p = make(Buffer.alloc(0), 0);
    assert.equal(p.positionOf(10), 0);
    assert.equal(p.positionOf(11), -1);
  });

  test('a failed, short, zero or foreign slot is a miss, not an error', () => {
    const other = Buffer.from(batch);
    other.writeBigInt64BE(30n, 0); // a batch of offset 30 where 20 was asked for
    const below = Buffer.from(batch);
    below.writeBigInt64BE(5n, 0); // a batch before 20, then nothing: 20 is not in the slot
    for (const [slot, got, why] of [
      [Buffer.from(batch), -1, 'read failed'],
      [Buffer.from(batch), batch.length - 1, 'batch cut short'],
      [Buffer.alloc(slotBytes), slotBytes, 'zeros'],
      [other, batch.length, 'later offsets'],
      [below, batch.length, 'earlier offsets only'],
    ] as const) {
      assert.equal(make(slot, got).positionOf(20), -1, why);
    }
  });
});
