import { test, describe, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { LogManager } from './log-manager.ts';
import { buildBatch, buildSimpleBatch } from './test-batches.ts';
import { StorageError } from './errors.ts';
import { MemoryFileIO } from './memory-file-io.ts';
import { readInt64, CRC, MAGIC, ATTRIBUTES, readInt16, MAX_TIMESTAMP } from './record-batch.ts';
import type { LogManagerConfig } from './types.ts';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'diglot-log-'));
});
afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

function open(config: Partial<LogManagerConfig> = {}, nowMs?: () => number): Promise<LogManager> {
  return LogManager.open({ dir, config: { retentionCheckIntervalMs: 3_600_000, ...config }, ...(nowMs ? { nowMs } : {}) });
}

function expectCode(fn: () => unknown, code: string): void {
  assert.throws(fn, (err: unknown) => err instanceof StorageError && err.code === code);
}

/** Reads the whole log from `from` and returns [baseOffset, bytes] per batch. */
function readAll(log: ReturnType<LogManager['getOrCreate']>, from = log.logStartOffset): Array<[number, Buffer]> {
  const out: Array<[number, Buffer]> = [];
  let offset = from;
  for (let guard = 0; guard < 100_000 && offset < log.logEndOffset; guard++) {
    const result = log.read(offset, 64 * 1024);
    if (result.bytes.length === 0) break;
    let pos = 0;
    while (pos < result.bytes.length) {
      const size = 12 + result.bytes.readInt32BE(pos + 8);
      out.push([readInt64(result.bytes, pos), Buffer.from(result.bytes.subarray(pos, pos + size))]);
      pos += size;
    }
    offset = result.nextOffset;
  }
  return out;
}

