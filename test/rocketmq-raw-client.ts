// A minimal RocketMQ remoting client for the listener's tests (not a conformance
// client): pipelined requests matched by opaque, JSON or ROCKETMQ binary headers,
// requests the broker sends (NOTIFY_CONSUMER_IDS_CHANGED...) collected.

import net from 'node:net';
import { decodeCommand, encodeBinaryCommand, encodeJsonRequest, FLAG_ONEWAY, type RemotingCommand } from '../src/protocol/rocketmq/index.ts';

export class RawRemoting {
  readonly socket: net.Socket;
  #buffered = Buffer.alloc(0);
  readonly #waiting = new Map<number, (c: RemotingCommand) => void>();
  readonly serverRequests: RemotingCommand[] = [];
  #opaque = 0;
  closed = false;

  private constructor(socket: net.Socket) {
    this.socket = socket;
    socket.on('data', (chunk: Buffer) => {
      this.#buffered = Buffer.concat([this.#buffered, chunk]);
      while (this.#buffered.length >= 4 && this.#buffered.length >= 4 + this.#buffered.readInt32BE(0)) {
        const size = this.#buffered.readInt32BE(0);
        const command = decodeCommand(Buffer.from(this.#buffered.subarray(4, 4 + size)));
        this.#buffered = this.#buffered.subarray(4 + size);
        if ((command.flag & 1) === 0) this.serverRequests.push(command);
        else this.#waiting.get(command.opaque)?.(command);
      }
    });
    socket.on('close', () => (this.closed = true));
  }

  static connect(port: number): Promise<RawRemoting> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host: '127.0.0.1', port }, () => resolve(new RawRemoting(socket)));
      socket.once('error', reject);
    });
  }

  request(code: number, extFields: Record<string, string | number | boolean>, body?: Buffer | string, binary = false): Promise<RemotingCommand> {
    const opaque = ++this.#opaque;
    const ext = Object.fromEntries(Object.entries(extFields).map(([k, v]) => [k, String(v)]));
    const bytes = typeof body === 'string' ? Buffer.from(body) : (body ?? null);
    const frame = binary ? encodeBinaryCommand({ code, opaque, flag: 0, extFields: ext, body: bytes }) : encodeJsonRequest({ code, opaque, flag: 0, extFields: ext, body: bytes });
    return new Promise((resolve) => {
      this.#waiting.set(opaque, resolve);
      this.socket.write(frame);
    });
  }

  oneway(code: number, extFields: Record<string, string>): void {
    this.socket.write(encodeJsonRequest({ code, opaque: ++this.#opaque, flag: FLAG_ONEWAY, extFields }));
  }

  close(): void {
    this.socket.destroy();
  }
}
