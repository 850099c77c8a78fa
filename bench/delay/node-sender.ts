// A light sender for bench/delay (`--sender node`): the same messages as the Java driver (bench/delay/java), sent as
// raw RocketMQ SEND_MESSAGE_V2 (310) requests with JSON headers over pipelined connections, from this process. The
// rocketmq-client 5.3.3 producer spends ~20 µs of CPU per asynchronous send; on a 2-core machine shared with the
// broker that caps what the Java driver can offer at ~50-70k/s. This sender costs a few µs per message, so the
// schedule rate it measures is closer to the broker's own. Both brokers get identical frames.
//
// Written for this benchmark, independent of Diglot's own protocol code (a shared encoder bug would hide itself).

import net from 'node:net';
import { randomBytes } from 'node:crypto';

const SEND_MESSAGE_V2 = 310;
/** The client version in request headers: rocketmq-client 5.3.3's MQVersion.CURRENT_VERSION. */
const CLIENT_VERSION = 479;

export interface SenderOptions {
  /** Broker port on 127.0.0.1 (Apache: the broker, not the name server; Diglot: its RocketMQ port). */
  port: number;
  topic: string;
  queues: number;
  messages: number;
  bodyBytes: number;
  /** Unacknowledged requests at most, over all connections. */
  inflight: number;
  connections: number;
  /** false: no TIMER_DELIVER_MS (plain sends). */
  timer: boolean;
  seqBase: number;
  /** Due times: windowStartMs + (mix(seed, seq) mod windowMs), as DelayBench.java. */
  seed: number;
  windowStartMs: number;
  windowMs: number;
  /** BENCH_RUN of the measured messages. */
  runTag: string;
  /** Uncounted messages first (BENCH_RUN = runTag + "-warmup", due 1.5 s after they are sent); then `afterWarmup`. */
  warmup: number;
  afterWarmup?: () => Promise<void>;
  maxAttempts?: number;
  /** A whole-run bound (ms): outstanding sends fail after it. */
  timeoutMs?: number;
  log?: (line: string) => void;
}

/** The schedule half of the driver's JSON (same names). */
export interface SenderResult {
  messages: number;
  scheduled: number;
  sendFailed: number;
  sendRetries: number;
  firstSendError?: string;
  firstSendMs: number;
  lastAckMs: number;
  scheduleSeconds: number;
  scheduleRate: number;
  windowStartMs: number;
  windowMs: number;
  leadMs: number;
  sentAfterDue: number;
  ackedAfterWindowStart: number;
  warmupMessages?: number;
  warmupScheduled?: number;
  warmupMs?: number;
  sender: 'node';
  connections: number;
  inflight: number;
}

const M64 = (1n << 64n) - 1n;

/** SplitMix64 finaliser over (seed, seq), as DelayBench.mix: the same due times as the Java driver. */
export function mix(seed: bigint, seq: bigint): bigint {
  let z = (seed * 0x9e3779b97f4a7c15n + seq * 0xbf58476d1ce4e5b9n + 0x94d049bb133111ebn) & M64;
  z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & M64;
  z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & M64;
  return BigInt.asIntN(64, z ^ (z >> 31n));
}

/** Java's Math.floorMod(mix, windowMs) for every message, computed before the clock starts. */
function dueOffsets(seed: number, seqBase: number, n: number, windowMs: number): Float64Array {
  const out = new Float64Array(n);
  if (windowMs <= 0) return out;
  const w = BigInt(windowMs);
  const s = BigInt(seed);
  for (let i = 0; i < n; i++) {
    const r = mix(s, BigInt(seqBase + i)) % w;
    out[i] = Number(r < 0n ? r + w : r);
  }
  return out;
}

interface Pending {
  index: number;
  warm: boolean;
}

class Connection {
  readonly socket: net.Socket;
  #buf: Buffer = Buffer.alloc(0);
  readonly pending = new Map<number, Pending>();
  #opaque = 0;
  onResponse: (p: Pending, code: number, remark: string | undefined) => void = () => {};
  onClose: (e: Error) => void = () => {};

