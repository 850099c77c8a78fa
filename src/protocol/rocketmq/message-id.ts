// Message ids (rocketmq-remoting.md §7). offsetMsgId = uppercase hex of
// [store IPv4 | store port int32 | commit-log offset int64]. Diglot has no
// commit log: the 64-bit "commit-log offset" packs (topic number, queue,
// queue offset) so VIEW_MESSAGE_BY_ID, CONSUMER_SEND_MSG_BACK and
// END_TRANSACTION can find the message again (DESIGN.md §2):
//   bits 63..48 topic number (16 bits), 47..36 queue id (12 bits), 35..0 queue offset (36 bits).

export const TOPIC_NUMBER_BITS = 16;
export const QUEUE_BITS = 12;
export const OFFSET_BITS = 36;
const OFFSET_SPAN = 2 ** OFFSET_BITS;
const QUEUE_SPAN = 2 ** QUEUE_BITS;

export interface MessageLocation {
  /** Topic number modulo 2^16 (the topic registry's ordinal). */
  topicNumber: number;
  queueId: number;
  queueOffset: number;
}

/** True when the location fits the packing (queue < 4096, offset < 2^36). */
export function packable(queueId: number, queueOffset: number): boolean {
  return queueId >= 0 && queueId < QUEUE_SPAN && queueOffset >= 0 && queueOffset < OFFSET_SPAN;
}

/** The packed 64-bit offset as two int32 words (high, low) for writing into a message record. */
export function packLocation(topicNumber: number, queueId: number, queueOffset: number): { high: number; low: number } {
  const offsetHigh = Math.floor(queueOffset / 2 ** 32); // < 16
  const high = (((topicNumber & 0xffff) << 16) | ((queueId & 0xfff) << 4) | (offsetHigh & 0xf)) >>> 0;
  const low = queueOffset >>> 0;
  return { high, low };
}

export function unpackLocation(high: number, low: number): MessageLocation {
  const h = high >>> 0;
  return { topicNumber: h >>> 16, queueId: (h >>> 4) & 0xfff, queueOffset: (h & 0xf) * 2 ** 32 + (low >>> 0) };
}

/** The commit-log offset as a decimal string (it may exceed 2^53, so BigInt). */
export function packedOffsetString(topicNumber: number, queueId: number, queueOffset: number): string {
  const { high, low } = packLocation(topicNumber, queueId, queueOffset);
  return BigInt.asIntN(64, (BigInt(high) << 32n) | BigInt(low)).toString();
}

export function parsePackedOffset(text: string): MessageLocation | null {
  let value: bigint;
  try {
    value = BigInt.asUintN(64, BigInt(text));
  } catch {
    return null;
  }
  return unpackLocation(Number(value >> 32n), Number(value & 0xffffffffn));
}

/** offsetMsgId for an IPv4 store host. */
export function offsetMsgId(storeHost: Buffer, high: number, low: number): string {
  const b = Buffer.allocUnsafe(16);
  storeHost.copy(b, 0, 0, 8);
  b.writeUInt32BE(high >>> 0, 8);
  b.writeUInt32BE(low >>> 0, 12);
  return b.toString('hex').toUpperCase();
}

/** Decodes an offsetMsgId (32 hex chars for IPv4, 56 for IPv6) into its store address and location. */
export function decodeOffsetMsgId(id: string): { host: string; port: number; location: MessageLocation } | null {
  if (!/^[0-9A-Fa-f]+$/.test(id) || (id.length !== 32 && id.length !== 56)) return null;
  const b = Buffer.from(id, 'hex');
  const ipBytes = id.length === 32 ? 4 : 16;
  const host = ipBytes === 4 ? [...b.subarray(0, 4)].join('.') : b.subarray(0, 16).toString('hex').replace(/(.{4})(?!$)/g, '$1:');
  const port = b.readInt32BE(ipBytes);
  return { host, port, location: unpackLocation(b.readUInt32BE(ipBytes + 4), b.readUInt32BE(ipBytes + 8)) };
}

/** 8 bytes: IPv4 + port, as STOREHOST/BORNHOST fields want them. */
export function socketAddressBytes(host: string, port: number): Buffer {
  const b = Buffer.alloc(8);
  const parts = host.split('.').map(Number);
  if (parts.length === 4 && parts.every((p) => Number.isInteger(p) && p >= 0 && p <= 255)) for (let i = 0; i < 4; i++) b[i] = parts[i]!;
  else b.set([127, 0, 0, 1]);
  b.writeInt32BE(port, 4);
  return b;
}
