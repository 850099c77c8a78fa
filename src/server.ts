// One Diglot node: admin HTTP, storage, and (from the next issues) the Kafka
// and RocketMQ listeners. startServer brings it up; close() takes it down
// gracefully. Signals and exit codes belong to the CLI, not here.

import { mkdirSync } from 'node:fs';
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { startAdminServer, type AdminServer } from './admin/app.ts';
import { DELAY_BODY_LIMIT_DEFAULT } from './admin/delay-routes.ts';
import { Health, type Phase } from './admin/health.ts';
import { BrokerMetrics, type StorageView } from './admin/metrics.ts';
import { Broker } from './broker/broker.ts';
import { startKafkaListener, type KafkaListener } from './kafka/server.ts';
import { startRocketmqListener, type RocketmqListener } from './rocketmq/server.ts';
import { LogManager } from './storage/log-manager.ts';
import { storageConfig, type Config } from './config/index.ts';
import type { Logger } from './logger.ts';
import type { LogManagerConfig, StorageObserver } from './storage/types.ts';

/** What the server needs of the storage engine; LogManager satisfies it. */
export interface StorageEngine extends StorageView {
  /** Flushes, fsyncs, checkpoints and closes every file. */
  close(): Promise<void>;
}

export interface OpenStorageOptions {
  dir: string;
  config: LogManagerConfig;
  observer: StorageObserver;
}

export type OpenStorage = (options: OpenStorageOptions) => Promise<StorageEngine>;

/** The real storage engine. */
export const openLogManager: OpenStorage = (options) => LogManager.open(options);

export interface ServerOptions {
  logger: Logger;
  /** Defaults to the real LogManager; tests pass a stand-in. */
  openStorage?: OpenStorage;
}

export interface Server {
  /** Where the admin HTTP server listens; `port` is the bound one when 0 was asked for. */
  readonly adminAddress: AdminServer['address'];
  /** Host name the protocol listeners will hand to clients. */
  readonly advertisedHost: string;
  readonly phase: Phase | 'stopped';
  readonly health: Health;
  readonly metrics: BrokerMetrics;
  readonly storage: StorageEngine;
  /**
   * Graceful shutdown: not ready at once, listeners stop accepting and finish
   * in-flight work, storage flushes and closes, then the admin server closes.
   * Idempotent: every call returns the same promise.
   */
  close(): Promise<void>;
}

const WILDCARD_HOSTS = new Set(['0.0.0.0', '::', '[::]']);

