// Stored-message encoding (rocketmq-remoting.md §6.1), the records of pull,
// query and view bodies, with IPv4 born and store hosts and magic V1 (1-byte
// topic length: what Go and Java 4.9 read). Also the SEND_BATCH_MESSAGE body
// (§6.4).

// The IEEE CRC-32 of java.util.zip.CRC32 (RocketMQ's bodyCRC), SIMD-accelerated (a pull computes one per message).
import { crc32 } from '@node-rs/crc32';
import { RemotingDecodeError } from './command.ts';

export const MAGIC_V1 = 0xdaa320a7 | 0;
export const MAGIC_V2 = 0xdaa320ab | 0;
/** Fixed part of a V1 record with IPv4 hosts (TOTALSIZE … BODYLEN, TOPICLEN, PROPLEN). */
export const MESSAGE_FIXED_BYTES = 91;
export const TOPIC_BYTES_MAX_V1 = 127;
export const PROPERTIES_BYTES_MAX = 32767;

/** Message sysFlag bits (§6.2). */
export const SysFlag = {
  COMPRESSED: 0x1,
  MULTI_TAGS: 0x2,
  TRANSACTION_PREPARED: 0x4,
  TRANSACTION_COMMIT: 0x8,
  TRANSACTION_ROLLBACK: 0xc,
  BORNHOST_V6: 0x10,
  STOREHOST_V6: 0x20,
  COMPRESSION_TYPE_MASK: 0x700,
  COMPRESSION_LZ4: 0x100,
  COMPRESSION_ZSTD: 0x200,
  COMPRESSION_ZLIB: 0x300,
} as const;

export interface StoredMessage {
  queueId: number;
  flag: number;
  queueOffset: number;
  /** The 64-bit commit-log offset as two words. */
  physicalHigh: number;
  physicalLow: number;
  sysFlag: number;
  bornTimestampMs: number;
  /** 8 bytes: IPv4 + port. */
  bornHost: Buffer;
  storeTimestampMs: number;
  storeHost: Buffer;
  reconsumeTimes: number;
  body: Buffer;
  /** UTF-8 topic bytes (≤ 127). */
  topic: Buffer;
  /** Encoded properties string bytes (≤ 32767). */
  properties: Buffer;
}

export function storedMessageSize(bodyBytes: number, topicBytes: number, propertiesBytes: number): number {
  return MESSAGE_FIXED_BYTES + bodyBytes + topicBytes + propertiesBytes;
}

function writeInt64(out: Buffer, pos: number, value: number): void {
  out.writeInt32BE(Math.floor(value / 2 ** 32) | 0, pos);
  out.writeUInt32BE(value >>> 0, pos + 4);
}

/** Writes one record at `pos`; returns the position after it. `out` must have room (storedMessageSize). */
export function writeStoredMessage(out: Buffer, pos: number, m: StoredMessage): number {
  const size = storedMessageSize(m.body.length, m.topic.length, m.properties.length);
  const start = pos;
  out.writeInt32BE(size, pos);
  out.writeInt32BE(MAGIC_V1, pos + 4);
  out.writeInt32BE((crc32(m.body) & 0x7fffffff) | 0, pos + 8);
  out.writeInt32BE(m.queueId, pos + 12);
  out.writeInt32BE(m.flag, pos + 16);
  writeInt64(out, pos + 20, m.queueOffset);
  out.writeUInt32BE(m.physicalHigh >>> 0, pos + 28);
  out.writeUInt32BE(m.physicalLow >>> 0, pos + 32);
  out.writeInt32BE(m.sysFlag & ~(SysFlag.BORNHOST_V6 | SysFlag.STOREHOST_V6), pos + 36);
  writeInt64(out, pos + 40, m.bornTimestampMs);
  m.bornHost.copy(out, pos + 48, 0, 8);
  writeInt64(out, pos + 56, m.storeTimestampMs);
  m.storeHost.copy(out, pos + 64, 0, 8);
  out.writeInt32BE(m.reconsumeTimes, pos + 72);
  writeInt64(out, pos + 76, 0); // prepared transaction offset
  out.writeInt32BE(m.body.length, pos + 84);
  pos += 88;
  pos += m.body.copy(out, pos);
  out.writeInt8(m.topic.length, pos);
  pos += 1;
  pos += m.topic.copy(out, pos);
  out.writeInt16BE(m.properties.length, pos);
  pos += 2;
  pos += m.properties.copy(out, pos);
  if (pos - start !== size) throw new Error(`stored message size mismatch: wrote ${pos - start}, expected ${size}`);
  return pos;
}

function readInt64(buf: Buffer, pos: number): number {
  return buf.readInt32BE(pos) * 2 ** 32 + buf.readUInt32BE(pos + 4);
}

