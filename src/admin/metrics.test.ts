import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { sample } from '../../test/helpers.ts';
import type { StorageStats } from '../storage/types.ts';
import { BrokerMetrics, type PartitionLogView, type StorageView } from './metrics.ts';

function fakeStorage(logs: PartitionLogView[] = []): StorageView & { stats: StorageStats; logList: PartitionLogView[] } {
  const storage = {
    stats: {
      appendedBytes: 0,
      appendedRecords: 0,
      appendedBatches: 0,
      fsyncs: 0,
      segmentsRolled: 0,
      segmentsDeleted: 0,
      truncatedBytesOnRecovery: 0,
    },
    logList: logs,
    logs: () => storage.logList.values(),
  };
  return storage;
}

const log = (topic: string, partition: number, size: number, segments: number): PartitionLogView => ({
  topic,
  partition,
  sizeBytes: () => size,
  segmentCount: () => segments,
});

describe('BrokerMetrics', () => {
  it('exposes default process metrics and zeroed storage metrics before storage is attached', async () => {
    const text = await new BrokerMetrics().text();
    assert.ok(sample(text, 'process_cpu_user_seconds_total')! >= 0, 'process metrics missing');
    assert.ok(sample(text, 'nodejs_heap_size_used_bytes')! > 0, 'nodejs metrics missing');
    assert.equal(sample(text, 'diglot_storage_appended_bytes_total'), 0);
    assert.equal(sample(text, 'diglot_storage_appended_records_total'), 0);
    assert.equal(sample(text, 'diglot_storage_segments'), 0);
    assert.equal(sample(text, 'diglot_storage_fsync_seconds_count'), 0);
  });

  it('reads counters from LogManager.stats at every scrape', async () => {
    const metrics = new BrokerMetrics();
    const storage = fakeStorage();
    metrics.attachStorage(storage);
    storage.stats.appendedBytes = 16_384;
    storage.stats.appendedRecords = 16;
    storage.stats.fsyncs = 3;
    let text = await metrics.text();
    assert.equal(sample(text, 'diglot_storage_appended_bytes_total'), 16_384);
    assert.equal(sample(text, 'diglot_storage_appended_records_total'), 16);
    assert.equal(sample(text, 'diglot_storage_fsyncs_total'), 3);
    storage.stats.appendedBytes = 20_000;
    text = await metrics.text();
    assert.equal(sample(text, 'diglot_storage_appended_bytes_total'), 20_000);
    assert.match(text, /# TYPE diglot_storage_appended_bytes_total counter/);
  });

  it('observes fsync durations in seconds', async () => {
    const metrics = new BrokerMetrics();
    metrics.observeFsync(0.3); // 0.0003 s
    metrics.observeFsync(4); // 0.004 s
    metrics.observeFsync(2000); // 2 s
    const text = await metrics.text();
    assert.equal(sample(text, 'diglot_storage_fsync_seconds_count'), 3);
    assert.equal(sample(text, 'diglot_storage_fsync_seconds_bucket', { le: '0.00025' }), 0);
    assert.equal(sample(text, 'diglot_storage_fsync_seconds_bucket', { le: '0.0005' }), 1);
    assert.equal(sample(text, 'diglot_storage_fsync_seconds_bucket', { le: '0.005' }), 2);
    assert.equal(sample(text, 'diglot_storage_fsync_seconds_bucket', { le: '2.5' }), 3);
    assert.ok(Math.abs(sample(text, 'diglot_storage_fsync_seconds_sum')! - 2.0043) < 1e-9);
  });

  it('reports segments in total and bytes per partition; dropped partitions disappear', async () => {
    const metrics = new BrokerMetrics();
    const storage = fakeStorage([log('orders', 0, 1000, 2), log('orders', 1, 500, 1), log('__consumer_offsets', 7, 42, 3)]);
    metrics.attachStorage(storage);
    let text = await metrics.text();
    assert.equal(sample(text, 'diglot_storage_segments'), 6);
    assert.equal(sample(text, 'diglot_storage_log_size_bytes', { topic: 'orders', partition: '0' }), 1000);
    assert.equal(sample(text, 'diglot_storage_log_size_bytes', { topic: 'orders', partition: '1' }), 500);
    assert.equal(sample(text, 'diglot_storage_log_size_bytes', { topic: '__consumer_offsets', partition: '7' }), 42);

    storage.logList = [log('orders', 1, 600, 1)];
    text = await metrics.text();
    assert.equal(sample(text, 'diglot_storage_segments'), 1);
    assert.equal(sample(text, 'diglot_storage_log_size_bytes', { topic: 'orders', partition: '0' }), undefined);
    assert.equal(sample(text, 'diglot_storage_log_size_bytes', { topic: 'orders', partition: '1' }), 600);
  });

  it('keeps serving when storage refuses to list its logs (e.g. while closing)', async () => {
    const metrics = new BrokerMetrics();
    metrics.attachStorage({
      stats: fakeStorage().stats,
      logs: () => {
        throw new Error('closed');
      },
    });
    const text = await metrics.text();
    assert.equal(sample(text, 'diglot_storage_segments'), 0);
  });

  it('gives each instance its own registry', async () => {
    const a = new BrokerMetrics();
    const b = new BrokerMetrics();
    const storage = fakeStorage();
    storage.stats.appendedRecords = 5;
    a.attachStorage(storage);
    a.observeFsync(1);
    const textB = await b.text();
    assert.equal(sample(textB, 'diglot_storage_appended_records_total'), 0);
    assert.equal(sample(textB, 'diglot_storage_fsync_seconds_count'), 0);
    assert.equal(sample(await a.text(), 'diglot_storage_appended_records_total'), 5);
  });
});
