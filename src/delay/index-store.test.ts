import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { open } from 'lmdb';
import { LmdbDelayIndex } from './index-store.ts';

/** Runs `body` with a fresh directory for an index, removed afterwards. */
async function withDir(body: (dir: string) => Promise<void>): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'diglot-delay-index-'));
  try {
    await body(dir);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Ids of `topic`'s pending entries due before 10 s (every test's entries are). */
const listed = (index: LmdbDelayIndex, topic: string): number[] => index.listTopic(topic, 0, 10_000, null, 10, 1000).entries.map((e) => e.id);

test('lmdb delay index: due entries keep their topic across reopen; a topic first seen after it gets its own number', () =>
  withDir(async (dir) => {
    let index = LmdbDelayIndex.open(dir);
    index.transaction(4, () => {
      index.addDue('orders', { dueMs: 100, id: 0 });
      index.addDue('payments', { dueMs: 150, id: 1 });
      index.addDue('orders', { dueMs: 200, id: 2 });
      index.addDue('é-topic', { dueMs: 250, id: 3 });
    });
    assert.deepEqual(listed(index, 'orders'), [0, 2]);
    await index.close();
    index = LmdbDelayIndex.open(dir);
    assert.equal(index.applied, 4);
    assert.deepEqual(listed(index, 'orders'), [0, 2]);
    assert.deepEqual(listed(index, 'payments'), [1]);
    assert.deepEqual(listed(index, 'é-topic'), [3]);
    assert.deepEqual(listed(index, 'never-scheduled'), []);
    index.transaction(5, () => index.addDue('refunds', { dueMs: 120, id: 4 }));
    assert.deepEqual(listed(index, 'refunds'), [4]);
    assert.deepEqual(listed(index, 'orders'), [0, 2]);
    assert.deepEqual(index.due(1000, 10).map((e) => e.id), [0, 4, 1, 2, 3]);
    await index.close();
  }));

test('lmdb delay index: a topic numbered in an aborted transaction is not kept, and its number does not leak into the next topic', () =>
  withDir(async (dir) => {
    const index = LmdbDelayIndex.open(dir);
    index.transaction(1, () => index.addDue('a', { dueMs: 10, id: 0 }));
    assert.throws(
      () =>
        index.transaction(2, () => {
          index.addDue('b', { dueMs: 20, id: 1 });
          throw new Error('injected');
        }),
      /injected/,
    );
    assert.equal(index.applied, 1);
    assert.deepEqual(listed(index, 'b'), []);
    index.transaction(3, () => {
      index.addDue('c', { dueMs: 30, id: 2 });
      index.addDue('b', { dueMs: 40, id: 3 });
    });
    assert.deepEqual(listed(index, 'a'), [0]);
    assert.deepEqual(listed(index, 'b'), [3]);
    assert.deepEqual(listed(index, 'c'), [2]);
    await index.close();
    const reopened = LmdbDelayIndex.open(dir);
    reopened.transaction(4, () => reopened.addDue('d', { dueMs: 50, id: 4 }));
    for (const [topic, want] of [['a', [0]], ['b', [3]], ['c', [2]], ['d', [4]]] as const) {
      assert.deepEqual(listed(reopened, topic), want, topic);
    }
    await reopened.close();
  }));

test('lmdb delay index: an index of another layout version opens empty (to be rebuilt from the log), topics included', () =>
  withDir(async (dir) => {
    let index = LmdbDelayIndex.open(dir);
    index.transaction(2, () => {
      index.addDue('old', { dueMs: 10, id: 0 });
      index.setPendingCount(1);
    });
    await index.close();
    const env = open({ path: dir, maxDbs: 8 });
    await env.openDB({ name: 'meta' }).put('version', 7);
    await env.close();
    index = LmdbDelayIndex.open(dir);
    assert.equal(index.applied, 0);
    assert.equal(index.pendingCount, 0);
    assert.equal(index.firstDueMs(), null);
    assert.deepEqual(listed(index, 'old'), []);
    index.transaction(1, () => index.addDue('new', { dueMs: 5, id: 0 }));
    assert.deepEqual(listed(index, 'new'), [0]);
    await index.close();
  }));

