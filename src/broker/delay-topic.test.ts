// Property test of the Kafka delay-topic path (Broker.appendBatch on a topic
// with diglot.delay.enable=true): for any mix of records with good, bad or no
// delay headers, a batch is either refused whole (INVALID_RECORD, nothing
// stored, nothing held) or split exactly: every record is appended at once or
// held, none lost, none twice; and a normal topic stores the batch untouched.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { LogManager } from '../storage/log-manager.ts';
import { buildRecordBatch, forEachBatch, readRecords, type RecordInput } from '../storage/records.ts';
import { Broker, DELAY_ENABLE_CONFIG } from './broker.ts';

const NOW = Date.now();
const headerValue = fc.oneof(
  fc.integer({ min: -5, max: 30 }).map(String), // levels, including ≤ 0 (no delay) and beyond the table (clamped)
  fc.integer({ min: 0, max: 5_000_000 }).map((n) => String(NOW + n)), // absolute times, some far
  fc.constantFrom('', 'soon', '1e3', ' 7', '9007199254740993', String(NOW + 400 * 86_400_000)),
);
const delayHeader = fc.constantFrom('TIMER_DELIVER_MS', 'TIMER_DELAY_MS', 'TIMER_DELAY_SEC', 'DELAY', 'other');
const recordArb = fc.record({
  value: fc.string({ maxLength: 20 }),
  headers: fc.array(fc.tuple(delayHeader, headerValue), { maxLength: 2 }),
});

test('delay topic: a produced batch is refused whole or split exactly between the log and the delay service', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'diglot-delay-topic-'));
  const logManager = await LogManager.open({ dir });
  const broker = await Broker.open(logManager, { nodeId: 1, autoCreateTopics: false, defaultPartitions: 1, maxMessageBytes: 1 << 20, delayIndex: 'memory', delayLevels: '1s 2s' });
  try {
    const delayTopic = await broker.topics.create('held', 1, new Map([[DELAY_ENABLE_CONFIG, 'true']]));
    const plainTopic = await broker.topics.create('plain', 1, new Map());
    let batchNo = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(recordArb, { minLength: 1, maxLength: 6 }), async (records) => {
        batchNo++;
        const inputs: RecordInput[] = records.map((r, i) => ({
          key: null,
          value: Buffer.from(`${batchNo}:${i}:${r.value}`),
          headers: r.headers.map(([k, v]) => ({ key: k, value: Buffer.from(v) })),
          timestampMs: NOW,
        }));
        const log = broker.topics.partitionLog(delayTopic, 0);
        const endBefore = log.logEndOffset;
        const pendingBefore = broker.delays.pendingCount;
        const outcome = broker.appendBatch(delayTopic, 0, buildRecordBatch(inputs));
        const appended = log.logEndOffset - endBefore;
        const held = broker.delays.pendingCount - pendingBefore;
        if (outcome.errorCode !== 'NONE') {
          assert.equal(outcome.errorCode, 'INVALID_RECORD');
          assert.match(outcome.errorMessage ?? '', /delay topic held/);
          assert.equal(appended, 0);
          assert.equal(held, 0);
          return;
        }
        assert.equal(appended + held, inputs.length, 'every record appended or held, once');
        if (held > 0) assert.equal(outcome.baseOffset, -1);
        else assert.equal(outcome.baseOffset, endBefore);
        // What was appended is the records without a delay, in order.
        const r = log.read(endBefore, 1 << 20);
        const values: string[] = [];
        forEachBatch(r.bytes, (pos) => {
          for (const rec of readRecords(r.bytes, pos)) if (rec.offset >= endBefore) values.push(rec.value!.toString());
        });
        assert.equal(values.length, appended);
        // A plain topic takes the same batch as received.
        const plainLog = broker.topics.partitionLog(plainTopic, 0);
        const plainBefore = plainLog.logEndOffset;
        assert.equal(broker.appendBatch(plainTopic, 0, buildRecordBatch(inputs)).errorCode, 'NONE');
        assert.equal(plainLog.logEndOffset - plainBefore, inputs.length);
      }),
      { numRuns: 300, seed: 20261124 },
    );
  } finally {
    broker.close();
    await logManager.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
