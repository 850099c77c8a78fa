// One client connection: size-prefixed framing over a chunk list (no
// Buffer.concat on the common path), requests decoded and handled as they
// arrive (pipelining), responses written strictly in request order, and
// backpressure: reading pauses while too many requests are in flight or the
// socket's write buffer is full.
//
// Bad input is answered as Kafka does (SocketServer.parseRequestHeader): an
// unknown API key, an unsupported version or an undecodable request closes the
// connection without a response; an ApiVersions request at a too-new version
// gets an ApiVersions v0 UNSUPPORTED_VERSION answer (KIP-511). Nothing a
// connection receives can disturb another connection or stored data.

import type { Socket } from 'node:net';
import { Reader, Writer, KafkaDecodeError } from '../protocol/kafka/codec/index.ts';
import { apiByKey, readRequestHeader, writeResponseHeader } from '../protocol/kafka/generated/apis.ts';
import { encodeApiVersionsResponse } from '../protocol/kafka/generated/api-versions-response.ts';
import type { Logger } from '../logger.ts';
import type { Broker } from '../broker/broker.ts';
import type { BufferPool } from '../storage/buffer-pool.ts';
import { FrameReader } from '../net/frame-reader.ts';
import { KAFKA_ERROR } from './error-codes.ts';
import { NO_RESPONSE, type Handler, type KafkaServices, type ListenerInfo, type RequestContext } from './handlers/types.ts';

export interface ConnectionOptions {
  broker: Broker;
  listener: ListenerInfo;
  handlers: ReadonlyMap<number, Handler>;
  /** ApiVersions entries advertised (computed once from the handler table). */
  apiVersions: ReadonlyArray<{ apiKey: number; minVersion: number; maxVersion: number }>;
  services: KafkaServices;
  logger: Logger;
  /** Frames larger than this close the connection (Kafka socket.request.max.bytes). */
  frameBytesMax: number;
  /** Requests handled concurrently before reading pauses. */
  inFlightMax: number;
  /** Slabs for frames that span socket reads and for fetch reads. */
  pool: BufferPool;
  onClose: (connection: KafkaConnection) => void;
}

interface Slot {
  correlationId: number;
  apiKey: number;
  apiVersion: number;
  /** Encoded response body (header written at send time); null while pending. */
  body: Buffer[] | null;
  bodyLength: number;
  noResponse: boolean;
  done: boolean;
  /** Run once the response is in the socket (pooled buffers go back then). */
  afterWrite: Array<() => void> | null;
}

const WRITE_BUFFER_HIGH_BYTES = 8 * 1024 * 1024;

function runAll(fns: ReadonlyArray<() => void>): void {
  for (const fn of fns) fn();
}

export class KafkaConnection {
  readonly socket: Socket;
  readonly remote: string;
  readonly #options: ConnectionOptions;
  readonly #log: Logger;
  #slots: Slot[] = [];
  #slotsHead = 0;
  #inFlight = 0;
  #paused = false;
  #closed = false;
  #stopped = false;
  #loggedBadInput = false;
  readonly #frames: FrameReader;

