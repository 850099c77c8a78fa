// In-process cost of answering RocketMQ sends (no network): SEND_MESSAGE_V2 frames with JSON headers, as
// bench/delay's Node sender and the Java client write them (128-byte bodies, the same properties), decoded,
// handled by the send handler against a broker on a temporary directory, and answered (reply heads written
// into one buffer per turn, as src/rocketmq/connection.ts does).
// Prints µs per message for decoding, handling and encoding, and the whole.
// `node bench/micro/rocketmq-send.ts [messages, default 200000] [timer|plain, default timer] [rounds, default 7] [json|binary, default json]`:
// `timer` gives every message TIMER_DELIVER_MS (held by the delay service, as bench/delay's rate phase),
// `plain` none (stored at once, as its plain phase); `binary` sends ROCKETMQ binary headers (serializeType 1,
// as rocketmq-client 5.x's benchmark Producer in bench/rocketmq does) instead of JSON ones.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Broker } from '../../src/broker/broker.ts';
import { createLogger } from '../../src/logger.ts';
import { commandHeaderJson, decodeCommand, encodeBinaryCommand, FLAG_RESPONSE, framePrefixAndHeaderBytesMax, RequestCode, writeFrameHead } from '../../src/protocol/rocketmq/index.ts';
import { sendMessages } from '../../src/rocketmq/handlers/send-message.ts';
import { RocketmqState } from '../../src/rocketmq/state.ts';
import { LogManager } from '../../src/storage/log-manager.ts';

const n = Number(process.argv[2] ?? 200_000);
const mode = process.argv[3] ?? 'timer';
const rounds = Number(process.argv[4] ?? 7);
const serialization = process.argv[5] ?? 'json';
if (mode !== 'timer' && mode !== 'plain') throw new Error(`mode ${mode}: timer or plain`);
if (serialization !== 'json' && serialization !== 'binary') throw new Error(`header ${serialization}: json or binary`);
const QUEUES = 8;
const TOPIC = 'MicroSend';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'diglot-micro-send-'));
const logManager = await LogManager.open({ dir });
const broker = await Broker.open(logManager, { nodeId: 1, autoCreateTopics: true, defaultPartitions: QUEUES, maxMessageBytes: 1_048_588 });
const state = new RocketmqState({ broker, brokerName: 'b', clusterName: 'c', advertisedAddress: '127.0.0.1:1', storeHost: Buffer.from([127, 0, 0, 1, 0, 0, 0x26, 0x94]), defaultQueues: QUEUES, maxReconsumeTimes: 16, logger: createLogger({ level: 'silent' }) });
await broker.topics.create(TOPIC, QUEUES, new Map());

const body = Buffer.alloc(128);
for (let i = 0; i < body.length; i++) body[i] = 97 + (i % 26);
const farFutureMs = Date.now() + 30 * 24 * 3600 * 1000; // never due while measuring

function frame(seq: number): Buffer {
  const due = farFutureMs + (seq % 1000);
  const props =
    `BENCH_RUN\u0001micro\u0002BENCH_SEQ\u0001${seq}\u0002BENCH_DUE\u0001${due}\u0002` +
    (mode === 'timer' ? `TIMER_DELIVER_MS\u0001${due}\u0002` : '') +
    `UNIQ_KEY\u00017F000001000018B4AAC2${(1e11 + seq).toString(16).toUpperCase()}\u0002WAIT\u0001true`;
  if (serialization === 'binary') {
    const extFields = { a: 'micro_pg', b: TOPIC, c: 'TBW102', d: '4', e: String(seq % QUEUES), f: '0', g: String(1_800_000_000_000 + seq), h: '0', i: props, j: '0', k: 'false', m: 'false' };
    return encodeBinaryCommand({ code: RequestCode.SEND_MESSAGE_V2, opaque: seq, flag: 0, extFields, body }).subarray(4);
  }
  const json =
    `{"code":${RequestCode.SEND_MESSAGE_V2},"extFields":{"a":"micro_pg","b":"${TOPIC}","c":"TBW102","d":"4","e":"${seq % QUEUES}","f":"0",` +
    `"g":"${1_800_000_000_000 + seq}","h":"0","i":${JSON.stringify(props)},"j":"0","k":"false","m":"false"},"flag":0,"language":"JAVA",` +
    `"opaque":${seq},"serializeTypeCurrentRPC":"JSON","version":479}`;
  const header = Buffer.from(json, 'utf8');
  const out = Buffer.allocUnsafe(4 + header.length + body.length);
  out.writeInt32BE(header.length, 0);
  header.copy(out, 4);
  body.copy(out, 4 + header.length);
  return out; // without the size prefix, as the frame reader hands it over
}

