// placeLevel: which bucket level an entry due at a time goes to, relative to the promoted bound.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LEVEL0_WIDTH_MS, levelWidthMs, placeLevel } from './due-buckets.ts';

test('placeLevel: at or after the bound an entry gets a level whose width grows with the distance', () => {
  const bound = 1_000 * LEVEL0_WIDTH_MS;
  assert.equal(placeLevel(bound, bound), 0);
  let previous = 0;
  for (const ahead of [1, LEVEL0_WIDTH_MS, 100 * LEVEL0_WIDTH_MS, 10_000 * LEVEL0_WIDTH_MS, 1_000_000 * LEVEL0_WIDTH_MS]) {
    const level = placeLevel(bound + ahead, bound);
    assert.ok(level >= previous, `level ${level} for ${ahead} ms ahead, ${previous} nearer`);
    assert.ok(levelWidthMs(level) >= LEVEL0_WIDTH_MS);
    previous = level;
  }
  assert.ok(previous > 0, 'far entries go to a coarser level');
});

test('placeLevel: an entry due before the bound (or NaN) is a bug: an invariant error naming both times', () => {
  assert.throws(() => placeLevel(999, 1_000), /invariant violated: due 999 is before the promoted bound 1000/);
  assert.throws(() => placeLevel(NaN, 1_000), /due NaN is before the promoted bound 1000/);
});
