// The Kafka listener: accepts connections on the Kafka port and hands each to
// a KafkaConnection. close() stops accepting, lets in-flight requests answer
// (long polls are woken), then closes the connections.

import { listenFramed } from '../net/listener.ts';
import type { Broker } from '../broker/broker.ts';
import type { Logger } from '../logger.ts';
import { BufferPool } from '../storage/buffer-pool.ts';
import { KafkaConnection } from './connection.ts';
import { buildHandlerTable } from './handlers/index.ts';
import type { Handler, KafkaServices, ListenerInfo } from './handlers/types.ts';

export interface KafkaListenerOptions {
  broker: Broker;
  host: string;
  port: number;
  /** Host clients are told to connect to; the bound port is advertised unless set. */
  advertisedHost: string;
  advertisedPort?: number;
  nodeId: number;
  frameBytesMax: number;
  logger: Logger;
  /** Requests handled concurrently per connection before it stops reading. */
  inFlightMax?: number;
  extraHandlers?: readonly Handler[];
  services?: KafkaServices;
}

export interface KafkaListener {
  readonly address: { host: string; port: number };
  readonly connectionCount: number;
  close(timeoutMs?: number): Promise<void>;
}

export async function startKafkaListener(options: KafkaListenerOptions): Promise<KafkaListener> {
  const { handlers, apiVersions } = buildHandlerTable(options.extraHandlers);
  // 1 MiB slabs (the default max.partition.fetch.bytes), up to 64 MiB kept free.
  const pool = new BufferPool(1 << 20, 64);
  let listener: ListenerInfo | null = null;
  const framed = await listenFramed<KafkaConnection>({
    host: options.host,
    port: options.port,
    logger: options.logger,
    name: 'kafka',
    accept: (socket, onClose) =>
      new KafkaConnection(socket, {
        broker: options.broker,
        listener: listener!,
        handlers,
        apiVersions,
        services: options.services ?? {},
        logger: options.logger,
        frameBytesMax: options.frameBytesMax,
        inFlightMax: options.inFlightMax ?? 32,
        pool,
        onClose,
      }),
  });
  listener = { nodeId: options.nodeId, advertisedHost: options.advertisedHost, advertisedPort: options.advertisedPort ?? framed.address.port };
  return {
    address: framed.address,
    get connectionCount() {
      return framed.connections.size;
    },
    close: (timeoutMs = 5_000) => framed.close(timeoutMs, () => options.broker.wakeAll()),
  };
}
