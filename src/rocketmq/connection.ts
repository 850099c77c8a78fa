// One RocketMQ remoting connection (rocketmq-remoting.md §1): size-prefixed
// frames (shared FrameReader), requests handled as they arrive and answered
// as soon as each is ready — out of order, which long-polled pulls need —
// matched by `opaque`. Oneway requests get no answer. The broker also sends
// requests to the client on this connection (NOTIFY_CONSUMER_IDS_CHANGED).
//
// Bad input: an undecodable frame or one over the frame cap closes this
// connection only (as a Java server does); an unknown request code gets
// REQUEST_CODE_NOT_SUPPORTED; a missing required header field gets
// SYSTEM_ERROR with "the custom field <x> is null", like the Java broker.

import type { Socket } from 'node:net';
import type { Logger } from '../logger.ts';
import type { BufferPool } from '../storage/buffer-pool.ts';
import { FrameReader } from '../net/frame-reader.ts';
import {
  commandHeaderJson,
  decodeCommand,
  FLAG_ONEWAY,
  framePrefixAndHeaderBytesMax,
  FLAG_RESPONSE,
  isOneway,
  isResponse,
  RemotingDecodeError,
  ResponseCode,
  writeFrameHead,
  type OutgoingCommand,
  type RemotingCommand,
} from '../protocol/rocketmq/index.ts';
import type { ClientChannel } from './clients.ts';
import type { RocketmqState } from './state.ts';
import { HeaderError, NO_REPLY, type Reply, type RequestContext, type RocketmqHandler } from './handlers/types.ts';
import { SubscriptionParseError } from './subscription.ts';
import { BrokerError, type BrokerErrorCode } from '../broker/errors.ts';
import { rocketmqCode } from './error-codes.ts';

export interface RocketmqConnectionOptions {
  state: RocketmqState;
  handlers: ReadonlyMap<number, RocketmqHandler>;
  logger: Logger;
  frameBytesMax: number;
  /** Requests in progress (held pulls included) before reading pauses. */
  inFlightMax: number;
  pool: BufferPool;
  onClose: (connection: RocketmqConnection) => void;
}

const WRITE_BUFFER_HIGH_BYTES = 8 * 1024 * 1024;
/** Broker errors a request causes (answered with their code and message, not logged as failures). */
const CLIENT_ERRORS = new Set<BrokerErrorCode>(['INVALID_TOPIC', 'INVALID_PARTITIONS', 'INVALID_CONFIG', 'INVALID_REQUEST']);
/** Broker→client requests awaiting an answer (GET_CONSUMER_RUNNING_INFO relays); bounded. */
const PENDING_REQUESTS_MAX = 1024;
/**
 * Frame heads of a turn are written into one buffer sized from the previous turn's
 * (twice it, within these bounds): a turn of ~100 send answers takes ~30 KiB, a quiet
 * connection (heartbeats) keeps a small one.
 */
const OUT_ARENA_BYTES_MIN = 4 * 1024;
const OUT_ARENA_BYTES_MAX = 64 * 1024;

export class RocketmqConnection implements ClientChannel {
  readonly socket: Socket;
  readonly remote: string;
  readonly #options: RocketmqConnectionOptions;
  readonly #log: Logger;
  readonly #frames: FrameReader;
  readonly #pending = new Map<number, { resolve: (c: RemotingCommand) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }>();
  #nextOpaque = 1;
  #inFlight = 0;
  #paused = false;
  #closed = false;
  #stopped = false;
  #loggedBadInput = false;
  #corked = false;
  /**
   * Frame heads (size, header length, JSON header) are written back to back here and
   * leave as one chunk: [#outStart, #outEnd) is written but not yet handed to the
   * socket; what lies before #outStart belongs to the socket until it is sent.
   */
  #out: Buffer | null = null;
  #outStart = 0;
  #outEnd = 0;
  /** Frame-head bytes written in the current turn and in the one before (sizes the next buffer). */
  #outTurnBytes = 0;
  #outLastTurnBytes = 0;

