// The Kafka listener: accepts connections on the Kafka port and hands each to
// a KafkaConnection. close() stops accepting, lets in-flight requests answer
// (long polls are woken), then closes the connections.

import net from 'node:net';
import { adoptWithOnread } from '../net/frame-reader.ts';
import type { Broker } from '../broker/broker.ts';
import type { Logger } from '../logger.ts';
import { BufferPool } from '../storage/buffer-pool.ts';
import { KafkaConnection } from './connection.ts';
import { buildHandlerTable } from './handlers/index.ts';
import type { Handler, KafkaServices } from './handlers/types.ts';

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

/** One read buffer for every connection: onread callbacks copy out synchronously, one at a time. */
const READ_BUFFER_BYTES = 256 * 1024;

export async function startKafkaListener(options: KafkaListenerOptions): Promise<KafkaListener> {
  const { handlers, apiVersions } = buildHandlerTable(options.extraHandlers);
  const connections = new Set<KafkaConnection>();
  // 1 MiB slabs (the default max.partition.fetch.bytes), up to 64 MiB kept free.
  const pool = new BufferPool(1 << 20, 64);
  // pauseOnConnect: the accepted socket must not start reading before its
  // handle moves to a socket that reads into one reused buffer (see adoptWithOnread).
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
  const listener = { nodeId: options.nodeId, advertisedHost: options.advertisedHost, advertisedPort: options.advertisedPort ?? bound.port };
  const log = options.logger;
  server.on('connection', (accepted) => {
    let connection: KafkaConnection | null = null;
    const socket = adoptWithOnread(accepted, readBuffer, (nread, buf) => connection?.onRead(nread, buf));
    connection = new KafkaConnection(socket, {
      broker: options.broker,
      listener,
      handlers,
      apiVersions,
      services: options.services ?? {},
      logger: log,
      frameBytesMax: options.frameBytesMax,
      inFlightMax: options.inFlightMax ?? 32,
      pool,
      onClose: (c) => connections.delete(c),
    });
    connections.add(connection);
    socket.resume();
  });
  server.on('error', (err) => log.error({ err }, 'kafka listener error'));
  return {
    address: { host: bound.address, port: bound.port },
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
      await closed;
    },
  };
}