const frames: Buffer[] = [];
for (let i = 0; i < n; i++) frames.push(frame(i));

const best = { decode: Infinity, handle: Infinity, encode: Infinity, whole: Infinity };
const TURN = 128; // requests per event-loop turn, as one socket read brings them
for (let round = 0; round < rounds; round++) {
  let decodeNs = 0;
  let handleNs = 0;
  let encodeNs = 0;
  let replyBytes = 0;
  const start = process.hrtime.bigint();
  for (let base = 0; base < n; base += TURN) {
    const end = Math.min(n, base + TURN);
    // As the connection does: the turn's answers go into one out buffer.
    const out = Buffer.allocUnsafe(64 * 1024);
    let outEnd = 0;
    for (let i = base; i < end; i++) {
      const t0 = process.hrtime.bigint();
      const command = decodeCommand(frames[i]!);
      const t1 = process.hrtime.bigint();
      const reply = sendMessages(state, command);
      if (reply instanceof Promise) throw new Error('the send answered asynchronously: the topic should exist');
      if (reply.code !== 0) throw new Error(`send failed: ${reply.code} ${reply.remark}`);
      const t2 = process.hrtime.bigint();
      const json = commandHeaderJson({ code: reply.code, opaque: command.opaque, flag: FLAG_RESPONSE, remark: reply.remark ?? null, extFields: reply.extFields ?? null });
      if (outEnd + framePrefixAndHeaderBytesMax(json) > out.length) throw new Error('answers of one turn outgrew the out buffer');
      const written = writeFrameHead(out, outEnd, json, 0);
      outEnd += written;
      const t3 = process.hrtime.bigint();
      replyBytes += written;
      decodeNs += Number(t1 - t0);
      handleNs += Number(t2 - t1);
      encodeNs += Number(t3 - t2);
    }
    broker.commitStaged(); // what the connection does once per turn
    await new Promise((resolve) => setImmediate(resolve));
  }
  const wallNs = Number(process.hrtime.bigint() - start);
  const us = (ns: number): string => (ns / n / 1000).toFixed(3);
  best.decode = Math.min(best.decode, decodeNs);
  best.handle = Math.min(best.handle, handleNs);
  best.encode = Math.min(best.encode, encodeNs);
  best.whole = Math.min(best.whole, wallNs);
  console.log(
    `round ${round + 1}: ${mode}, ${serialization} headers, ${n} sends: decode ${us(decodeNs)} µs, handle ${us(handleNs)} µs, encode ${us(encodeNs)} µs, ` +
      `whole ${us(wallNs)} µs/message (wall, turns included); replies ${(replyBytes / n).toFixed(0)} bytes each`,
  );
}

// The machine's noise only ever adds time: the least of the rounds is the figure to compare.
const us = (ns: number): string => (ns / n / 1000).toFixed(3);
console.log(`best of ${rounds}: decode ${us(best.decode)} µs, handle ${us(best.handle)} µs, encode ${us(best.encode)} µs, whole ${us(best.whole)} µs/message`);

state.close();
broker.close();
await logManager.close();
fs.rmSync(dir, { recursive: true, force: true });
