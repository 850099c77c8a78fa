import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { open } from 'lmdb';
import { LmdbDelayIndex } from './index-store.ts';

function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'diglot-delay-index-'));
}

const ids = (listing: { entries: Array<{ id: number }> }): number[] => listing.entries.map((e) => e.id);

test('lmdb delay index: due entries keep their topic across reopen; a topic first seen after it gets its own number', async () => {
  const dir = tempDir();
  try {
    let index = LmdbDelayIndex.open(dir);
    index.transaction(4, () => {
      index.addDue('orders', { dueMs: 100, id: 0 });
      index.addDue('payments', { dueMs: 150, id: 1 });
      index.addDue('orders', { dueMs: 200, id: 2 });
      index.addDue('é-topic', { dueMs: 250, id: 3 });
    });
    assert.deepEqual(ids(index.listTopic('orders', 0, 1000, null, 10, 100)), [0, 2]);
    await index.close();
    index = LmdbDelayIndex.open(dir);
    assert.equal(index.applied, 4);
    assert.deepEqual(ids(index.listTopic('orders', 0, 1000, null, 10, 100)), [0, 2]);
    assert.deepEqual(ids(index.listTopic('payments', 0, 1000, null, 10, 100)), [1]);
    assert.deepEqual(ids(index.listTopic('é-topic', 0, 1000, null, 10, 100)), [3]);
    assert.deepEqual(ids(index.listTopic('never-scheduled', 0, 1000, null, 10, 100)), []);
    index.transaction(5, () => index.addDue('refunds', { dueMs: 120, id: 4 }));
    assert.deepEqual(ids(index.listTopic('refunds', 0, 1000, null, 10, 100)), [4]);
    assert.deepEqual(ids(index.listTopic('orders', 0, 1000, null, 10, 100)), [0, 2]);
    assert.deepEqual(index.due(1000, 10).map((e) => e.id), [0, 4, 1, 2, 3]);
    await index.close();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('lmdb delay index: a topic numbered in an aborted transaction is not kept, and its number does not leak into the next topic', async () => {
  const dir = tempDir();
  try {
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
    assert.deepEqual(ids(index.listTopic('b', 0, 100, null, 10, 100)), []);
    index.transaction(3, () => {
      index.addDue('c', { dueMs: 30, id: 2 });
      index.addDue('b', { dueMs: 40, id: 3 });
    });
    assert.deepEqual(ids(index.listTopic('a', 0, 100, null, 10, 100)), [0]);
    assert.deepEqual(ids(index.listTopic('b', 0, 100, null, 10, 100)), [3]);
    assert.deepEqual(ids(index.listTopic('c', 0, 100, null, 10, 100)), [2]);
    await index.close();
    const reopened = LmdbDelayIndex.open(dir);
    reopened.transaction(4, () => reopened.addDue('d', { dueMs: 50, id: 4 }));
    for (const [topic, want] of [['a', [0]], ['b', [3]], ['c', [2]], ['d', [4]]] as const) {
      assert.deepEqual(ids(reopened.listTopic(topic, 0, 100, null, 10, 100)), want, topic);
    }
    await reopened.close();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('lmdb delay index: an index of another layout version opens empty (to be rebuilt from the log), topics included', async () => {
  const dir = tempDir();
  try {
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
    assert.deepEqual(ids(index.listTopic('old', 0, 100, null, 10, 100)), []);
    index.transaction(1, () => index.addDue('new', { dueMs: 5, id: 0 }));
    assert.deepEqual(ids(index.listTopic('new', 0, 100, null, 10, 100)), [0]);
    await index.close();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('lmdb delay index: topic numbers past one byte (300 topics) stay distinct', async () => {
  const dir = tempDir();
  try {
    const index = LmdbDelayIndex.open(dir);
    index.transaction(300, () => {
      for (let i = 0; i < 300; i++) index.addDue(`t${i}`, { dueMs: 1000 - i, id: i });
    });
    for (const i of [0, 1, 254, 255, 256, 299]) assert.deepEqual(ids(index.listTopic(`t${i}`, 0, 2000, null, 10, 1000)), [i], `t${i}`);
    await index.close();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