test('lmdb delay index: topic numbers past one byte (300 topics) stay distinct', () =>
  withDir(async (dir) => {
    const index = LmdbDelayIndex.open(dir);
    index.transaction(300, () => {
      for (let i = 0; i < 300; i++) index.addDue(`t${i}`, { dueMs: 1000 - i, id: i });
    });
    for (const i of [0, 1, 254, 255, 256, 299]) assert.deepEqual(listed(index, `t${i}`), [i], `t${i}`);
    await index.close();
  }));

const MINUTE = 60_000;
const DAY = 86_400_000;

/** Moves the clock in steps, promoting at each (as the service's tick does), and collects what is due, removing it. */
function runClock(index: LmdbDelayIndex, clock: { now: number }, untilMs: number, stepMs: number): number[] {
  const fired: number[] = [];
  for (; clock.now <= untilMs; clock.now += stepMs) {
    for (let i = 0; i < 100 && !index.promote(clock.now, 50); i++);
    const due = index.due(clock.now, 100_000);
    index.transaction(index.applied, () => {
      for (const e of due) index.removeDue('t', e);
    });
    for (const e of due) {
      assert.ok(e.dueMs <= clock.now, `entry ${e.id} due ${e.dueMs} came out at ${clock.now}`);
      fired.push(e.id);
    }
  }
  return fired;
}

test('lmdb delay index: far-future entries wait in bucket files, not LMDB, and come out in due order as the clock reaches them', () =>
  withDir(async (dir) => {
    const clock = { now: 1_700_000_000_000 };
    let index = LmdbDelayIndex.open(dir, { nowMs: () => clock.now });
    const start = clock.now;
    // Distances that land on every level; ids are scrambled against due order.
    const offsets = [5 * MINUTE, 3 * 3_600_000, 2 * DAY, 40 * DAY, 300 * DAY, 1000, 90 * MINUTE + 7, 2 * DAY - 1, 299 * DAY + 5];
    const ids = offsets.map((_, i) => 100 - i);
    index.transaction(200, () => offsets.forEach((o, i) => index.addDue('t', { dueMs: start + o, id: ids[i]! })));
    assert.deepEqual(index.due(start + 400 * DAY, 100).map((e) => e.id), [ids[5]], 'only the entry due within the near tier is in LMDB');
    const files = fs.readdirSync(path.join(dir, 'due-buckets'));
    assert.ok(files.length >= 4, `bucket files: ${files.join(', ')}`);
    // Every pending one is listed, from the files too, in due order.
    const order = offsets.map((o, i) => ({ o, id: ids[i]! })).sort((a, b) => a.o - b.o).map((x) => x.id);
    assert.deepEqual(index.listTopic('t', 0, Number.MAX_SAFE_INTEGER, null, 100, 1000).entries.map((e) => e.id), order);
    assert.equal(index.scanDueIds(null, 10).minId, Math.min(...ids));
    // Reopen half way (state on disk), then run the clock past the last.
    let fired = runClock(index, clock, start + 20 * DAY, 6 * 3_600_000);
    await index.close();
    index = LmdbDelayIndex.open(dir, { nowMs: () => clock.now + 5 * DAY }); // a later clock must not move the stored bound
    fired = fired.concat(runClock(index, clock, start + 301 * DAY, 6 * 3_600_000));
    assert.deepEqual(fired, order);
    assert.deepEqual(fs.readdirSync(path.join(dir, 'due-buckets')), [], 'emptied buckets are deleted');
    await index.close();
  }));