  constructor(socket: Socket, options: RocketmqConnectionOptions) {
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
    socket.on('data', (chunk: Buffer) => {
      if (this.#closed) return;
      this.#frames.onData(chunk);
      this.#pauseIfBusy();
    });
    socket.on('drain', () => this.#maybeResume());
    socket.on('error', (err) => this.#log.debug({ err }, 'socket error'));
    socket.on('close', () => this.#onClosed());
  }

  get closed(): boolean {
    return this.#closed;
  }

  get inFlight(): number {
    return this.#inFlight;
  }

  onRead(nread: number, buf: Buffer): void {
    if (this.#closed) return;
    this.#frames.onRead(nread, buf);
    this.#pauseIfBusy();
  }

  close(reason?: string): void {
    if (this.#closed) return;
    if (reason !== undefined) this.#log.debug({ reason }, 'closing connection');
    this.#flushOut(); // answers given before the close reach the socket, as if written one by one
    this.#onClosed();
    this.socket.destroy();
  }

  #onClosed(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#frames.stop();
    for (const p of this.#pending.values()) {
      clearTimeout(p.timer);
      p.reject(new Error('connection closed'));
    }
    this.#pending.clear();
    this.#options.state.clients.channelClosed(this);
    this.#options.onClose(this);
  }

  stopReading(): void {
    this.#stopped = true;
    this.socket.pause();
    this.#paused = true;
  }

  #badInput(reason: string, details?: object): void {
    if (!this.#loggedBadInput) {
      this.#loggedBadInput = true;
      this.#log.warn({ reason, ...details }, 'closing connection after bad input');
    }
    this.close();
  }

  #pauseIfBusy(): void {
    if (this.#inFlight >= this.#options.inFlightMax && !this.#paused) {
      this.socket.pause();
      this.#paused = true;
    }
  }

  #maybeResume(): void {
    if (!this.#paused || this.#closed || this.#stopped) return;
    if (this.#inFlight < this.#options.inFlightMax && this.socket.writableLength < WRITE_BUFFER_HIGH_BYTES) {
      this.#paused = false;
      this.socket.resume();
    }
  }

  #dispatch(frame: Buffer, slab: Buffer | null): void {
    let command: RemotingCommand;
    try {
      command = decodeCommand(frame);
    } catch (err) {
      if (!(err instanceof RemotingDecodeError)) throw err;
      if (slab !== null) this.#options.pool.give(slab);
      this.#badInput('undecodable frame', { err: err.message });
      return;
    }
    if (isResponse(command)) {
      if (slab !== null) this.#options.pool.give(slab);
      const pending = this.#pending.get(command.opaque);
      if (pending !== undefined) {
        this.#pending.delete(command.opaque);
        clearTimeout(pending.timer);
        pending.resolve(command);
      }
      return;
    }
    const oneway = isOneway(command);
    const handler = this.#options.handlers.get(command.code);
    if (handler === undefined) {
      if (slab !== null) this.#options.pool.give(slab);
      if (!oneway) this.#write(command, { code: ResponseCode.REQUEST_CODE_NOT_SUPPORTED, remark: ` request type ${command.code} not supported` });
      return;
    }
    this.#inFlight++;
    const ctx: RequestContext = { state: this.#options.state, connection: this, logger: this.#log };
    const finish = (reply: Reply | typeof NO_REPLY): void => {
      this.#inFlight--;
      if (!oneway && reply !== NO_REPLY) this.#write(command, reply);
      // Nothing points into the frame any more: the handler copied what it stores.
      if (slab !== null) this.#options.pool.give(slab);
      this.#maybeResume();
    };
    const fail = (err: unknown): void => finish(this.#errorReply(err, command));
    let result;
    try {
      result = handler.handle(ctx, command);
    } catch (err) {
      fail(err);
      return;
    }
    if (result instanceof Promise) result.then(finish, fail);
    else finish(result);
  }

  #errorReply(err: unknown, command: RemotingCommand): Reply {
    if (err instanceof HeaderError) return { code: ResponseCode.SYSTEM_ERROR, remark: err.message };
    if (err instanceof SubscriptionParseError) return { code: ResponseCode.SUBSCRIPTION_PARSE_FAILED, remark: err.message };
    // The request named something the broker refuses (a retry topic for an illegal group name...): the client's error.
    if (err instanceof BrokerError && CLIENT_ERRORS.has(err.code)) return { code: rocketmqCode(err.code), remark: err.message };
    this.#log.error({ err, code: command.code }, 'rocketmq request handler failed');
    return { code: ResponseCode.SYSTEM_ERROR, remark: `request ${command.code} failed: ${(err as Error)?.message ?? String(err)}` };
  }

  #write(request: RemotingCommand, reply: Reply): void {
    if (this.#closed) return;
    const body = reply.body === undefined || reply.body === null ? null : Buffer.isBuffer(reply.body) ? reply.body : null;
    const chunks = reply.body !== undefined && reply.body !== null && !Buffer.isBuffer(reply.body) ? (reply.body as readonly Buffer[]) : null;
    const command: OutgoingCommand = { code: reply.code, opaque: request.opaque, flag: FLAG_RESPONSE, remark: reply.remark ?? null, extFields: reply.extFields ?? null };
    this.#emit(command, body, chunks);
    const socket = this.socket;
    if (socket.writableLength >= WRITE_BUFFER_HIGH_BYTES && !this.#paused) {
      socket.pause();
      this.#paused = true;
    }
  }

  /**
   * Queues one frame: its head in the turn's out buffer, then its body (one buffer or
   * chunks) as they are — never copied. Leaves on the next tick (#corkUntilTick).
   */
  #emit(command: OutgoingCommand, body: Buffer | null, chunks: readonly Buffer[] | null): void {
    let bodyBytes = body === null ? 0 : body.length;
    if (chunks !== null) for (const c of chunks) bodyBytes += c.length;
    this.#corkUntilTick();
    const json = commandHeaderJson(command);
    const need = framePrefixAndHeaderBytesMax(json);
    let out = this.#out;
    if (out === null || this.#outEnd + need > out.length) {
      this.#flushOut();
      const wanted = Math.min(OUT_ARENA_BYTES_MAX, Math.max(OUT_ARENA_BYTES_MIN, 2 * Math.max(this.#outLastTurnBytes, this.#outTurnBytes)));
      out = this.#out = Buffer.allocUnsafe(Math.max(wanted, need));
      this.#outStart = this.#outEnd = 0;
    }
    const written = writeFrameHead(out, this.#outEnd, json, bodyBytes);
    this.#outEnd += written;
    this.#outTurnBytes += written;
    if (bodyBytes === 0) return;
    this.#flushOut(); // the head goes before its body
    const socket = this.socket;
    if (body !== null) socket.write(body);
    if (chunks !== null) for (const c of chunks) if (c.length > 0) socket.write(c);
  }

  /**
   * A buffer with less than a quarter left is let go, and so is one far larger than this
   * turn needed (a connection gone quiet keeps a small one): the next turn takes a fresh one.
   */
  #endOutTurn(): void {
    const turnBytes = this.#outTurnBytes;
    this.#outLastTurnBytes = turnBytes;
    this.#outTurnBytes = 0;
    const out = this.#out;
    if (out === null) return;
    if (out.length - this.#outEnd < out.length / 4 || out.length > 4 * Math.max(OUT_ARENA_BYTES_MIN, turnBytes)) this.#out = null;
  }

  /** Hands the written part of the out buffer to the socket (it is not written into again). */
  #flushOut(): void {
    if (this.#outEnd === this.#outStart) return;
    this.socket.write(this.#out!.subarray(this.#outStart, this.#outEnd));
    this.#outStart = this.#outEnd;
  }

  /**
   * Responses finished in the same turn (a read full of sends, answered
   * synchronously or in one microtask drain) leave in one writev: cork at the
   * first, uncork on the next tick, which runs once the microtask queue is
   * empty. Staged appends are committed to the page cache just before: a send
   * is answered only once its bytes are there, and one write covers the turn.
   */
  #corkUntilTick(): void {
    if (this.#corked) return;
    this.#corked = true;
    this.socket.cork();
    process.nextTick(() => {
      this.#corked = false;
      this.#options.state.broker.commitStaged();
      if (!this.#closed) this.#flushOut();
      this.#endOutTurn();
      this.socket.uncork();
    });
  }

  /** A oneway request to the client (NOTIFY_CONSUMER_IDS_CHANGED, CHECK_TRANSACTION_STATE). */
  sendOneway(code: number, extFields: Record<string, string>, body?: Buffer): void {
    if (this.#closed) return;
    this.#emit({ code, opaque: this.#nextOpaque++, flag: FLAG_ONEWAY, extFields }, body ?? null, null);
  }

  /** A request to the client with its answer (GET_CONSUMER_RUNNING_INFO relays). */
  request(code: number, extFields: Record<string, string>, timeoutMs: number): Promise<RemotingCommand> {
    if (this.#closed) return Promise.reject(new Error('connection closed'));
    if (this.#pending.size >= PENDING_REQUESTS_MAX) return Promise.reject(new Error('too many requests to this client in flight'));
    const opaque = this.#nextOpaque++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(opaque);
        reject(new Error(`client did not answer request ${code} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#pending.set(opaque, { resolve, reject, timer });
      this.#emit({ code, opaque, flag: 0, extFields }, null, null);
    });
  }
}
