import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BufferPool } from './buffer-pool.ts';

test('slabs are reused once given back, up to the free-list cap', () => {
  const pool = new BufferPool(1024, 2);
  const a = pool.take(100);
  const b = pool.take(1024);
  const c = pool.take(1);
  assert.equal(a.length, 1024);
  assert.notEqual(a, b);
  pool.give(a);
  pool.give(b);
  pool.give(c); // beyond freeMax: dropped
  assert.equal(pool.take(10), b);
  assert.equal(pool.take(10), a);
  assert.notEqual(pool.take(10), c);
  assert.equal(pool.reused, 2);
});

test('oversized requests bypass the pool and views of a slab are not taken back', () => {
  const pool = new BufferPool(1024, 4);
  const big = pool.take(4096);
  assert.equal(big.length, 4096);
  pool.give(big); // not slab-sized: ignored
  const slab = pool.take(10);
  pool.give(slab.subarray(0, 10)); // a view: ignored (the caller may still hold the slab)
  pool.give(slab.subarray(8)); // an offset view: ignored
  const next = pool.take(10);
  assert.notEqual(next, big);
  assert.notEqual(next, slab);
  assert.equal(pool.reused, 0);
});