  private constructor(socket: net.Socket) {
    this.socket = socket;
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    socket.on('error', (e) => this.onClose(e));
    socket.on('close', () => this.onClose(new Error('connection closed')));
  }

  static open(port: number): Promise<Connection> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host: '127.0.0.1', port });
      socket.setNoDelay(true);
      socket.once('connect', () => resolve(new Connection(socket)));
      socket.once('error', reject);
    });
  }

  send(p: Pending, header: string, body: Buffer): void {
    const opaque = ++this.#opaque;
    const h = header.replace('"opaque":0', `"opaque":${opaque}`);
    const hl = Buffer.byteLength(h);
    const frame = Buffer.allocUnsafe(8 + hl + body.length);
    frame.writeInt32BE(4 + hl + body.length, 0);
    frame.writeInt32BE(hl, 4); // serialize type 0 (JSON) in the top byte
    frame.write(h, 8, 'utf8');
    body.copy(frame, 8 + hl);
    this.pending.set(opaque, p);
    this.socket.write(frame);
  }

  #onData(chunk: Buffer): void {
    this.#buf = this.#buf.length ? Buffer.concat([this.#buf, chunk]) : chunk;
    let off = 0;
    while (this.#buf.length - off >= 4) {
      const len = this.#buf.readInt32BE(off);
      if (this.#buf.length - off < 4 + len) break;
      const hl = this.#buf.readInt32BE(off + 4) & 0xffffff;
      const text = this.#buf.toString('utf8', off + 8, off + 8 + hl);
      off += 4 + len;
      let h: { code: number; opaque: number; flag?: number; remark?: string };
      try {
        h = JSON.parse(text);
      } catch {
        continue;
      }
      if (((h.flag ?? 0) & 1) === 0) continue; // a request from the broker, not a response
      const p = this.pending.get(h.opaque);
      if (!p) continue;
      this.pending.delete(h.opaque);
      this.onResponse(p, h.code, h.remark);
    }
    this.#buf = off === this.#buf.length ? Buffer.alloc(0) : this.#buf.subarray(off);
  }

  close(): void {
    this.socket.destroy();
  }
}

/**
 * Sends the warm-up, calls afterWarmup, then sends messages seqBase..seqBase+messages-1 with at most `inflight`
 * unacknowledged; a non-zero response code is sent again (up to maxAttempts in all). Resolves once every message
 * was acknowledged or failed for good.
 */
