// Fuzz: random and mutated frames through the Kafka connection — framing,
// header and body decoders, and the handlers on a real broker (over the
// in-memory FileIO, so nothing touches the disk). Nothing may throw out of the
// connection, hang, or grow memory without bound, and the broker must still
// serve a valid produce and fetch afterwards.
//
// KAFKA_FUZZ_FRAMES sets the count (default 1,000,000; CI runs the default),
// KAFKA_FUZZ_SEED the PRNG seed (printed with the result).
// Admin APIs that create or delete topics stay out of the mutated corpus: a
// mutated CreateTopics may legally ask for 100,000 partitions, which is a
// valid request, not a robustness bug.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import { LogManager } from '../src/storage/log-manager.ts';
import { MemoryFileIO, mulberry32 } from '../src/storage/memory-file-io.ts';
import { Broker } from '../src/broker/broker.ts';
import { KafkaConnection } from '../src/kafka/connection.ts';
import { buildHandlerTable } from '../src/kafka/handlers/index.ts';
import { Writer } from '../src/protocol/kafka/codec/index.ts';
import { apiByKey } from '../src/protocol/kafka/generated/apis.ts';
import { encodeRequestHeader } from '../src/protocol/kafka/generated/request-header.ts';
import { buildSimpleBatch } from '../src/storage/test-batches.ts';
import { createLogger } from '../src/logger.ts';
import { BufferPool } from '../src/storage/buffer-pool.ts';

const FRAMES = Number(process.env.KAFKA_FUZZ_FRAMES ?? 1_000_000);
const SEED = Number(process.env.KAFKA_FUZZ_SEED ?? 20261124);
if (!Number.isSafeInteger(SEED)) throw new Error(`KAFKA_FUZZ_SEED=${JSON.stringify(process.env.KAFKA_FUZZ_SEED)}: expected an integer`);
const SIDE_EFFECT_KEYS = new Set([19, 20, 21, 33, 37, 44]);
/** Response writes seen (each cork opens one): proves frames reach the handlers, not only the framing. */
let answered = 0;

class FakeSocket extends EventEmitter {
  remoteAddress = '127.0.0.1';
  remotePort = 40000;
  writableLength = 0;
  destroyed = false;
  bytesOut = 0;
  setNoDelay(): this {
    return this;
  }
  pause(): this {
    return this;
  }
  resume(): this {
    return this;
  }
  cork(): void {
    answered++;
  }
  uncork(): void {}
  write(chunk: Buffer): boolean {
    this.bytesOut += chunk.length;
    return true;
  }
  destroy(): this {
    if (!this.destroyed) {
      this.destroyed = true;
      queueMicrotask(() => this.emit('close'));
    }
    return this;
  }
}

function frame(apiKey: number, version: number, body: (w: Writer) => void): Buffer {
  const spec = apiByKey(apiKey)!;
  const w = new Writer();
  const flexible = spec.flexibleVersion !== null && version >= spec.flexibleVersion;
  encodeRequestHeader(w, { requestApiKey: apiKey, requestApiVersion: version, correlationId: 7, clientId: 'fuzz' }, flexible ? 2 : 1);
  body(w);
  const payload = w.toBuffer();
  const out = Buffer.allocUnsafe(4 + payload.length);
  out.writeInt32BE(payload.length, 0);
  payload.copy(out, 4);
  return out;
}

