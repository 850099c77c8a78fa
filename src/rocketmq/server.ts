// The RocketMQ listener: name-server and broker request codes on one port
// (DESIGN.md §1); routes advertise this same address. close() stops
// accepting, wakes held pulls so they answer, then closes connections.

import net from 'node:net';
import type { Broker } from '../broker/broker.ts';
import type { Logger } from '../logger.ts';
import { adoptWithOnread } from '../net/frame-reader.ts';
import { socketAddressBytes } from '../protocol/rocketmq/index.ts';
import { BufferPool } from '../storage/buffer-pool.ts';
import { RocketmqConnection } from './connection.ts';
import { buildHandlerTable } from './handlers/index.ts';
import { RocketmqState } from './state.ts';

export interface RocketmqListenerOptions {
  broker: Broker;
  host: string;
  port: number;
  /** Host clients are told to connect to (routes, STOREHOST, message ids). */
  advertisedHost: string;
  brokerName: string;
  clusterName: string;
  frameBytesMax: number;
  defaultQueues: number;
  maxReconsumeTimes: number;
  logger: Logger;
  inFlightMax?: number;
}

export interface RocketmqListener {
  readonly address: { host: string; port: number };
  readonly advertisedAddress: string;
  readonly state: RocketmqState;
  readonly connectionCount: number;
  close(timeoutMs?: number): Promise<void>;
}

const READ_BUFFER_BYTES = 256 * 1024;

/** An IPv4 address for STOREHOST: the advertised host when it is one, else what it resolves to, else loopback. */
async function ipv4Of(host: string): Promise<string> {
  if (net.isIPv4(host)) return host;
  try {
    const { lookup } = await import('node:dns/promises');
    const found = await lookup(host, { family: 4 });
    return found.address;
  } catch {
    return '127.0.0.1';
  }
}

export async function startRocketmqListener(options: RocketmqListenerOptions): Promise<RocketmqListener> {
  const handlers = buildHandlerTable();
  const connections = new Set<RocketmqConnection>();
  const pool = new BufferPool(1 << 20, 32);
  const server = net.createServer({ pauseOnConnect: true });
  const readBuffer = Buffer.allocUnsafe(READ_BUFFER_BYTES);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: options.host, port: options.port }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const bound = server.address() as net.AddressInfo;
  const advertisedAddress = `${options.advertisedHost}:${bound.port}`;
  const storeHost = socketAddressBytes(await ipv4Of(options.advertisedHost), bound.port);
  const state = new RocketmqState({
    broker: options.broker,
    brokerName: options.brokerName,
    clusterName: options.clusterName,
    advertisedAddress,
    storeHost,
    defaultQueues: options.defaultQueues,
    maxReconsumeTimes: options.maxReconsumeTimes,
    logger: options.logger,
    pool,
  });
  const log = options.logger;
  server.on('connection', (accepted) => {
    let connection: RocketmqConnection | null = null;
    const socket = adoptWithOnread(accepted, readBuffer, (nread, buf) => connection?.onRead(nread, buf));
    connection = new RocketmqConnection(socket, {
      state,
      handlers,
      logger: log,
      frameBytesMax: options.frameBytesMax,
      inFlightMax: options.inFlightMax ?? 4096,
      pool,
      onClose: (c) => connections.delete(c),
    });
    connections.add(connection);
    socket.resume();
  });
  server.on('error', (err) => log.error({ err }, 'rocketmq listener error'));
  return {
    address: { host: bound.address, port: bound.port },
    advertisedAddress,
    state,
    get connectionCount() {
      return connections.size;
    },
    async close(timeoutMs = 5_000) {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const c of connections) c.stopReading();
      options.broker.wakeAll();
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline && [...connections].some((c) => c.inFlight > 0)) {
        await new Promise((resolve) => setTimeout(resolve, 10));
        options.broker.wakeAll();
      }
      for (const c of connections) c.close('shutdown');
      state.close();
      await closed;
    },
  };
}