export async function sendAll(o: SenderOptions): Promise<SenderResult> {
  const log = o.log ?? (() => {});
  const maxAttempts = o.maxAttempts ?? 20;
  const conns: Connection[] = [];
  for (let i = 0; i < o.connections; i++) conns.push(await Connection.open(o.port));
  const body = Buffer.alloc(o.bodyBytes);
  for (let i = 0; i < body.length; i++) body[i] = 97 + (i % 26);
  const group = `delay_bench_p_node_${process.pid}`;
  const uniqPrefix = randomBytes(10).toString('hex').toUpperCase();
  let uniqCounter = 0;
  const uniq = () => uniqPrefix + (uniqCounter++).toString(16).toUpperCase().padStart(12, '0');
  let queue = 0;
  const header = (tag: string, seq: number, due: number): string => {
    const props =
      `BENCH_RUN\u0001${tag}\u0002BENCH_SEQ\u0001${seq}\u0002BENCH_DUE\u0001${due}\u0002` +
      (o.timer ? `TIMER_DELIVER_MS\u0001${due}\u0002` : '') +
      `UNIQ_KEY\u0001${uniq()}\u0002WAIT\u0001true`;
    const q = queue++ % o.queues;
    return (
      `{"code":${SEND_MESSAGE_V2},"extFields":{"a":"${group}","b":"${o.topic}","c":"TBW102","d":"4","e":"${q}","f":"0",` +
      `"g":"${Date.now()}","h":"0","i":${JSON.stringify(props)},"j":"0","k":"false","m":"false"},"flag":0,"language":"JAVA",` +
      `"opaque":0,"serializeTypeCurrentRPC":"JSON","version":${CLIENT_VERSION}}`
    );
  };

  const run = (count: number, warm: boolean, dueOf: (i: number) => number, tag: string) =>
    new Promise<{ ok: number; failed: number; retries: number; firstError?: string; lastAckMs: number; sentAfterDue: number; ackedAfterStart: number }>((resolve) => {
      const attempts = new Uint8Array(count);
      const retry: number[] = [];
      let next = 0;
      let inflight = 0;
      let ok = 0;
      let failed = 0;
      let retries = 0;
      let sentAfterDue = 0;
      let ackedAfterStart = 0;
      let firstError: string | undefined;
      let lastAckMs = 0;
      let done = false;
      let rr = 0;
      const finish = () => {
        if (done) return;
        done = true;
        resolve({ ok, failed, retries, firstError, lastAckMs, sentAfterDue, ackedAfterStart });
      };
      const pump = () => {
        for (const c of conns) c.socket.cork();
        while (inflight < o.inflight && (retry.length || next < count)) {
          const i = retry.length ? retry.pop()! : next++;
          attempts[i]!++;
          const due = dueOf(i);
          if (o.timer && attempts[i] === 1 && Date.now() >= due) sentAfterDue++;
          inflight++;
          conns[rr++ % conns.length]!.send({ index: i, warm }, header(tag, o.seqBase + i, due), body);
        }
        for (const c of conns) process.nextTick(() => c.socket.uncork());
        if (inflight === 0 && next >= count && retry.length === 0) finish();
      };
      for (const c of conns) {
        c.onResponse = (p, code, remark) => {
          inflight--;
          const now = Date.now();
          if (code === 0) {
            ok++;
            lastAckMs = now;
            if (o.timer && now >= o.windowStartMs) ackedAfterStart++;
          } else if (attempts[p.index]! < maxAttempts) {
            retries++;
            firstError ??= `code ${code}: ${remark ?? ''}`.slice(0, 300);
            retry.push(p.index);
          } else {
            failed++;
            lastAckMs = now;
            firstError ??= `code ${code}: ${remark ?? ''}`.slice(0, 300);
          }
          pump();
        };
        c.onClose = (e) => {
          if (done) return;
          firstError ??= e.message;
          failed += count - ok - failed;
          finish();
        };
      }
      pump();
    });

  const bound = o.timeoutMs === undefined ? undefined : setTimeout(() => conns.forEach((c) => c.close()), o.timeoutMs);
  try {
    let warmupScheduled: number | undefined;
    let warmupMs: number | undefined;
    if (o.warmup > 0) {
      const t0 = Date.now();
      const due = t0 + 1500;
      const w = await run(o.warmup, true, () => due, `${o.runTag}-warmup`);
      warmupScheduled = w.ok;
      if (o.afterWarmup) await o.afterWarmup();
      warmupMs = Date.now() - t0;
      log(`warm-up: ${w.ok} of ${o.warmup} scheduled in ${warmupMs} ms`);
    }
    const offsets = dueOffsets(o.seed, o.seqBase, o.messages, o.windowMs);
    const firstSendMs = Date.now();
    const r = await run(o.messages, false, (i) => o.windowStartMs + offsets[i]!, o.runTag);
    const scheduleMs = Math.max(1, r.lastAckMs - firstSendMs);
    return {
      messages: o.messages,
      scheduled: r.ok,
      sendFailed: r.failed,
      sendRetries: r.retries,
      ...(r.firstError ? { firstSendError: r.firstError } : {}),
      firstSendMs,
      lastAckMs: r.lastAckMs,
      scheduleSeconds: scheduleMs / 1000,
      scheduleRate: (r.ok * 1000) / scheduleMs,
      windowStartMs: o.windowStartMs,
      windowMs: o.windowMs,
      leadMs: o.windowStartMs - firstSendMs,
      sentAfterDue: r.sentAfterDue,
      ackedAfterWindowStart: r.ackedAfterStart,
      ...(warmupScheduled !== undefined ? { warmupMessages: o.warmup, warmupScheduled, warmupMs } : {}),
      sender: 'node',
      connections: o.connections,
      inflight: o.inflight,
    };
  } finally {
    if (bound) clearTimeout(bound);
    for (const c of conns) c.close();
  }
}