test('lmdb delay index: a bucket entry whose schedule was cancelled or moved on is skipped when promoted and not listed', () =>
  withDir(async (dir) => {
    const clock = { now: 1_700_000_000_000 };
    const index = LmdbDelayIndex.open(dir, { nowMs: () => clock.now });
    const at = clock.now + 3_600_000;
    const state = { topic: 't', partition: 0, deliverAtMs: at, nextFireMs: at, fires: 0, repeat: null, timestampMs: 0 };
    index.transaction(3, () => {
      for (const id of [0, 1, 2]) index.addDue('t', { dueMs: at + id, id });
    });
    index.transaction(4, () => {
      index.putState({ ...state, id: 1, nextFireMs: at + 1, state: 'cancelled' });
      index.putState({ ...state, id: 2, nextFireMs: at + 60_000, state: 'pending' }); // its due entry is elsewhere now
    });
    assert.deepEqual(listed(index, 't'), []); // listed() looks before 10 s
    assert.deepEqual(index.listTopic('t', 0, at + DAY, null, 10, 100).entries.map((e) => e.id), [0]);
    assert.deepEqual(runClock(index, clock, at + MINUTE, 10_000), [0]);
    await index.close();
  }));

test('lmdb delay index: a bucket file longer than its record is cut; one shorter (power loss) makes the index start empty', () =>
  withDir(async (dir) => {
    const clock = { now: 1_700_000_000_000 };
    let index = LmdbDelayIndex.open(dir, { nowMs: () => clock.now });
    index.transaction(2, () => {
      index.addDue('t', { dueMs: clock.now + 3_600_000, id: 0 });
      index.addDue('t', { dueMs: clock.now + 3_600_001, id: 1 });
    });
    await index.close();
    const bucketsDir = path.join(dir, 'due-buckets');
    const [file] = fs.readdirSync(bucketsDir);
    const full = fs.statSync(path.join(bucketsDir, file!)).size;
    fs.appendFileSync(path.join(bucketsDir, file!), Buffer.alloc(20, 7)); // written, never committed
    fs.writeFileSync(path.join(bucketsDir, '0-1.due'), Buffer.alloc(20)); // no record: an orphan
    index = LmdbDelayIndex.open(dir, { nowMs: () => clock.now });
    assert.equal(index.applied, 2);
    assert.equal(fs.statSync(path.join(bucketsDir, file!)).size, full);
    assert.deepEqual(fs.readdirSync(bucketsDir), [file]);
    assert.deepEqual(index.listTopic('t', 0, Number.MAX_SAFE_INTEGER, null, 10, 100).entries.map((e) => e.id), [0, 1]);
    await index.close();
    fs.truncateSync(path.join(bucketsDir, file!), full - 20);
    index = LmdbDelayIndex.open(dir, { nowMs: () => clock.now });
    assert.equal(index.applied, 0, 'rebuilt from the log');
    assert.deepEqual(index.listTopic('t', 0, Number.MAX_SAFE_INTEGER, null, 10, 100).entries, []);
    await index.close();
  }));

test('lmdb delay index: an aborted transaction leaves no bucket entry behind', () =>
  withDir(async (dir) => {
    const clock = { now: 1_700_000_000_000 };
    const index = LmdbDelayIndex.open(dir, { nowMs: () => clock.now });
    index.transaction(1, () => index.addDue('t', { dueMs: clock.now + 3_600_000, id: 0 }));
    assert.throws(
      () =>
        index.transaction(2, () => {
          index.addDue('t', { dueMs: clock.now + 3_600_000, id: 1 });
          throw new Error('injected');
        }),
      /injected/,
    );
    index.transaction(3, () => index.addDue('t', { dueMs: clock.now + 3_600_000, id: 2 }));
    assert.deepEqual(index.listTopic('t', 0, Number.MAX_SAFE_INTEGER, null, 10, 100).entries.map((e) => e.id), [0, 2]);
    assert.deepEqual(runClock(index, clock, clock.now + 3_700_000, 30_000), [0, 2]);
    await index.close();
  }));

