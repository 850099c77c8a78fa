import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { PartitionLog } from '../storage/partition-log.ts';
import { PullReadAhead } from './read-ahead.ts';

const log = (name: string) => ({ name }) as unknown as PartitionLog;

/** One attempt: reads `fill` into a lent slab and keeps it for `of`. */
function readAndKeep(ra: PullReadAhead, of: PartitionLog, fill: number, first: number, next: number): Buffer {
  const slab = ra.alloc(100);
  slab.fill(fill, 0, 100);
  const bytes = slab.subarray(0, 100);
  ra.keep(of, bytes, first, next);
  ra.settle();
  return bytes;
}

test('a kept read answers offsets in [first, next) of its own log only', () => {
  const ra = new PullReadAhead(4, 1024);
  const a = log('a');
  readAndKeep(ra, a, 1, 10, 20);
  assert.equal(ra.get(a, 9), undefined);
  assert.equal(ra.get(a, 10)?.nextOffset, 20);
  assert.equal(ra.get(a, 19)?.bytes[0], 1);
  assert.equal(ra.get(a, 20), undefined);
  assert.equal(ra.get(log('a'), 10), undefined, 'another log object (a recreated topic) has no kept read');
});

test('a kept slab is never lent again while kept; a displaced one only after the attempt settles', () => {
  const ra = new PullReadAhead(2, 1024);
  const a = log('a');
  const b = log('b');
  const keptA = readAndKeep(ra, a, 1, 0, 10);
  // Other queues' reads, many attempts: none may get A's slab.
  for (let i = 0; i < 10; i++) {
    const slab = ra.alloc(100);
    assert.notEqual(slab.buffer, keptA.buffer);
    slab.fill(9);
    ra.settle();
  }
  assert.equal(ra.get(a, 5)?.bytes[0], 1, 'the kept bytes are intact');
  // A's next read displaces the first one; within that attempt its slab is not lent out again.
  const second = ra.alloc(100);
  second.fill(2, 0, 100);
  ra.keep(a, second.subarray(0, 100), 10, 20);
  const third = ra.alloc(100);
  assert.notEqual(third.buffer, keptA.buffer, 'displaced in this attempt: still in use by its records');
  ra.settle();
  // Keeping a third queue with room for two evicts the least recently kept.
  readAndKeep(ra, b, 3, 0, 5);
  readAndKeep(ra, log('c'), 4, 0, 5);
  assert.equal(ra.get(a, 10), undefined, 'a was kept least recently');
  assert.equal(ra.get(b, 0)?.bytes[0], 3);
  assert.equal(ra.size, 2);
});

test('reads not in a lent slab (larger than a slab) or empty are not kept', () => {
  const ra = new PullReadAhead(4, 64);
  const a = log('a');
  const big = ra.alloc(100);
  assert.equal(big.length, 100, 'larger than a slab: a plain buffer');
  ra.keep(a, big, 0, 3);
  assert.equal(ra.get(a, 0), undefined);
  const slab = ra.alloc(10);
  ra.keep(a, slab.subarray(0, 0), 5, 5);
  assert.equal(ra.get(a, 5), undefined);
  ra.settle();
});