/** Valid frames for every served API and version: the seeds mutations start from. */
function seedFrames(handlers: ReturnType<typeof buildHandlerTable>['handlers']): Buffer[] {
  const seeds: Buffer[] = [];
  const batch = buildSimpleBatch(3, 40);
  const samples: Record<number, object> = {
    0: { acks: 1, timeoutMs: 1000, topicData: [{ name: 'fuzz', partitionData: [{ index: 0, records: batch }] }] },
    1: { maxWaitMs: 0, minBytes: 1, maxBytes: 1 << 20, topics: [{ topic: 'fuzz', partitions: [{ partition: 0, fetchOffset: 0, partitionMaxBytes: 1 << 20 }] }] },
    2: { topics: [{ name: 'fuzz', partitions: [{ partitionIndex: 0, timestamp: -1 }] }] },
    3: { topics: [{ name: 'fuzz' }], allowAutoTopicCreation: false },
    10: { key: 'g', keyType: 0, coordinatorKeys: ['g'] },
    22: { transactionalId: null, transactionTimeoutMs: 1000, producerId: -1, producerEpoch: -1 },
  };
  for (const handler of handlers.values()) {
    if (SIDE_EFFECT_KEYS.has(handler.apiKey)) continue;
    const spec = apiByKey(handler.apiKey)!;
    for (let v = handler.minVersion; v <= handler.maxVersion; v++) {
      try {
        seeds.push(frame(handler.apiKey, v, (w) => spec.encodeRequest(w, (samples[handler.apiKey] ?? {}) as never, v)));
      } catch {
        // a sample field absent at this version: the default request still seeds it
        seeds.push(frame(handler.apiKey, v, (w) => spec.encodeRequest(w, {} as never, v)));
      }
    }
  }
  return seeds;
}

function mutate(seed: Buffer, rng: () => number): Buffer {
  const out = Buffer.from(seed);
  const kind = rng();
  if (kind < 0.5) {
    const flips = 1 + Math.floor(rng() * 4);
    for (let i = 0; i < flips; i++) out[4 + Math.floor(rng() * (out.length - 4))] = Math.floor(rng() * 256);
    return out;
  }
  if (kind < 0.7) {
    const cut = 4 + Math.floor(rng() * (out.length - 4));
    const t = out.subarray(0, cut);
    t.writeInt32BE(cut - 4, 0);
    return t;
  }
  if (kind < 0.85) {
    // A length field inflated: pick an int32 position and write a large value.
    const pos = 4 + Math.floor(rng() * Math.max(1, out.length - 8));
    if (pos + 4 <= out.length) out.writeInt32BE(Math.floor(rng() * 0x7fffffff), pos);
    return out;
  }
  // Random bytes with a plausible header (a known key).
  const len = 8 + Math.floor(rng() * 200);
  const r = Buffer.allocUnsafe(4 + len);
  r.writeInt32BE(len, 0);
  for (let i = 4; i < r.length; i++) r[i] = Math.floor(rng() * 256);
  r.writeInt16BE(seed.readInt16BE(4), 4);
  return r;
}