test('lmdb delay index: after downtime, a bucket moved into LMDB a chunk at a time still comes out in due order', () =>
  withDir(async (dir) => {
    const clock = { now: 1_700_000_000_000 };
    const index = LmdbDelayIndex.open(dir, { nowMs: () => clock.now });
    const at = clock.now + 10 * MINUTE;
    const n = 20_000; // more than one promotion chunk, appended latest first
    index.transaction(n, () => {
      for (let i = 0; i < n; i++) index.addDue('t', { dueMs: at + n - i, id: i });
    });
    clock.now = at + DAY; // the broker was down: everything is overdue
    const fired: number[] = [];
    for (let step = 0; step < 1000 && fired.length < n; step++) {
      index.promote(clock.now, 0); // one chunk per call
      const due = index.due(clock.now, 3000);
      index.transaction(index.applied, () => due.forEach((e) => index.removeDue('t', e)));
      for (const e of due) fired.push(e.dueMs);
    }
    assert.equal(fired.length, n);
    for (let i = 1; i < n; i++) assert.ok(fired[i - 1]! <= fired[i]!, `out of due order at ${i}`);
    await index.close();
  }));

test('lmdb delay index: a listing looks at a bounded number of entries — scanMax in LMDB, whole buckets after it — and says where to go on', () =>
  withDir(async (dir) => {
    const clock = { now: 1_700_000_000_000 };
    const index = LmdbDelayIndex.open(dir, { nowMs: () => clock.now });
    const near = clock.now; // LMDB: due before the bound
    const far = clock.now + DAY; // buckets: an hour apart over 41 days, so several level-3 buckets
    index.transaction(2000, () => {
      for (let i = 0; i < 1000; i++) index.addDue(i % 100 === 0 ? 'mine' : 'crowd', { dueMs: near + i, id: i });
      for (let i = 0; i < 1000; i++) index.addDue(i % 100 === 0 ? 'mine' : 'crowd', { dueMs: far + i * 3_600_000, id: 1000 + i });
    });
    const pages: number[][] = [];
    let after = null;
    for (let p = 0; p < 100; p++) {
      const { entries, stoppedAt } = index.listTopic('mine', near, far + 50 * DAY, after, 1000, 250);
      pages.push(entries.map((e) => e.id));
      const next = entries.length >= 1000 ? entries.at(-1)! : stoppedAt;
      if (next === null) break;
      after = next;
    }
    assert.deepEqual(pages.flat(), [...Array.from({ length: 10 }, (_, k) => k * 100), ...Array.from({ length: 10 }, (_, k) => 1000 + k * 100)]);
    // 4 pages of 250 for the near tier, then pages that end after whichever bucket took the count past
    // 250 (1000 entries in buckets: at least 2 more pages). A cursor at a bucket's end does not reread it.
    assert.ok(fs.readdirSync(path.join(dir, 'due-buckets')).length >= 3);
    assert.ok(pages.length >= 6 && pages.length < 20, `pages: ${JSON.stringify(pages)}`);
    await index.close();
  }));

test('lmdb delay index: a listing over more bucket files than one call reads goes on from where it stopped', () =>
  withDir(async (dir) => {
    const clock = { now: 1_700_000_000_000 };
    const index = LmdbDelayIndex.open(dir, { nowMs: () => clock.now });
    // One entry every 3 minutes for 4 hours, then one every 5 hours for 300 days: dozens of level-1, level-2 and
    // level-3 bucket files, a few entries each.
    const dues = [...Array.from({ length: 80 }, (_, i) => 60_000 + i * 180_000), ...Array.from({ length: 1440 }, (_, i) => DAY + i * 5 * 3_600_000)];
    const ids = dues.map((_, i) => i);
    index.transaction(ids.length, () => ids.forEach((i) => index.addDue('t', { dueMs: clock.now + dues[i]!, id: i })));
    assert.ok(fs.readdirSync(path.join(dir, 'due-buckets')).length > 64);
    const seen: number[] = [];
    let after = null;
    let calls = 0;
    for (; calls < 100; calls++) {
      const { entries, stoppedAt } = index.listTopic('t', 0, Number.MAX_SAFE_INTEGER, after, 100_000, 100_000);
      seen.push(...entries.map((e) => e.id));
      if (stoppedAt === null) break;
      after = stoppedAt;
    }
    assert.deepEqual(seen, ids);
    assert.ok(calls >= 1, 'more than one call');
    assert.ok(calls < 10);
    await index.close();
  }));
