// The RocketMQ listener: name-server and broker request codes on one port
// (DESIGN.md §1); routes advertise this same address. close() stops
// accepting, wakes held pulls so they answer, then closes connections.

import net from 'node:net';
import { listenFramed } from '../net/listener.ts';
import type { Broker } from '../broker/broker.ts';
import type { Logger } from '../logger.ts';
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
  const pool = new BufferPool(1 << 20, 32);
  const storeIp = await ipv4Of(options.advertisedHost);
  // Set right after the bind, before the event loop can deliver a connection.
  let state: RocketmqState | null = null;
  const framed = await listenFramed<RocketmqConnection>({
    host: options.host,
    port: options.port,
    logger: options.logger,
    name: 'rocketmq',
    accept: (socket, onClose) =>
      new RocketmqConnection(socket, {
        state: state!,
        handlers,
        logger: options.logger,
        frameBytesMax: options.frameBytesMax,
        inFlightMax: options.inFlightMax ?? 4096,
        pool,
        onClose,
      }),
  });
  const port = framed.address.port;
  const advertisedAddress = `${options.advertisedHost}:${port}`;
  const storeHost = socketAddressBytes(storeIp, port);
  state = new RocketmqState({
    broker: options.broker,
    brokerName: options.brokerName,
    clusterName: options.clusterName,
    advertisedAddress,
    storeHost,
    defaultQueues: options.defaultQueues,
    maxReconsumeTimes: options.maxReconsumeTimes,
    logger: options.logger,
  });
  const ready = state;
  return {
    address: framed.address,
    advertisedAddress,
    state: ready,
    get connectionCount() {
      return framed.connections.size;
    },
    async close(timeoutMs = 5_000) {
      await framed.close(timeoutMs, () => options.broker.wakeAll());
      ready.close();
    },
  };
}