test(`Kafka fuzz: ${FRAMES.toLocaleString('en')} random and mutated frames neither crash, hang nor leak`, { timeout: 20 * 60 * 1000 }, async (t) => {
  const logManager = await LogManager.open({ dir: '/fuzz', io: new MemoryFileIO(), config: { segmentBytesMax: 64 * 1024, retentionBytes: 256 * 1024, retentionCheckIntervalMs: 1000 } });
  const broker = await Broker.open(logManager, { nodeId: 1, autoCreateTopics: false, defaultPartitions: 1, maxMessageBytes: 1 << 20, delayIndex: 'memory' });
  await broker.topics.create('fuzz', 2, new Map());
  const { handlers, apiVersions } = buildHandlerTable();
  const seeds = seedFrames(handlers);
  assert.ok(seeds.length > 50, `only ${seeds.length} seed frames`);
  const logger = createLogger({ level: 'silent' });
  const pool = new BufferPool(1 << 20, 8);
  const readBuffer = Buffer.alloc(1 << 20);
  const rng = mulberry32(SEED);
  let connection: KafkaConnection | null = null;
  let socket: FakeSocket | null = null;
  let connections = 0;
  const connect = (): void => {
    socket = new FakeSocket();
    connections++;
    connection = new KafkaConnection(socket as unknown as Socket, {
      broker,
      listener: { nodeId: 1, advertisedHost: '127.0.0.1', advertisedPort: 9092 },
      handlers,
      apiVersions,
      services: {},
      logger,
      frameBytesMax: 1 << 20,
      inFlightMax: 32,
      pool,
      onClose: () => {},
    });
  };
  connect();
  const started = Date.now();
  let heapPeak = 0;
  for (let i = 0; i < FRAMES; i++) {
    const seed = seeds[Math.floor(rng() * seeds.length)]!;
    const input = rng() < 0.1 ? seed : mutate(seed, rng);
    if (rng() < 0.5) {
      // The listener's path: bytes arrive in one reused read buffer (net onread), maybe split.
      const cut = input.length > 2 && rng() < 0.3 ? 1 + Math.floor(rng() * (input.length - 1)) : input.length;
      input.copy(readBuffer, 0, 0, cut);
      connection!.onRead(cut, readBuffer);
      readBuffer.fill(0xee, 0, cut); // the socket reuses the buffer: nothing may keep pointing into it
      if (cut < input.length && !socket!.destroyed) {
        input.copy(readBuffer, 0, cut);
        connection!.onRead(input.length - cut, readBuffer);
        readBuffer.fill(0xee, 0, input.length - cut);
      }
    } else if (rng() < 0.2 && input.length > 2) {
      // Sometimes split the frame across reads, as TCP may.
      const cut = 1 + Math.floor(rng() * (input.length - 1));
      socket!.emit('data', input.subarray(0, cut));
      if (!socket!.destroyed) socket!.emit('data', input.subarray(cut));
    } else {
      socket!.emit('data', input);
    }
    if (socket!.destroyed || connection!.inFlight > 16) {
      // Let pending handlers (long polls time out at maxWaitMs, capped) settle, then reconnect.
      if (connection!.inFlight > 0) await new Promise((resolve) => setImmediate(resolve));
      if (socket!.destroyed) connect();
    }
    if (i % 20_000 === 0) {
      await new Promise((resolve) => setImmediate(resolve));
      heapPeak = Math.max(heapPeak, process.memoryUsage().heapUsed);
    }
  }
  const elapsedMs = Date.now() - started;
  t.diagnostic(`${FRAMES} frames (seed ${SEED}) in ${elapsedMs} ms over ${connections} connections, ${answered} answered; heap peak ${(heapPeak / 2 ** 20).toFixed(0)} MiB`);
  assert.ok(answered > FRAMES / 10, `only ${answered} frames were answered: the handlers were barely reached`);
  assert.ok(heapPeak < 1024 * 2 ** 20, `heap grew to ${heapPeak}`);

  // The broker still serves a valid produce and fetch.
  const good = new FakeSocket();
  const answers: Buffer[] = [];
  good.write = (chunk: Buffer) => (answers.push(Buffer.from(chunk)), true);
  new KafkaConnection(good as unknown as Socket, { broker, listener: { nodeId: 1, advertisedHost: '127.0.0.1', advertisedPort: 9092 }, handlers, apiVersions, services: {}, logger, frameBytesMax: 1 << 20, inFlightMax: 32, pool, onClose: () => {} });
  const before = broker.topics.partitionLog(broker.topics.get('fuzz')!, 1).logEndOffset;
  good.emit('data', frame(0, 9, (w) => apiByKey(0)!.encodeRequest(w, { acks: 1, timeoutMs: 1000, topicData: [{ name: 'fuzz', partitionData: [{ index: 1, records: buildSimpleBatch(2, 10) }] }] } as never, 9)));
  await new Promise((resolve) => setTimeout(resolve, 20));
  assert.equal(broker.topics.partitionLog(broker.topics.get('fuzz')!, 1).logEndOffset, before + 2);
  assert.ok(answers.length > 0 && !good.destroyed, 'a valid produce is answered');
  logManager.abandon();
});
