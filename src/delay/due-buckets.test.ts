// placeLevel: which bucket level an entry due at a time goes to, relative to the promoted bound.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LEVEL0_WIDTH_MS, levelWidthMs, placeLevel, TOP_LEVEL } from './due-buckets.ts';

test('placeLevel: an entry goes to the finest level whose next-wider block it shares with the bound', () => {
  const bound = 25 * levelWidthMs(TOP_LEVEL); // aligned to every level: distance alone decides
  const cases: Array<[aheadMs: number, level: number]> = [
    [0, 0],
    [1, 0],
    [levelWidthMs(1) - 1, 0],
    [levelWidthMs(1), 1],
    [levelWidthMs(2) - 1, 1],
    [levelWidthMs(2), 2],
    [levelWidthMs(3), 3],
    [levelWidthMs(4) - 1, 3],
    [levelWidthMs(4), TOP_LEVEL],
    [1_000 * levelWidthMs(4), TOP_LEVEL],
  ];
  for (const [ahead, level] of cases) assert.equal(placeLevel(bound + ahead, bound), level, `${ahead} ms ahead`);
  // Not aligned: an entry just past a level-1 block boundary is in the next block, so it goes one level up.
  const unaligned = bound + levelWidthMs(1) - 10;
  assert.equal(placeLevel(unaligned + 5, unaligned), 0);
  assert.equal(placeLevel(unaligned + 20, unaligned), 1);
  assert.equal(LEVEL0_WIDTH_MS, levelWidthMs(0));
});

test('placeLevel: an entry due before the bound (or NaN) is a bug: an invariant error naming both times', () => {
  assert.throws(() => placeLevel(999, 1_000), /invariant violated: due 999 is before the promoted bound 1000/);
  assert.throws(() => placeLevel(NaN, 1_000), /due NaN is before the promoted bound 1000/);
});
