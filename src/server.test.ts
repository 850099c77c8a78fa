import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, describe, it } from 'node:test';
import { captureLog, deferred, sample } from '../test/helpers.ts';
import { defaultConfig, type Config } from './config/index.ts';
import { startServer, type OpenStorageOptions, type StorageEngine } from './server.ts';
import { LogManager } from './storage/log-manager.ts';
import { buildSimpleBatch } from './storage/test-batches.ts';
import { defaultLogManagerConfig, type StorageStats } from './storage/types.ts';

const tmpRoot = mkdtempSync(join(tmpdir(), 'diglot-server-test-'));
after(() => rmSync(tmpRoot, { recursive: true, force: true }));
let dirs = 0;

// Whatever a test leaves behind (a failed assertion mid-way) is released here,
// so a failing test fails instead of keeping the process alive. In order: a
// stand-in storage registers its release before the server that waits on it.
const cleanups: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await Promise.resolve().then(cleanup).catch(() => {});
});

/** startServer, closed after the test whatever happens. */
function start(...args: Parameters<typeof startServer>): ReturnType<typeof startServer> {
  const starting = startServer(...args);
  cleanups.push(async () => (await starting).close());
  return starting;
}

function testConfig(overrides: Partial<Config> = {}): Config {
  return {
    ...defaultConfig(),
    host: '127.0.0.1',
    adminPort: 0,
    kafkaPort: 0,
    rocketmqPort: 0,
    dataDir: join(tmpRoot, `d${dirs++}`),
    ...overrides,
  };
}

function zeroStats(): StorageStats {
  return {
    appendedBytes: 0,
    appendedRecords: 0,
    appendedBatches: 0,
    fsyncs: 0,
    segmentsRolled: 0,
    segmentsDeleted: 0,
    truncatedBytesOnRecovery: 0,
  };
}

/** A storage stand-in whose open and close finish when the test says so. */
function controllableStorage() {
  const opened = deferred();
  const closeRequested = deferred();
  const closed = deferred();
  const calls: string[] = [];
  let openOptions: OpenStorageOptions | undefined;
  const engine: StorageEngine = {
    stats: zeroStats(),
    logs: () => [{ topic: 'orders', partition: 3, sizeBytes: () => 777, segmentCount: () => 2 }].values(),
    close: async () => {
      calls.push('storage.close');
      closeRequested.resolve();
      await closed.promise;
    },
  };
  cleanups.push(() => {
    opened.resolve();
    closed.resolve();
  });
  return {
    calls,
    engine,
    opened,
    closeRequested,
    closed,
    get openOptions() {
      return openOptions;
    },
    open: async (options: OpenStorageOptions) => {
      openOptions = options;
      calls.push('storage.open');
      await opened.promise;
      return engine;
    },
  };
}

async function get(url: string): Promise<{ status: number; body: string }> {
  const res = await fetch(url);
  return { status: res.status, body: await res.text() };
}