export async function startServer(config: Config, options: ServerOptions): Promise<Server> {
  const log = options.logger;
  const serverLog = log.child({ component: 'server' });
  const storageLog = log.child({ component: 'storage' });
  const delayLog = log.child({ component: 'delay' });
  const openStorage = options.openStorage ?? openLogManager;
  const health = new Health();
  const metrics = new BrokerMetrics();
  const advertisedHost = config.advertisedHost ?? (WILDCARD_HOSTS.has(config.host) ? hostname() : config.host);

  // The REST API reaches the broker through this once it is open (503 until then, and once it stops).
  let restBroker: Broker | null = null;

  // Admin HTTP first, so /livez answers and /readyz says 503 while recovery runs.
  const admin = await startAdminServer({
    host: config.host,
    port: config.adminPort,
    health,
    metrics,
    delays: () => restBroker,
    // A value near max.message.bytes, JSON-escaped, must fit in a POST body.
    delayBodyLimitBytes: Math.max(DELAY_BODY_LIMIT_DEFAULT, 2 * config.maxMessageBytes + 65_536),
    logger: log.child({ component: 'admin' }),
  });
  log.child({ component: 'admin' }).info(
    { address: admin.address.host, port: admin.address.port, url: admin.address.url },
    `admin HTTP listening on ${admin.address.url}`,
  );

  const dataDir = resolve(config.dataDir);
  const observer: StorageObserver = {
    onFsync: (durationMs) => metrics.observeFsync(durationMs),
    onTruncate: (logName, segmentBaseOffset, fromPosition, reason) =>
      storageLog.warn({ log: logName, segmentBaseOffset, fromPosition, reason }, 'recovery truncated a torn or corrupt tail'),
    onError: (err, context) => storageLog.error({ err, context }, 'storage background work failed'),
  };
  let storage: StorageEngine;
  try {
    mkdirSync(dataDir, { recursive: true });
    storageLog.info({ dataDir }, 'opening storage (recovery)');
    const started = performance.now();
    storage = await openStorage({ dir: dataDir, config: storageConfig(config), observer });
    const partitions = [...storage.logs()].length;
    storageLog.info(
      {
        dataDir,
        partitions,
        recoveryMs: Math.round(performance.now() - started),
        truncatedBytes: storage.stats.truncatedBytesOnRecovery,
      },
      'storage open, recovery finished',
    );
  } catch (err) {
    await admin.close().catch(() => {});
    throw err;
  }
  metrics.attachStorage(storage);
  health.storageRecovered();
  // The Kafka and RocketMQ listeners will bind here; until then admin is the only one.
  let kafka: KafkaListener | null = null;
  let rocketmq: RocketmqListener | null = null;
  let closeBroker = async (): Promise<void> => {};
  if (storage instanceof LogManager) {
    try {
      const broker = await Broker.open(storage, {
        nodeId: config.nodeId,
        autoCreateTopics: config.autoCreateTopics,
        defaultPartitions: config.defaultPartitions,
        maxMessageBytes: config.maxMessageBytes,
        groupInitialRebalanceDelayMs: config.groupInitialRebalanceDelayMs,
        delayLevels: config.delayLevels,
        delayHorizonMs: config.delayHorizonMs,
        onDelayError: (err, context) => delayLog.error({ err, context }, 'delay service background work failed'),
      });
      restBroker = broker;
      closeBroker = async () => {
        restBroker = null;
        broker.close();
        await broker.offsets.flushDeferred(); // RocketMQ's piggy-backed offsets, before storage closes
      };
      const kafkaLog = log.child({ component: 'kafka' });
      kafka = await startKafkaListener({
        broker,
        host: config.host,
        port: config.kafkaPort,
        advertisedHost,
        nodeId: config.nodeId,
        frameBytesMax: config.kafkaFrameBytesMax,
        logger: kafkaLog,
      });
      kafkaLog.info({ address: kafka.address.host, port: kafka.address.port, advertisedHost }, `kafka listener on ${kafka.address.host}:${kafka.address.port}`);
      const rocketmqLog = log.child({ component: 'rocketmq' });
      rocketmq = await startRocketmqListener({
        broker,
        host: config.host,
        port: config.rocketmqPort,
        advertisedHost,
        brokerName: config.rocketmqBrokerName,
        clusterName: config.rocketmqClusterName,
        frameBytesMax: config.rocketmqFrameBytesMax,
        defaultQueues: config.rocketmqDefaultQueues,
        maxReconsumeTimes: config.rocketmqMaxReconsumeTimes,
        logger: rocketmqLog,
      });
      rocketmqLog.info(
        { address: rocketmq.address.host, port: rocketmq.address.port, advertisedHost, advertisedAddress: rocketmq.advertisedAddress },
        `rocketmq listener on ${rocketmq.address.host}:${rocketmq.address.port} (name server and broker)`,
      );
    } catch (err) {
      restBroker = null;
      await kafka?.close().catch(() => {});
      await storage.close().catch(() => {});
      await admin.close().catch(() => {});
      throw err;
    }
  } else {
    // Tests hand in a storage stand-in; the protocol listeners need the real engine.
    serverLog.warn('storage is not a LogManager: protocol listeners not started');
  }
  health.listenersBound();
  serverLog.info({ adminUrl: admin.address.url, dataDir }, 'ready');

  let phase: Phase | 'stopped' = 'ready';
  let closing: Promise<void> | undefined;
  const close = async (): Promise<void> => {
    phase = 'stopping';
    health.shutdownStarted();
    serverLog.info('shutting down: readiness withdrawn');
    try {
      // Stop accepting, answer what is in flight, then close connections.
      await Promise.all([kafka?.close(), rocketmq?.close()]);
      await closeBroker();
      await storage.close();
      storageLog.info('storage closed: flushed, fsynced, checkpointed');
    } finally {
      // Last, so /readyz reports 503 (not a refused connection) for as long as shutdown runs.
      await admin.close();
      phase = 'stopped';
      serverLog.info('stopped');
    }
  };

  return {
    adminAddress: admin.address,
    advertisedHost,
    get phase() {
      return phase;
    },
    health,
    metrics,
    storage,
    close: () => (closing ??= close()),
  };
}
