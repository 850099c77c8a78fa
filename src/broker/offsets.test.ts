import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { LogManager } from '../storage/log-manager.ts';
import { OFFSETS_TOPIC } from './internal-log.ts';
import { OffsetStore } from './offsets.ts';

const commit = (topic: string, partition: number, offset: number) => ({ topic, partition, offset, leaderEpoch: -1, metadata: null });

test('offsets: durable commits and deletes survive a restart', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'diglot-offsets-'));
  try {
    let lm = await LogManager.open({ dir });
    let store = OffsetStore.open(lm, Date.now);
    await store.commit('g', [commit('t', 0, 5), commit('t', 1, 7)]);
    await store.delete('g', 't', [1]);
    await lm.close();
    lm = await LogManager.open({ dir });
    store = OffsetStore.open(lm, Date.now);
    assert.equal(store.get('g', 't', 0)?.offset, 5);
    assert.equal(store.get('g', 't', 1), undefined);
    await lm.close();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('offsets: deferred commits are visible at once, written once per key per flush, and superseded by durable ones', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'diglot-offsets-'));
  try {
    let lm = await LogManager.open({ dir });
    let store = OffsetStore.open(lm, Date.now);
    const log = lm.get(OFFSETS_TOPIC, 0)!;
    for (let i = 1; i <= 100; i++) store.commitDeferred('rmq', [commit('t', 0, i), commit('t', 1, 2 * i)]);
    assert.equal(store.get('rmq', 't', 0)?.offset, 100, 'visible before it is written');
    assert.equal(log.logEndOffset, 0, 'nothing written yet: one record per pull would grow the log');
    await store.flushDeferred();
    assert.equal(log.logEndOffset, 2, 'one record per key');
    store.commitDeferred('rmq', [commit('t', 0, 100)]);
    await store.flushDeferred();
    assert.equal(log.logEndOffset, 2, 'an unchanged offset is not written again');
    // A durable commit after a deferred one of the same key wins, also after a restart.
    store.commitDeferred('rmq', [commit('t', 0, 150)]);
    await store.commit('rmq', [commit('t', 0, 120)]);
    await store.flushDeferred();
    assert.equal(store.get('rmq', 't', 0)?.offset, 120);
    await lm.close();
    lm = await LogManager.open({ dir });
    store = OffsetStore.open(lm, Date.now);
    assert.equal(store.get('rmq', 't', 0)?.offset, 120);
    assert.equal(store.get('rmq', 't', 1)?.offset, 200);
    await lm.close();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
