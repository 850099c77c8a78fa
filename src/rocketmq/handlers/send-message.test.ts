import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { LogManager } from '../../storage/log-manager.ts';
import { Broker } from '../../broker/broker.ts';
import { createLogger } from '../../logger.ts';
import { RequestCode, ResponseCode, decodeProperties, encodeProperties, type RemotingCommand } from '../../protocol/rocketmq/index.ts';
import { readRecords } from '../../storage/records.ts';
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

test('a sent message is stored as a Map of its properties reads it: repeated names keep their first place and take the last value, KEYS is the key', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'diglot-send-'));
  const logManager = await LogManager.open({ dir });
  const broker = await Broker.open(logManager, { nodeId: 1, autoCreateTopics: true, defaultPartitions: 1, maxMessageBytes: 1_048_588 });
  const state = new RocketmqState({ broker, brokerName: 'b', clusterName: 'clusterX', advertisedAddress: '127.0.0.1:1', storeHost: Buffer.alloc(8), defaultQueues: 1, maxReconsumeTimes: 16, logger: createLogger({ level: 'silent' }) });
  try {
    const cases: Array<{ name: string; raw: string; flag: number }> = [
      { name: 'few, with repeats', raw: 'TAGS\u0001a\u0002KEYS\u0001k1\u0002color\u0001red\u0002TAGS\u0001b\u0002KEYS\u0001k2\u0002CLUSTER\u0001theirs\u0002\u0002x\u0002=\u0001\u0002', flag: 0 },
      // Past 16 names the handler finds repeats through an index: the same result.
      { name: 'many, repeats past 16', raw: Array.from({ length: 40 }, (_, i) => `p${i % 25}\u0001v${i}\u0002`).join('') + 'UNIQ_KEY\u0001U1\u0002p3\u0001last', flag: 7 },
      { name: 'none', raw: '', flag: 0 },
    ];
    for (const c of cases) {
      const request = sendV2('Mapped', 0, 16);
      request.extFields['i'] = c.raw;
      request.extFields['h'] = String(c.flag);
      request.extFields['e'] = '0';
      const reply = await sendMessages(state, request);
      assert.equal(reply.code, ResponseCode.SUCCESS, `${c.name}: ${reply.remark}`);
      const topic = broker.topics.get('Mapped')!;
      const offset = Number(reply.extFields!['queueOffset']);
      const read = broker.read(topic, 0, offset, 1 << 20);
      const record = readRecords(read.result!.bytes).find((r) => r.offset === offset)!;
      // The oracle: the properties as a Map, the broker's UNIQ_KEY when absent, CLUSTER set.
      const expected = decodeProperties(c.raw);
      const keys = expected.get('KEYS');
      expected.delete('KEYS');
      if (!expected.has('UNIQ_KEY')) expected.set('UNIQ_KEY', record.headers.find((h) => h.key === 'UNIQ_KEY')!.value!.toString());
      expected.set('CLUSTER', 'clusterX');
      if (c.flag !== 0) expected.set('__rmq.flag', String(c.flag));
      assert.deepEqual(record.headers.map((h) => [h.key, h.value?.toString() ?? null]), [...expected], c.name);
      assert.equal(record.key?.toString() ?? null, keys ?? null, c.name);
      assert.equal(reply.extFields!['transactionId'], expected.get('UNIQ_KEY'), c.name);
    }
  } finally {
    state.close();
    broker.close();
    await logManager.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