describe('PartitionLog', () => {
  test('a point read (maxBytes smaller than a batch) returns exactly the batch holding the offset, in sealed, reopened and active segments', async () => {
    let manager = await open({ segmentBytesMax: 16 * 1024, indexIntervalBytes: 512 });
    let log = manager.getOrCreate('points', 0);
    const written: Array<{ base: number; last: number; bytes: Buffer }> = [];
    for (let i = 0; i < 200; i++) {
      const batch = buildSimpleBatch(1 + (i % 5), 40 + (i % 7) * 30, i);
      const info = log.append(batch);
      written.push({ base: info.baseOffset, last: info.lastOffset, bytes: Buffer.from(batch) });
    }
    assert.ok(log.segmentCount() > 3, 'several sealed segments');
    const check = () => {
      for (const w of written) {
        for (const offset of [w.base, w.last]) {
          const r = log.read(offset, 1);
          assert.deepEqual(r.bytes, w.bytes, `offset ${offset}`);
          assert.equal(r.firstOffset, w.base);
          assert.equal(r.nextOffset, w.last + 1);
        }
      }
    };
    check();
    await manager.close(); // sealed indexes are read back from their files after a reopen
    manager = await open({ segmentBytesMax: 16 * 1024, indexIntervalBytes: 512 });
    log = manager.getOrCreate('points', 0);
    check();
    await manager.close();
  });

  test('append assigns dense offsets, patches baseOffset in place and reads back byte for byte', async () => {
    const manager = await open();
    const log = manager.getOrCreate('orders', 0);
    const written: Buffer[] = [];
    for (let i = 0; i < 20; i++) {
      const batch = buildSimpleBatch(1 + (i % 4), 100, i);
      const info = log.append(batch);
      assert.equal(readInt64(batch, 0), info.baseOffset);
      written.push(Buffer.from(batch));
    }
    assert.equal(log.logEndOffset, written.reduce((n, b) => n + b.readInt32BE(57), 0));
    const read = readAll(log);
    assert.equal(read.length, 20);
    read.forEach(([, bytes], i) => assert.deepEqual(bytes, written[i]));
    // Reading from an offset inside a batch returns that whole batch first.
    const mid = log.read(written.slice(0, 5).reduce((n, b) => n + b.readInt32BE(57), 0) + 1, 1);
    assert.equal(mid.firstOffset, readInt64(written[5]!, 0));
    assert.deepEqual(mid.bytes, written[5]);
    await manager.close();
  });

  test('invalid batches are rejected with stable codes and nothing is stored', async () => {
    const manager = await open();
    const log = manager.getOrCreate('t', 0);
    const good = buildSimpleBatch(2, 10);
    const badCrc = Buffer.from(good);
    badCrc[badCrc.length - 1]! ^= 0xff;
    expectCode(() => log.append(badCrc), 'BATCH_CRC_MISMATCH');
    const badMagic = Buffer.from(good);
    badMagic[MAGIC] = 1;
    expectCode(() => log.append(badMagic), 'BATCH_MAGIC_UNSUPPORTED');
    expectCode(() => log.append(good.subarray(0, 40)), 'BATCH_TRUNCATED');
    expectCode(() => log.append(good.subarray(0, good.length - 1)), 'BATCH_TRUNCATED');
    const badLength = Buffer.from(good);
    badLength.writeInt32BE(10, 8);
    expectCode(() => log.append(badLength), 'BATCH_LENGTH_INVALID');
    // A good batch followed by a bad one: the whole append is refused.
    expectCode(() => log.append(Buffer.concat([good, badCrc])), 'BATCH_CRC_MISMATCH');
    assert.equal(log.logEndOffset, 0);
    log.append(Buffer.from(good));
    assert.equal(log.logEndOffset, 2);
    expectCode(() => log.read(3, 100), 'OFFSET_OUT_OF_RANGE');
    await manager.close();
  });

  test('segments roll by size; every offset is readable through the sparse index after reopen', async () => {
    let manager = await open({ segmentBytesMax: 8 * 1024, indexIntervalBytes: 512 });
    let log = manager.getOrCreate('roll', 3);
    const written: Buffer[] = [];
    for (let i = 0; i < 300; i++) {
      const batch = buildSimpleBatch(1 + (i % 3), 50 + (i % 7) * 30, i);
      log.append(batch);
      written.push(Buffer.from(batch));
    }
    assert.ok(log.segmentCount() > 5, `expected several segments, got ${log.segmentCount()}`);
    const check = (): void => {
      const byBase = new Map(written.map((b) => [readInt64(b, 0), b]));
      for (let offset = 0; offset < log.logEndOffset; offset++) {
        const r = log.read(offset, 1);
        const base = readInt64(r.bytes, 0);
        assert.ok(base <= offset && offset <= base + r.bytes.readInt32BE(23), `offset ${offset} in batch ${base}`);
        assert.deepEqual(r.bytes, byBase.get(base));
      }
    };
    check();
    await manager.close();
    manager = await open({ segmentBytesMax: 8 * 1024, indexIntervalBytes: 512 });
    log = manager.get('roll', 3)!;
    assert.equal(log.logEndOffset, written.reduce((n, b) => n + b.readInt32BE(57), 0));
    check();
    await manager.close();
  });

  test('recovery cuts a torn tail and rebuilds a missing or corrupt index', async () => {
    let manager = await open({ segmentBytesMax: 4096, indexIntervalBytes: 256 });
    let log = manager.getOrCreate('rec', 0);
    for (let i = 0; i < 100; i++) log.append(buildSimpleBatch(2, 60, i));
    const end = log.logEndOffset;
    const segments = log.segmentBaseOffsets();
    await manager.close();
    const logDir = path.join(dir, 'rec-0');
    const lastLog = path.join(logDir, `${String(segments.at(-1)).padStart(20, '0')}.log`);
    // A torn write: half a batch at the end of the active segment.
    const extra = buildSimpleBatch(3, 200, 9);
    fs.appendFileSync(lastLog, extra.subarray(0, 100));
    // A missing index and a corrupt one on sealed segments.
    fs.rmSync(path.join(logDir, `${String(segments[1]).padStart(20, '0')}.index`));
    fs.writeFileSync(path.join(logDir, `${String(segments[2]).padStart(20, '0')}.index`), Buffer.alloc(24, 0xff));
    const truncations: string[] = [];
    manager = await LogManager.open({ dir, config: { segmentBytesMax: 4096, indexIntervalBytes: 256 }, observer: { onTruncate: (_n, _b, _p, reason) => truncations.push(reason) } });
    log = manager.get('rec', 0)!;
    assert.equal(log.logEndOffset, end);
    assert.equal(truncations.length, 1, truncations.join("; "));
    assert.equal(manager.stats.truncatedBytesOnRecovery, 100, truncations.join("; "));
    for (let offset = 0; offset < end; offset++) assert.ok(log.read(offset, 1).bytes.length > 0);
    assert.ok(fs.statSync(path.join(logDir, `${String(segments[1]).padStart(20, '0')}.index`)).size > 0);
    // New appends continue densely after the cut.
    assert.equal(log.append(buildSimpleBatch(1, 10)).baseOffset, end);
    await manager.close();
  });

  test('a corrupt batch in the middle drops it and everything after', async () => {
    let manager = await open({ segmentBytesMax: 2048 });
    let log = manager.getOrCreate('mid', 0);
    for (let i = 0; i < 40; i++) log.append(buildSimpleBatch(1, 100, i));
    const segments = log.segmentBaseOffsets();
    assert.ok(segments.length >= 4);
    await manager.close();
    // Corrupt the checkpoint so nothing is trusted, then flip a byte in segment 1.
    fs.writeFileSync(path.join(dir, 'log-checkpoint'), 'garbage');
    const file = path.join(dir, 'mid-0', `${String(segments[1]).padStart(20, '0')}.log`);
    const bytes = fs.readFileSync(file);
    bytes[200]! ^= 0x01;
    fs.writeFileSync(file, bytes);
    manager = await open({ segmentBytesMax: 2048 });
    log = manager.get('mid', 0)!;
    assert.ok(log.logEndOffset > segments[1]! && log.logEndOffset < segments[2]!, `end ${log.logEndOffset}`);
    assert.equal(log.segmentCount(), 2);
    await manager.close();
  });

  test('offsetForTimestamp finds the first record at or after a time', async () => {
    const manager = await open({ segmentBytesMax: 2048, indexIntervalBytes: 128 });
    const log = manager.getOrCreate('time', 0);
    // Batch i holds records at 1000*i + {0, 10, 20}.
    for (let i = 0; i < 60; i++) {
      log.append(buildBatch([0, 10, 20].map((d) => ({ value: Buffer.alloc(40, i), timestampMs: 1000 * i + d }))));
    }
    assert.deepEqual(log.offsetForTimestamp(0)?.offset, 0);
    assert.equal(log.offsetForTimestamp(5_005)?.offset, 5 * 3 + 1);
    assert.equal(log.offsetForTimestamp(5_010)?.offset, 5 * 3 + 1);
    assert.equal(log.offsetForTimestamp(5_011)?.offset, 5 * 3 + 2);
    assert.equal(log.offsetForTimestamp(5_021)?.offset, 6 * 3);
    assert.equal(log.offsetForTimestamp(59_021), null);
    assert.deepEqual(log.maxTimestamp(), { timestampMs: 59_020, offset: 59 * 3 + 2 });
    await manager.close();
    const reopened = await open({ segmentBytesMax: 2048, indexIntervalBytes: 128 });
    const again = reopened.get('time', 0)!;
    for (let i = 0; i < 60; i += 7) assert.equal(again.offsetForTimestamp(1000 * i + 15)?.offset, 3 * i + 2);
    assert.deepEqual(again.maxTimestamp(), { timestampMs: 59_020, offset: 59 * 3 + 2 });
    await reopened.close();
  });

  test('LogAppendTime stamps maxTimestamp and the attribute bit and keeps the CRC valid', async () => {
    const manager = await open();
    const log = manager.getOrCreate('lat', 0);
    const batch = buildSimpleBatch(3, 10);
    log.append(batch, { logAppendTimeMs: 1_234_567, leaderEpoch: 7 });
    const r = log.read(0, 1000);
    assert.equal(readInt64(r.bytes, MAX_TIMESTAMP), 1_234_567);
    assert.equal(readInt16(r.bytes, ATTRIBUTES) & 0x08, 0x08);
    assert.equal(r.bytes.readInt32BE(12), 7);
    await manager.close();
    // Recovery validates the CRC: the stamped batch must survive it.
    fs.writeFileSync(path.join(dir, 'log-checkpoint'), '');
    const reopened = await open();
    assert.equal(reopened.get('lat', 0)!.logEndOffset, 3);
    assert.equal(reopened.get('lat', 0)!.read(0, 1000).bytes.readUInt32BE(CRC), r.bytes.readUInt32BE(CRC));
    await reopened.close();
  });

  test('retention by bytes and time deletes whole old segments; log start can advance', async () => {
    let now = 10_000_000;
    const manager = await open({ segmentBytesMax: 1024, retentionBytes: 3000, retentionMs: -1 }, () => now);
    const log = manager.getOrCreate('ret', 0);
    for (let i = 0; i < 40; i++) log.append(buildSimpleBatch(1, 200, i, now - 50_000 + i));
    const before = log.segmentCount();
    const deleted = manager.applyRetention();
    assert.ok(deleted > 0 && log.segmentCount() === before - deleted);
    assert.ok(log.sizeBytes() >= 3000 - 1024 && log.sizeBytes() < 3000 + 1024, `size ${log.sizeBytes()}`);
    assert.equal(log.logStartOffset, log.segmentBaseOffsets()[0]);
    expectCode(() => log.read(0, 100), 'OFFSET_OUT_OF_RANGE');
    // Time retention: everything older than 1s goes; the active segment is rolled away too.
    log.config = { ...log.config, retentionBytes: -1, retentionMs: 1000 };
    now += 10_000;
    manager.applyRetention();
    assert.equal(log.logStartOffset, log.logEndOffset);
    assert.equal(log.segmentCount(), 1);
    // DeleteRecords-style advance survives a restart.
    for (let i = 0; i < 10; i++) log.append(buildSimpleBatch(1, 200, i, now));
    const target = log.logEndOffset - 3;
    await manager.advanceLogStart(log, target);
    assert.equal(log.logStartOffset, target);
    expectCode(() => log.read(target - 1, 10), 'OFFSET_OUT_OF_RANGE');
    await manager.close();
    const reopened = await open({ segmentBytesMax: 1024 });
    assert.equal(reopened.get('ret', 0)!.logStartOffset, target);
    await reopened.close();
  });

  test('flushMode always: durability resolves after fdatasync, and concurrent appends share fsyncs', async () => {
    const manager = await open({ flushMode: 'always' });
    const log = manager.getOrCreate('gc', 0);
    const appends = 640;
    let done = 0;
    await Promise.all(
      Array.from({ length: 64 }, async (_, w) => {
        for (let i = 0; i < appends / 64; i++) {
          const info = log.append(buildSimpleBatch(1, 100, w));
          await log.durable(info.nextOffset);
          assert.ok(log.durableOffset >= info.nextOffset);
          done++;
        }
      }),
    );
    assert.equal(done, appends);
    assert.ok(manager.stats.fsyncs < appends / 4, `fsyncs ${manager.stats.fsyncs} for ${appends} appends`);
    await manager.close();
  });

  test('flushCoalesceMs: appends arriving while a flush runs share a later fdatasync; an idle log flushes at once', async () => {
    // A pipelined producer: one append per ~1 ms for ~120 ms, each awaiting durability.
    const pipelined = async (flushCoalesceMs: number): Promise<number> => {
      const io = new MemoryFileIO({ syncLatencyMs: 0.5 });
      const manager = await LogManager.open({ dir: '/data', io, config: { flushMode: 'always', flushCoalesceMs, retentionCheckIntervalMs: 3_600_000 } });
      const log = manager.getOrCreate('pipe', 0);
      const before = manager.stats.fsyncs;
      const waits: Promise<void>[] = [];
      for (let i = 0; i < 120; i++) {
        waits.push(log.durable(log.append(buildSimpleBatch(1, 100, i)).nextOffset));
        await new Promise((resolve) => setTimeout(resolve, 1));
      }
      await Promise.all(waits);
      assert.equal(log.durableOffset, 120);
      const fsyncs = manager.stats.fsyncs - before;
      await manager.close();
      return fsyncs;
    };
    const backToBack = await pipelined(0);
    const coalesced = await pipelined(40);
    // Appends span >= 120 ms: at most one flush started per 40 ms, plus the first and the last.
    assert.ok(coalesced <= 8, `fsyncs with flushCoalesceMs 40: ${coalesced}`);
    assert.ok(backToBack > 2 * coalesced, `fsyncs back to back ${backToBack} vs coalesced ${coalesced}`);

    // Sequential appends (one waiter at a time) never wait for the coalescing window.
    const io = new MemoryFileIO();
    const manager = await LogManager.open({ dir: '/data', io, config: { flushMode: 'always', flushCoalesceMs: 1000, retentionCheckIntervalMs: 3_600_000 } });
    const log = manager.getOrCreate('seq', 0);
    const started = performance.now();
    for (let i = 0; i < 20; i++) await log.durable(log.append(buildSimpleBatch(1, 100, i)).nextOffset);
    assert.ok(performance.now() - started < 900, `20 sequential durable appends took ${performance.now() - started} ms`);
    await manager.close();
  });

  test('flushCoalesceMs: follow-up flushes of busy logs start together, in shared rounds', async () => {
    // Three pipelined logs whose first flushes start 13 ms apart. Each log pacing itself
    // would keep them 13 ms apart, so a request spanning the three would wait for the
    // latest of three unaligned flushes; in shared rounds their follow-ups start together.
    const io = new MemoryFileIO({ syncLatencyMs: 0.5 });
    const starts: Array<{ file: string; atMs: number }> = [];
    const open = io.open.bind(io);
    io.open = (file, mode) => {
      const handle = open(file, mode);
      const datasync = handle.datasync.bind(handle);
      handle.datasync = () => {
        if (file.endsWith('.log')) starts.push({ file, atMs: performance.now() });
        return datasync();
      };
      return handle;
    };
    const manager = await LogManager.open({ dir: '/data', io, config: { flushMode: 'always', flushCoalesceMs: 40, retentionCheckIntervalMs: 3_600_000 } });
    const logs = [0, 1, 2].map((p) => manager.getOrCreate('round', p));
    const waits: Promise<void>[] = [];
    const t0 = performance.now();
    for (let tick = 0; performance.now() - t0 < 200; tick++) {
      const elapsedMs = performance.now() - t0;
      logs.forEach((log, i) => {
        if (elapsedMs >= 13 * i) waits.push(log.durable(log.append(buildSimpleBatch(1, 100, tick)).nextOffset));
      });
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    await Promise.all(waits);
    await manager.close();
    // Group the data-file fdatasyncs into bursts (starts < 3 ms apart); after each log's first
    // (idle) flush, a burst of follow-ups holds all three logs.
    const followUps = starts.filter((s, i) => starts.findIndex((o) => o.file === s.file) !== i);
    const bursts: Array<Set<string>> = [];
    let lastMs = -Infinity;
    for (const s of followUps) {
      if (s.atMs - lastMs >= 3) bursts.push(new Set());
      bursts.at(-1)!.add(s.file);
      lastMs = s.atMs;
    }
    assert.ok(bursts.length >= 3, `follow-up bursts: ${bursts.length}`);
    // The last burst may be close()'s own flush of what is left.
    const full = bursts.slice(0, -1).filter((b) => b.size === 3).length;
    assert.equal(full, bursts.length - 1, `bursts by log count: ${bursts.map((b) => b.size).join(' ')}`);
  });

  test('interval flush mode resolves durability at the next interval', async () => {
    const manager = await open({ flushMode: 'interval', flushIntervalMs: 20 });
    const log = manager.getOrCreate('iv', 0);
    const info = log.append(buildSimpleBatch(1, 10));
    assert.ok(log.durableOffset < info.nextOffset);
    await log.durable(info.nextOffset);
    assert.ok(log.durableOffset >= info.nextOffset);
    await manager.close();
  });

  test('a bounded pool of file handles serves many partitions', async () => {
    const manager = await open({ openFilesMax: 8, segmentBytesMax: 1024 });
    for (let p = 0; p < 60; p++) {
      const log = manager.getOrCreate('many', p);
      for (let i = 0; i < 5; i++) log.append(buildSimpleBatch(1, 300, p + i));
      assert.ok(manager.openFileCount <= 8, `open files ${manager.openFileCount}`);
    }
    for (let p = 0; p < 60; p++) {
      const log = manager.get('many', p)!;
      assert.equal(readAll(log).length, 5);
      assert.ok(manager.openFileCount <= 8);
    }
    await manager.close();
    const reopened = await open({ openFilesMax: 8 });
    assert.equal(reopened.logCount(), 60);
    assert.ok(reopened.openFileCount <= 8);
    await reopened.close();
  });

  test('delete removes a log and its directory durably', async () => {
    const manager = await open();
    manager.getOrCreate('gone', 0).append(buildSimpleBatch(1, 10));
    manager.getOrCreate('kept', 0).append(buildSimpleBatch(1, 10));
    await manager.delete('gone', 0);
    assert.equal(fs.existsSync(path.join(dir, 'gone-0')), false);
    await manager.close();
    const reopened = await open();
    assert.equal(reopened.get('gone', 0), undefined);
    assert.equal(reopened.get('kept', 0)!.logEndOffset, 1);
    await reopened.close();
  });

  test('invalid topic names and config are refused', async () => {
    const manager = await open();
    expectCode(() => manager.getOrCreate('../x', 0), 'INVALID_ARGUMENT');
    expectCode(() => manager.getOrCreate('', 0), 'INVALID_ARGUMENT');
    expectCode(() => manager.getOrCreate('ok', -1), 'INVALID_ARGUMENT');
    expectCode(() => manager.getOrCreate('ok', 0, { segmentBytesMax: 10 }), 'INVALID_ARGUMENT');
    await manager.close();
    await assert.rejects(open({ flushMode: 'sometimes' as never }), (err: unknown) => err instanceof StorageError && /flushMode/.test(err.message));
  });

  test('a data directory is locked against a second manager; a dead holder lock is claimed', async () => {
    const first = await open();
    await assert.rejects(open(), (err: unknown) => err instanceof StorageError && err.code === 'DIR_LOCKED');
    await first.close();
    const second = await open();
    await second.close();
    // A lock left by a process that died (kill -9): 4194999 is above the largest pid_max (2^22), so never alive.
    fs.writeFileSync(path.join(dir, '.lock'), '4194999\n');
    const third = await open();
    assert.equal(fs.readFileSync(path.join(dir, '.lock'), 'utf8').trim(), String(process.pid));
    await third.close();
    assert.equal(fs.existsSync(path.join(dir, '.lock')), false);
  });
});
