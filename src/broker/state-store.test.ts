import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { LogManager } from '../storage/log-manager.ts';
import { Broker } from './broker.ts';
import { createLogger } from '../logger.ts';
import { RocketmqState } from '../rocketmq/state.ts';
import { defaultSubscriptionGroup } from '../rocketmq/state.ts';

const CONFIG = { nodeId: 1, autoCreateTopics: true, defaultPartitions: 1, maxMessageBytes: 1_048_588, groupInitialRebalanceDelayMs: 0 };

async function withBroker<T>(dir: string, fn: (broker: Broker) => Promise<T>): Promise<T> {
  const logManager = await LogManager.open({ dir });
  const broker = await Broker.open(logManager, CONFIG);
  try {
    return await fn(broker);
  } finally {
    broker.close();
    await logManager.close();
  }
}

function rocketmqState(broker: Broker): RocketmqState {
  return new RocketmqState({
    broker,
    brokerName: 'b',
    clusterName: 'c',
    advertisedAddress: '127.0.0.1:1',
    storeHost: Buffer.alloc(8),
    defaultQueues: 4,
    maxReconsumeTimes: 16,
    logger: createLogger({ level: 'silent' }),
  });
}

test('protocol state: values, deletes and the RocketMQ groups and KV config survive a restart; defaults do not', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'diglot-state-'));
  try {
    await withBroker(dir, async (broker) => {
      await broker.protocolState.set('a', { n: 1 });
      await broker.protocolState.set('b', 'two');
      await broker.protocolState.set('a', { n: 3 });
      await broker.protocolState.set('b', null);
      const state = rocketmqState(broker);
      await state.saveSubscriptionGroup({ ...defaultSubscriptionGroup('g1', 16), retryMaxTimes: 3 });
      await state.putKv('ORDER_TOPIC_CONFIG', 'T1', 'broker-a:4');
      await state.putKv('ns', 'gone', 'x');
      await state.deleteKv('ns', 'gone');
      state.subscriptionGroup('only-defaults');
      state.close();
    });
    await withBroker(dir, async (broker) => {
      assert.deepEqual(broker.protocolState.get('a'), { n: 3 });
      assert.equal(broker.protocolState.get('b'), undefined);
      const state = rocketmqState(broker);
      assert.equal(state.subscriptionGroups.get('g1')?.retryMaxTimes, 3);
      assert.equal(state.subscriptionGroups.has('only-defaults'), false);
      assert.equal(state.kv.get('ORDER_TOPIC_CONFIG')?.get('T1'), 'broker-a:4');
      assert.equal(state.kv.has('ns'), false);
      await state.deleteSubscriptionGroup('g1');
      state.close();
    });
    await withBroker(dir, async (broker) => {
      const state = rocketmqState(broker);
      assert.equal(state.subscriptionGroups.has('g1'), false);
      state.close();
    });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
