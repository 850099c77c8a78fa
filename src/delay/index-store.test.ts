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
