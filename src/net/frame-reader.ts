// Size-prefixed framing shared by the Kafka and RocketMQ listeners: both put a
// big-endian int32 byte count before every frame. Two input paths:
//   - onRead(nread, buf): reads delivered into one buffer the socket reuses
//     (net `onread`); bytes are copied out at once — frames of 4 KiB and more
//     into pooled slabs — so no per-read ArrayBuffer is allocated. Those were,
//     with one 64 KiB buffer per read, the main source of V8 Mark-Compacts
//     under produce load.
//   - onData(chunk): 'data' events (tests, fallback); a chunk list, no
//     Buffer.concat; a frame spanning chunks is copied once.
// A frame whose size is negative or above the cap is reported, not assembled.

import net from 'node:net';
import type { BufferPool } from '../storage/buffer-pool.ts';

export interface FrameReaderOptions {
  /** Largest frame accepted (the size prefix excluded). */
  frameBytesMax: number;
  /** Slabs for frames that span socket reads. */
  pool: BufferPool;
  /**
   * One whole frame (without its size prefix). `slab` is the pooled slab that
   * holds it, if any: the receiver owns it and gives it back to the pool once
   * nothing points into the frame any more.
   */
  onFrame: (frame: Buffer, slab: Buffer | null) => void;
  /** A size prefix out of range: the connection must close; no more frames are delivered. */
  onBadSize: (size: number) => void;
}

const EMPTY_FRAME = Buffer.alloc(0);
/** onRead copies frames at least this large into pooled slabs (smaller ones come from Node's 8 KiB pool or are short-lived). */
const POOLED_FRAME_BYTES_MIN = 4096;

export class FrameReader {
  readonly #options: FrameReaderOptions;
  #stopped = false;
  // onData state: the chunk list and its byte count.
  #chunks: Buffer[] = [];
  #buffered = 0;
  // onRead assembly state: the size prefix so far, the frame being filled and its slab.
  readonly #header = Buffer.alloc(4);
  #headerFill = 0;
  #assembling: Buffer | null = null;
  #assemblingSlab: Buffer | null = null;
  #assembled = 0;

  constructor(options: FrameReaderOptions) {
    this.#options = options;
  }

  /** No frame is delivered after this (the connection closed). */
  stop(): void {
    this.#stopped = true;
    this.#chunks = [];
    this.#buffered = 0;
    if (this.#assemblingSlab !== null) this.#options.pool.give(this.#assemblingSlab);
    this.#assembling = null;
    this.#assemblingSlab = null;
  }

  #badSize(size: number): void {
    this.stop();
    this.#options.onBadSize(size);
  }

  onRead(nread: number, buf: Buffer): void {
    if (this.#stopped || nread <= 0) return;
    let pos = 0;
    while (pos < nread && !this.#stopped) {
      if (this.#assembling === null) {
        let size: number;
        if (this.#headerFill === 0 && nread - pos >= 4) {
          size = buf.readInt32BE(pos);
          pos += 4;
        } else {
          const n = Math.min(4 - this.#headerFill, nread - pos);
          buf.copy(this.#header, this.#headerFill, pos, pos + n);
          this.#headerFill += n;
          pos += n;
          if (this.#headerFill < 4) break;
          this.#headerFill = 0;
          size = this.#header.readInt32BE(0);
        }
        if (size < 0 || size > this.#options.frameBytesMax) {
          this.#badSize(size);
          return;
        }
        const pool = this.#options.pool;
        if (size >= POOLED_FRAME_BYTES_MIN && size <= pool.slabBytes) {
          const slab = pool.take(size);
          this.#assemblingSlab = slab;
          this.#assembling = slab.subarray(0, size);
        } else {
          this.#assembling = size === 0 ? EMPTY_FRAME : Buffer.allocUnsafe(size);
        }
        this.#assembled = 0;
      }
      const frame = this.#assembling;
      const n = Math.min(frame.length - this.#assembled, nread - pos);
      buf.copy(frame, this.#assembled, pos, pos + n);
      this.#assembled += n;
      pos += n;
      if (this.#assembled === frame.length) {
        const slab = this.#assemblingSlab;
        this.#assembling = null;
        this.#assemblingSlab = null;
        this.#options.onFrame(frame, slab);
      }
    }
  }

  onData(chunk: Buffer): void {
    if (this.#stopped) return;
    this.#chunks.push(chunk);
    this.#buffered += chunk.length;
    while (!this.#stopped && this.#buffered >= 4) {
      const size = this.#peekInt32();
      if (size < 0 || size > this.#options.frameBytesMax) {
        this.#badSize(size);
        return;
      }
      if (this.#buffered < 4 + size) break;
      this.#take(4);
      const { frame, slab } = this.#take(size);
      this.#options.onFrame(frame, slab);
    }
  }

  #peekInt32(): number {
    const first = this.#chunks[0]!;
    if (first.length >= 4) return first.readInt32BE(0);
    const tmp = Buffer.allocUnsafe(4);
    let filled = 0;
    for (const c of this.#chunks) {
      const n = Math.min(4 - filled, c.length);
      c.copy(tmp, filled, 0, n);
      filled += n;
      if (filled === 4) break;
    }
    return tmp.readInt32BE(0);
  }

  /** The next n bytes: a view when they sit in one chunk, else one copy (into a pooled slab when it fits). */
  #take(n: number): { frame: Buffer; slab: Buffer | null } {
    if (n === 0) return { frame: EMPTY_FRAME, slab: null };
    this.#buffered -= n;
    const first = this.#chunks[0]!;
    if (first.length >= n) {
      const out = first.subarray(0, n);
      if (first.length === n) this.#chunks.shift();
      else this.#chunks[0] = first.subarray(n);
      return { frame: out, slab: null };
    }
    const pool = this.#options.pool;
    const taken = pool.take(n);
    const slab = taken.length === pool.slabBytes ? taken : null;
    const out = taken.subarray(0, n);
    let filled = 0;
    while (filled < n) {
      const c = this.#chunks[0]!;
      const take = Math.min(n - filled, c.length);
      c.copy(out, filled, 0, take);
      filled += take;
      if (take === c.length) this.#chunks.shift();
      else this.#chunks[0] = c.subarray(take);
    }
    return { frame: out, slab };
  }
}

/**
 * Moves an accepted socket's handle to a new net.Socket that reads into `buffer`
 * (net's `onread` option, which net.Server does not offer for accepted sockets).
 * Falls back to the accepted socket ('data' events) if the handle is not reachable.
 * The server must be created with `pauseOnConnect: true` so the accepted socket
 * has not started reading, and the caller resumes the returned socket.
 */
export function adoptWithOnread(accepted: net.Socket, buffer: Buffer, callback: (nread: number, buf: Buffer) => void): net.Socket {
  const internals = accepted as unknown as { _handle: unknown };
  const handle = internals._handle;
  if (handle === null || handle === undefined) return accepted;
  internals._handle = null;
  // The husk closes without touching the handle; that also keeps the server's connection count right.
  accepted.destroy();
  return new net.Socket({
    handle,
    readable: true,
    writable: true,
    onread: {
      buffer,
      callback: (nread: number, buf: Uint8Array) => {
        callback(nread, buf as Buffer);
        return true;
      },
    },
  } as unknown as net.SocketConstructorOpts);
}
