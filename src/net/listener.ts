// A TCP listener for size-prefixed protocols (Kafka, RocketMQ): binds, hands
// each accepted socket — moved onto one shared read buffer (adoptWithOnread)
// — to a protocol connection, tracks the connections, and closes gracefully:
// stop accepting and reading, let in-flight requests answer (long polls are
// woken), then close what is left.

import net from 'node:net';
import type { Logger } from '../logger.ts';
import { adoptWithOnread } from './frame-reader.ts';

/** What the listener needs of a protocol connection. */
export interface ListenerConnection {
  onRead(nread: number, buf: Buffer): void;
  stopReading(): void;
  close(reason?: string): void;
  readonly inFlight: number;
}

export interface FramedListener<C extends ListenerConnection> {
  readonly address: { host: string; port: number };
  readonly connections: ReadonlySet<C>;
  /** Graceful close; `wake` answers parked requests (the broker's long polls) so they finish. */
  close(timeoutMs: number, wake: () => void): Promise<void>;
}

/** One read buffer for every connection: onread callbacks copy out synchronously, one at a time. */
const READ_BUFFER_BYTES = 256 * 1024;

export async function listenFramed<C extends ListenerConnection>(options: {
  host: string;
  port: number;
  logger: Logger;
  /** Names the listener in its error log line. */
  name: string;
  /** Builds the connection for a socket; it must call `onClose` once when it ends. */
  accept: (socket: net.Socket, onClose: (connection: C) => void) => C;
}): Promise<FramedListener<C>> {
  const connections = new Set<C>();
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
  server.on('connection', (accepted) => {
    let connection: C | null = null;
    const socket = adoptWithOnread(accepted, readBuffer, (nread, buf) => connection?.onRead(nread, buf));
    connection = options.accept(socket, (c) => connections.delete(c));
    connections.add(connection);
    socket.resume();
  });
  server.on('error', (err) => options.logger.error({ err }, `${options.name} listener error`));
  return {
    address: { host: bound.address, port: bound.port },
    connections,
    async close(timeoutMs, wake) {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const c of connections) c.stopReading();
      wake();
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline && [...connections].some((c) => c.inFlight > 0)) {
        await new Promise((resolve) => setTimeout(resolve, 10));
        wake();
      }
      for (const c of connections) c.close('shutdown');
      await closed;
    },
  };
}