  constructor(socket: Socket, options: ConnectionOptions) {
    this.socket = socket;
    this.#options = options;
    this.remote = `${socket.remoteAddress}:${socket.remotePort}`;
    this.#log = options.logger.child({ remote: this.remote });
    socket.setNoDelay(true);
    this.#frames = new FrameReader({
      frameBytesMax: options.frameBytesMax,
      pool: options.pool,
      onFrame: (frame, slab) => this.#dispatch(frame, slab),
      onBadSize: (size) => this.#badInput('frame size out of range', { size, frameBytesMax: options.frameBytesMax }),
    });
    // A socket created with `onread` never emits 'data'; one without does (tests, fallback).
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    socket.on('drain', () => this.#maybeResume());
    socket.on('error', (err) => this.#log.debug({ err }, 'socket error'));
    socket.on('close', () => {
      this.#closed = true;
      this.#frames.stop();
      options.onClose(this);
    });
  }

  get inFlight(): number {
    return this.#inFlight;
  }

  /** Closes the connection (after bad input, or at shutdown). */
  close(reason?: string): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#frames.stop();
    if (reason !== undefined) this.#log.debug({ reason }, 'closing connection');
    this.socket.destroy();
  }

  /** Stops reading for good; in-flight requests still get their responses (graceful shutdown). */
  stopReading(): void {
    this.#stopped = true;
    this.socket.pause();
    this.#paused = true;
  }

  #badInput(reason: string, details?: object): void {
    // Logged once per connection: a misbehaving client must not flood the log.
    if (!this.#loggedBadInput) {
      this.#loggedBadInput = true;
      this.#log.warn({ reason, ...details }, 'closing connection after bad input');
    }
    this.close();
  }

  /** Reads delivered into the listener's shared buffer (net `onread`); see FrameReader. */
  onRead(nread: number, buf: Buffer): void {
    if (this.#closed) return;
    this.#frames.onRead(nread, buf);
    this.#pauseIfBusy();
  }

  #onData(chunk: Buffer): void {
    if (this.#closed) return;
    this.#frames.onData(chunk);
    this.#pauseIfBusy();
  }

  #pauseIfBusy(): void {
    if (this.#inFlight >= this.#options.inFlightMax && !this.#paused) {
      this.socket.pause();
      this.#paused = true;
    }
  }

  #dispatch(frame: Buffer, frameSlab: Buffer | null): void {
    if (frame.length < 8) {
      this.#badInput('request shorter than a header', { bytes: frame.length });
      return;
    }
    const apiKey = frame.readInt16BE(0);
    const apiVersion = frame.readInt16BE(2);
    const correlationId = frame.readInt32BE(4);
    const handler = this.#options.handlers.get(apiKey);
    const spec = apiByKey(apiKey);
    if (handler === undefined || spec === undefined) {
      this.#badInput('unsupported API key', { apiKey, apiVersion });
      return;
    }
    const reader = new Reader(frame);
    let clientId: string | null;
    try {
      clientId = readRequestHeader(reader).clientId;
    } catch (err) {
      this.#badInput('undecodable request header', { apiKey, apiVersion, err: (err as Error).message });
      return;
    }
    if (apiVersion > handler.maxVersion || apiVersion < (handler.advertisedMinVersion ?? handler.minVersion)) {
      if (apiKey === 18) {
        this.#answerApiVersionsUnsupported(correlationId);
        return;
      }
      this.#badInput('unsupported API version', { apiKey, apiVersion, min: handler.minVersion, max: handler.maxVersion });
      return;
    }
    if (apiVersion < handler.minVersion) {
      // Advertised for old librdkafka's feature checks (KAFKA-18659) but not served: close, as Kafka 4 does.
      this.#badInput('API version advertised but not served', { apiKey, apiVersion });
      return;
    }
    let request: unknown;
    try {
      request = spec.decodeRequest(reader, apiVersion);
    } catch (err) {
      if (!(err instanceof KafkaDecodeError)) throw err;
      this.#badInput('undecodable request', { apiKey, apiVersion, err: err.message });
      return;
    }
    const slot: Slot = { correlationId, apiKey, apiVersion, body: null, bodyLength: 0, noResponse: false, done: false, afterWrite: null };
    const pool = this.#options.pool;
    // Staged appends may still point into the frame: it goes back only after the
    // response is written, and #writeReady commits staged appends before that.
    if (frameSlab !== null) slot.afterWrite = [() => pool.give(frameSlab)];
    this.#slots.push(slot);
    this.#inFlight++;
    const ctx: RequestContext = {
      broker: this.#options.broker,
      listener: this.#options.listener,
      clientId,
      clientHost: this.socket.remoteAddress ?? '',
      apiVersion,
      logger: this.#log,
      services: this.#options.services,
      pool,
      afterResponseWritten: (fn) => (slot.afterWrite ??= []).push(fn),
    };
    let result: unknown;
    try {
      result = handler.handle(ctx, request);
    } catch (err) {
      this.#handlerFailed(err, apiKey, apiVersion);
      return;
    }
    if (result instanceof Promise) {
      result.then(
        (response) => this.#complete(slot, response, spec.encodeResponse),
        (err: unknown) => this.#handlerFailed(err, apiKey, apiVersion),
      );
    } else {
      this.#complete(slot, result, spec.encodeResponse);
    }
  }

  #handlerFailed(err: unknown, apiKey: number, apiVersion: number): void {
    // A handler bug: close this connection only (the client retries elsewhere or reconnects).
    this.#log.error({ err, apiKey, apiVersion }, 'request handler failed');
    this.close();
  }

  #answerApiVersionsUnsupported(correlationId: number): void {
    const slot: Slot = { correlationId, apiKey: 18, apiVersion: 0, body: null, bodyLength: 0, noResponse: false, done: false, afterWrite: null };
    this.#slots.push(slot);
    this.#inFlight++;
    const entry = this.#options.apiVersions.find((a) => a.apiKey === 18)!;
    this.#complete(slot, { errorCode: KAFKA_ERROR.UNSUPPORTED_VERSION, apiKeys: [{ apiKey: 18, minVersion: entry.minVersion, maxVersion: entry.maxVersion }], throttleTimeMs: 0 }, (w, m, v) =>
      encodeApiVersionsResponse(w, m as never, v),
    );
  }

  #complete(slot: Slot, response: unknown, encode: (w: Writer, msg: never, version: number) => void): void {
    if (this.#closed) return;
    slot.done = true;
    this.#inFlight--;
    if (response === NO_RESPONSE) {
      slot.noResponse = true;
    } else {
      const w = new Writer();
      writeResponseHeader(w, slot.apiKey, slot.apiVersion, slot.correlationId);
      try {
        encode(w, response as never, slot.apiVersion);
      } catch (err) {
        this.#handlerFailed(err, slot.apiKey, slot.apiVersion);
        return;
      }
      const out = w.finish();
      slot.body = out.chunks;
      slot.bodyLength = out.length;
    }
    this.#writeReady();
    this.#maybeResume();
  }

  /** Writes every finished response at the head of the queue, in request order. */
  #writeReady(): void {
    const slots = this.#slots;
    if (this.#slotsHead >= slots.length || !slots[this.#slotsHead]!.done) return;
    // acks=1 answers only after the appended bytes reached the page cache.
    this.#options.broker.commitStaged();
    const socket = this.socket;
    socket.cork();
    while (this.#slotsHead < slots.length && slots[this.#slotsHead]!.done) {
      const slot = slots[this.#slotsHead++]!;
      const after = slot.afterWrite;
      if (slot.noResponse || slot.body === null) {
        if (after !== null) for (const fn of after) fn();
        continue;
      }
      const size = Buffer.allocUnsafe(4);
      size.writeInt32BE(slot.bodyLength, 0);
      socket.write(size);
      const body = slot.body;
      for (let i = 0; i < body.length - 1; i++) socket.write(body[i]!);
      if (body.length > 0) {
        if (after === null) socket.write(body[body.length - 1]!);
        else socket.write(body[body.length - 1]!, () => runAll(after));
      } else if (after !== null) runAll(after);
    }
    socket.uncork();
    if (socket.writableLength >= WRITE_BUFFER_HIGH_BYTES && !this.#paused) {
      socket.pause(); // the client reads slower than it asks: stop reading until 'drain'
      this.#paused = true;
    }
    if (this.#slotsHead === slots.length) {
      this.#slots = [];
      this.#slotsHead = 0;
    } else if (this.#slotsHead > 64) {
      this.#slots = slots.slice(this.#slotsHead);
      this.#slotsHead = 0;
    }
  }

  #maybeResume(): void {
    if (!this.#paused || this.#closed || this.#stopped) return;
    if (this.#inFlight < this.#options.inFlightMax && this.socket.writableLength < WRITE_BUFFER_HIGH_BYTES) {
      this.#paused = false;
      this.socket.resume();
    }
  }
}