/** Decodes a concatenation of stored records (tests, tools). Handles V1/V2 magic and IPv6 hosts. */
export function decodeStoredMessages(buf: Buffer): StoredMessage[] {
  const out: StoredMessage[] = [];
  let pos = 0;
  while (pos < buf.length) {
    if (pos + 4 > buf.length) throw new RemotingDecodeError('truncated stored message');
    const size = buf.readInt32BE(pos);
    if (size < MESSAGE_FIXED_BYTES || pos + size > buf.length) throw new RemotingDecodeError(`stored message size ${size} out of range`);
    const magic = buf.readInt32BE(pos + 4);
    const sysFlag = buf.readInt32BE(pos + 36);
    const bornV6 = (sysFlag & SysFlag.BORNHOST_V6) !== 0;
    const storeV6 = (sysFlag & SysFlag.STOREHOST_V6) !== 0;
    let p = pos + 48;
    const bornHost = buf.subarray(p, p + (bornV6 ? 20 : 8));
    p += bornHost.length;
    const storeTimestampMs = readInt64(buf, p);
    p += 8;
    const storeHost = buf.subarray(p, p + (storeV6 ? 20 : 8));
    p += storeHost.length;
    const reconsumeTimes = buf.readInt32BE(p);
    p += 4 + 8;
    const bodyLength = buf.readInt32BE(p);
    p += 4;
    const body = buf.subarray(p, p + bodyLength);
    p += bodyLength;
    let topicLength: number;
    if (magic === MAGIC_V2) {
      topicLength = buf.readInt16BE(p);
      p += 2;
    } else {
      topicLength = buf.readInt8(p);
      p += 1;
    }
    const topic = buf.subarray(p, p + topicLength);
    p += topicLength;
    const propertiesLength = buf.readInt16BE(p);
    p += 2;
    const properties = buf.subarray(p, p + propertiesLength);
    out.push({
      queueId: buf.readInt32BE(pos + 12),
      flag: buf.readInt32BE(pos + 16),
      queueOffset: readInt64(buf, pos + 20),
      physicalHigh: buf.readUInt32BE(pos + 28),
      physicalLow: buf.readUInt32BE(pos + 32),
      sysFlag,
      bornTimestampMs: readInt64(buf, pos + 40),
      bornHost,
      storeTimestampMs,
      storeHost,
      reconsumeTimes,
      body,
      topic,
      properties,
    });
    pos += size;
  }
  return out;
}

export interface BatchEntry {
  flag: number;
  body: Buffer;
  /** Properties string (UTF-8 decoded). */
  properties: string;
}

/** Entries of a SEND_BATCH_MESSAGE body: TOTALSIZE | MAGIC | BODYCRC | FLAG | BODYLEN+BODY | PROPLEN(int16)+PROPERTIES. */
export function decodeBatchBody(body: Buffer, entriesMax: number): BatchEntry[] {
  const out: BatchEntry[] = [];
  let pos = 0;
  while (pos < body.length) {
    if (out.length >= entriesMax) throw new RemotingDecodeError(`batch holds more than ${entriesMax} messages`);
    if (pos + 20 > body.length) throw new RemotingDecodeError(`truncated batch entry at byte ${pos}`);
    const size = body.readInt32BE(pos);
    if (size < 22 || pos + size > body.length) throw new RemotingDecodeError(`batch entry size ${size} at byte ${pos} out of range`);
    const end = pos + size;
    const flag = body.readInt32BE(pos + 12);
    const bodyLength = body.readInt32BE(pos + 16);
    let p = pos + 20;
    if (bodyLength < 0 || p + bodyLength + 2 > end) throw new RemotingDecodeError(`batch entry body length ${bodyLength} out of range`);
    const entryBody = body.subarray(p, p + bodyLength);
    p += bodyLength;
    const propertiesLength = body.readInt16BE(p);
    p += 2;
    if (propertiesLength < 0 || p + propertiesLength !== end) throw new RemotingDecodeError(`batch entry properties length ${propertiesLength} does not fill the entry`);
    out.push({ flag, body: entryBody, properties: body.toString('utf8', p, p + propertiesLength) });
    pos = end;
  }
  return out;
}

/** Encodes a batch body (tests, tools). */
export function encodeBatchBody(entries: readonly { flag?: number; body: Buffer; properties: string }[]): Buffer {
  const parts: Buffer[] = [];
  for (const e of entries) {
    const props = Buffer.from(e.properties, 'utf8');
    const b = Buffer.allocUnsafe(22 + e.body.length + props.length);
    b.writeInt32BE(b.length, 0);
    b.writeInt32BE(0, 4);
    b.writeInt32BE(0, 8);
    b.writeInt32BE(e.flag ?? 0, 12);
    b.writeInt32BE(e.body.length, 16);
    e.body.copy(b, 20);
    b.writeInt16BE(props.length, 20 + e.body.length);
    props.copy(b, 22 + e.body.length);
    parts.push(b);
  }
  return Buffer.concat(parts);
}
