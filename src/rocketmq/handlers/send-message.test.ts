import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { LogManager } from '../../storage/log-manager.ts';
import { Broker } from '../../broker/broker.ts';
import { createLogger } from '../../logger.ts';
import { RequestCode, ResponseCode, encodeProperties, type RemotingCommand } from '../../protocol/rocketmq/index.ts';
import { RocketmqState } from '../state.ts';
import { sendMessages } from './send-message.ts';

function sendV2(topic: string, reconsumeTimes: number, maxReconsumeTimes: number): RemotingCommand {
  return {
    code: RequestCode.SEND_MESSAGE_V2,
    language: 'JAVA',
    version: 479,
    opaque: 1,
    flag: 0,
    remark: null,
    extFields: { a: 'pg', b: topic, c: 'TBW102', d: '4', e: '-1', f: '0', g: String(Date.now()), h: '0', i: encodeProperties([['TAGS', 't']]), j: String(reconsumeTimes), l: String(maxReconsumeTimes) },
    body: Buffer.from('x'),
    serializeType: 0,
  };
}

test('with automatic topic creation off, ordinary topics are refused but retry and dead-letter topics are still created', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'diglot-send-'));
  const logManager = await LogManager.open({ dir });
  const broker = await Broker.open(logManager, { nodeId: 1, autoCreateTopics: false, defaultPartitions: 1, maxMessageBytes: 1_048_588 });
  const state = new RocketmqState({ broker, brokerName: 'b', clusterName: 'c', advertisedAddress: '127.0.0.1:1', storeHost: Buffer.alloc(8), defaultQueues: 8, maxReconsumeTimes: 16, logger: createLogger({ level: 'silent' }) });
  try {
    const plain = await sendMessages(state, sendV2('Plain', 0, 16));
    assert.equal(plain.code, ResponseCode.TOPIC_NOT_EXIST);
    const retry = await sendMessages(state, sendV2('%RETRY%g1', 1, 16));
    assert.equal(retry.code, ResponseCode.SUCCESS, retry.remark ?? '');
    assert.equal(broker.topics.get('%RETRY%g1')?.partitions, 1);
    // Past maxReconsumeTimes the message goes to the DLQ, created on the spot.
    const dead = await sendMessages(state, sendV2('%RETRY%g1', 3, 2));
    assert.equal(dead.code, ResponseCode.SUCCESS, dead.remark ?? '');
    assert.equal(broker.topics.get('%DLQ%g1')?.partitions, 1);
    assert.equal(broker.topics.partitionLog(broker.topics.get('%DLQ%g1')!, 0).logEndOffset, 1);
  } finally {
    state.close();
    broker.close();
    await logManager.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