/** Resolves once the log has a line matching `pred`. */
async function waitForLine(lines: Array<Record<string, unknown>>, pred: (l: Record<string, unknown>) => boolean): Promise<Record<string, unknown>> {
  for (let i = 0; i < 500; i++) {
    const line = lines.find(pred);
    if (line) return line;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error('log line never appeared');
}

describe('startServer', { timeout: 30_000 }, () => {
  it('is live at once, ready only after storage recovery, not ready once shutdown begins', async () => {
    const { logger, lines } = captureLog();
    const storage = controllableStorage();
    const starting = start(testConfig(), { logger, openStorage: storage.open });

    const listening = await waitForLine(lines, (l) => l.component === 'admin' && typeof l.port === 'number' && l.port !== 0);
    const base = `http://127.0.0.1:${listening.port as number}`;
    assert.equal((await get(`${base}/livez`)).status, 200);
    const notYet = await get(`${base}/readyz`);
    assert.equal(notYet.status, 503);
    assert.deepEqual(JSON.parse(notYet.body).checks.storage, false);

    storage.opened.resolve();
    const server = await starting;
    assert.equal(server.adminAddress.port, listening.port);
    assert.equal(server.phase, 'ready');
    const ready = await get(`${base}/readyz`);
    assert.equal(ready.status, 200);
    assert.equal(JSON.parse(ready.body).status, 'ready');

    const closing = server.close();
    await storage.closeRequested.promise;
    // Storage is closing; admin still answers, and says not ready.
    assert.equal(server.phase, 'stopping');
    const stopping = await get(`${base}/readyz`);
    assert.equal(stopping.status, 503);
    assert.equal(JSON.parse(stopping.body).status, 'stopping');
    assert.equal((await get(`${base}/livez`)).status, 200);

    storage.closed.resolve();
    await closing;
    assert.equal(server.phase, 'stopped');
    assert.equal(server.close(), closing, 'close() is idempotent');
    await assert.rejects(fetch(`${base}/livez`), 'admin server still accepting after close');
    assert.deepEqual(storage.calls, ['storage.open', 'storage.close']);
  });

  it('hands the storage keys and the data dir to the storage engine', async () => {
    const { logger } = captureLog();
    const storage = controllableStorage();
    storage.opened.resolve();
    storage.closed.resolve();
    const config = testConfig({ flushMode: 'always', segmentBytesMax: 65_536, retentionBytes: 10_000_000 });
    const server = await start(config, { logger, openStorage: storage.open });
    try {
      const opts = storage.openOptions!;
      assert.equal(opts.dir, config.dataDir);
      assert.deepEqual(opts.config, {
        ...defaultLogManagerConfig,
        flushMode: 'always',
        segmentBytesMax: 65_536,
        retentionBytes: 10_000_000,
      });
      // The observer feeds the fsync histogram.
      opts.observer.onFsync!(3);
      const text = await (await fetch(`${server.adminAddress.url}/metrics`)).text();
      assert.equal(sample(text, 'diglot_storage_fsync_seconds_count'), 1);
      assert.equal(sample(text, 'diglot_storage_log_size_bytes', { topic: 'orders', partition: '3' }), 777);
      assert.equal(sample(text, 'diglot_storage_segments'), 2);
    } finally {
      await server.close();
    }
  });

  it('logs the bound admin address, and with a storage stand-in that no protocol listener started', async () => {
    const { logger, lines } = captureLog();
    const storage = controllableStorage();
    storage.opened.resolve();
    storage.closed.resolve();
    const server = await start(testConfig({ kafkaPort: 19092, rocketmqPort: 19876, advertisedHost: 'broker.example' }), {
      logger,
      openStorage: storage.open,
    });
    try {
      assert.ok(server.adminAddress.port > 0);
      assert.equal(server.adminAddress.url, `http://127.0.0.1:${server.adminAddress.port}`);
      // A storage stand-in cannot back a broker: the Kafka and RocketMQ listeners stay down and say so.
      assert.ok(!lines.some((l) => l.component === 'rocketmq' || l.component === 'kafka'));
      assert.ok(lines.some((l) => l.component === 'server' && /protocol listeners not started/.test(String(l.msg))));
      assert.equal(server.advertisedHost, 'broker.example');
      assert.ok(lines.some((l) => l.component === 'server' && l.msg === 'ready'));
      assert.ok(lines.every((l) => typeof l.time === 'string' && typeof l.level === 'string'));
    } finally {
      await server.close();
    }
  });

  it('fails to start when storage cannot open, and releases the admin port', async () => {
    const { logger } = captureLog();
    const failing = async () => {
      throw new Error('disk on fire');
    };
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const port = (probe.address() as { port: number }).port;
    await new Promise<void>((r) => probe.close(() => r()));

    await assert.rejects(startServer(testConfig({ adminPort: port }), { logger, openStorage: failing }), /disk on fire/);
    // The port must be free again.
    const again = createServer();
    await new Promise<void>((resolve, reject) => {
      again.once('error', reject);
      again.listen(port, '127.0.0.1', resolve);
    });
    await new Promise<void>((r) => again.close(() => r()));
  });

  it('fails to start when the admin port is taken', async () => {
    const { logger } = captureLog();
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const port = (blocker.address() as { port: number }).port;
    const storage = controllableStorage();
    try {
      await assert.rejects(startServer(testConfig({ adminPort: port }), { logger, openStorage: storage.open }), { code: 'EADDRINUSE' });
      assert.deepEqual(storage.calls, [], 'storage must not be opened when admin cannot bind');
    } finally {
      await new Promise<void>((r) => blocker.close(() => r()));
    }
  });

  it('runs several servers in one process, each with its own metrics', async () => {
    const { logger } = captureLog();
    const s1 = controllableStorage();
    const s2 = controllableStorage();
    for (const s of [s1, s2]) {
      s.opened.resolve();
      s.closed.resolve();
    }
    const a = await start(testConfig(), { logger, openStorage: s1.open });
    const b = await start(testConfig(), { logger, openStorage: s2.open });
    try {
      s1.engine.stats.appendedRecords = 11;
      s2.engine.stats.appendedRecords = 22;
      const ta = await (await fetch(`${a.adminAddress.url}/metrics`)).text();
      const tb = await (await fetch(`${b.adminAddress.url}/metrics`)).text();
      assert.equal(sample(ta, 'diglot_storage_appended_records_total'), 11);
      assert.equal(sample(tb, 'diglot_storage_appended_records_total'), 22);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('answers unknown routes with {error_code, message}', async () => {
    const { logger } = captureLog();
    const s = controllableStorage();
    s.opened.resolve();
    s.closed.resolve();
    const server = await start(testConfig(), { logger, openStorage: s.open });
    try {
      const res = await get(`${server.adminAddress.url}/v3/nope`);
      assert.equal(res.status, 404);
      assert.deepEqual(JSON.parse(res.body), { error_code: 404, message: 'no route GET /v3/nope' });
    } finally {
      await server.close();
    }
  });

  it('with the real LogManager: recovers what an earlier run wrote and reports it in /metrics', async () => {
    const config = testConfig({ segmentBytesMax: 4096 });
    // An earlier run leaves two partitions on disk.
    const earlier = await LogManager.open({ dir: config.dataDir });
    for (let i = 0; i < 5; i++) earlier.getOrCreate('orders', 0).append(buildSimpleBatch(4, 100, i));
    earlier.getOrCreate('orders', 1).append(buildSimpleBatch(1, 10));
    await earlier.close();

    const { logger, lines } = captureLog();
    const server = await start(config, { logger });
    try {
      const sizes = new Map([...server.storage.logs()].map((l) => [`${l.topic}/${l.partition}`, l.sizeBytes()]));
      // The broker's own logs sit beside the user's.
      assert.deepEqual([...sizes.keys()].sort(), ['__consumer_offsets/0', '__delay/0', '__diglot_metadata/0', '__diglot_protocol_state/0', 'orders/0', 'orders/1']);
      const kafka = lines.find((l) => l.component === 'kafka' && typeof l.port === 'number');
      assert.ok(kafka !== undefined && (kafka.port as number) > 0, 'the Kafka listener binds a free port');
      const rocketmq = lines.find((l) => l.component === 'rocketmq' && typeof l.port === 'number');
      assert.ok(rocketmq !== undefined && (rocketmq.port as number) > 0 && /^rocketmq listener on /.test(String(rocketmq.msg)), 'the RocketMQ listener binds a free port');
      assert.ok(sizes.get('orders/0')! > 2000);
      const text = await (await fetch(`${server.adminAddress.url}/metrics`)).text();
      assert.equal(sample(text, 'diglot_storage_log_size_bytes', { topic: 'orders', partition: '0' }), sizes.get('orders/0'));
      assert.equal(sample(text, 'diglot_storage_log_size_bytes', { topic: 'orders', partition: '1' }), sizes.get('orders/1'));
      assert.ok(sample(text, 'diglot_storage_segments')! >= 2);
      assert.equal((await fetch(`${server.adminAddress.url}/readyz`)).status, 200);
    } finally {
      await server.close();
    }
  });
});
