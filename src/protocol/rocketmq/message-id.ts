// Message ids (rocketmq-remoting.md §7). offsetMsgId = uppercase hex of
// [store IPv4 | store port int32 | commit-log offset int64]. Diglot has no
// commit log: the 64-bit "commit-log offset" packs (topic number, queue,
// queue offset) so VIEW_MESSAGE_BY_ID, CONSUMER_SEND_MSG_BACK and
// END_TRANSACTION can find the message again (DESIGN.md §2). Two layouts:
//   compact (bit 63 clear, value < 2^53): topic 14 bits | queue 7 bits | offset 32 bits
//   wide    (bit 63 set):                 1 | topic 16 bits | queue 12 bits | offset 35 bits
// Compact ids stay exact in JavaScript numbers — ali-ons reads the commit-log
// offset into a Number and sends it back on CONSUMER_SEND_MSG_BACK — so they
// are used whenever the queue is below 128 and the offset below 2^32.

export const COMPACT_TOPIC_BITS = 14;
export const WIDE_TOPIC_BITS = 16;
const COMPACT_QUEUES = 128;
const WIDE_QUEUES = 4096;
const COMPACT_OFFSET_SPAN = 2 ** 32;
const WIDE_OFFSET_SPAN = 2 ** 35;

export interface MessageLocation {
  /** How many low bits of the topic number the id holds (14 or 16). */
  topicBits: number;
  /** The topic number (the topic registry's ordinal) modulo 2^topicBits. */
  topicNumber: number;
  queueId: number;
  queueOffset: number;
}

/** True when the location fits one of the layouts. */
export function packable(queueId: number, queueOffset: number): boolean {
  return queueId >= 0 && queueId < WIDE_QUEUES && queueOffset >= 0 && queueOffset < WIDE_OFFSET_SPAN;
}

/** The packed 64-bit offset as two words (high, low) for writing into a message record. Callers check packable(). */
export function packLocation(topicNumber: number, queueId: number, queueOffset: number): { high: number; low: number } {
  const low = queueOffset >>> 0;
  if (queueId < COMPACT_QUEUES && queueOffset < COMPACT_OFFSET_SPAN) {
    return { high: (((topicNumber & 0x3fff) << 7) | queueId) >>> 0, low };
  }
  const offsetHigh = Math.floor(queueOffset / 2 ** 32); // < 8
  return { high: (0x80000000 | ((topicNumber & 0xffff) << 15) | ((queueId & 0xfff) << 3) | (offsetHigh & 0x7)) >>> 0, low };
}

export function unpackLocation(high: number, low: number): MessageLocation {
  const h = high >>> 0;
  if ((h & 0x80000000) === 0) {
    return { topicBits: COMPACT_TOPIC_BITS, topicNumber: (h >>> 7) & 0x3fff, queueId: h & 0x7f, queueOffset: low >>> 0 };
  }
  return { topicBits: WIDE_TOPIC_BITS, topicNumber: (h >>> 15) & 0xffff, queueId: (h >>> 3) & 0xfff, queueOffset: (h & 0x7) * 2 ** 32 + (low >>> 0) };
}

/** The commit-log offset as a decimal string, as Java prints the signed long. */
export function packedOffsetString(topicNumber: number, queueId: number, queueOffset: number): string {
  const { high, low } = packLocation(topicNumber, queueId, queueOffset);
  return BigInt.asIntN(64, (BigInt(high) << 32n) | BigInt(low)).toString();
}

/** Decodes the decimal commit-log offset a client sends back (signed, or a rounded JS number for compact ids). */
export function parsePackedOffset(text: string): MessageLocation | null {
  let value: bigint;
  try {
    value = BigInt.asUintN(64, BigInt(text.trim()));
  } catch {
    return null;
  }
  return unpackLocation(Number(value >> 32n), Number(value & 0xffffffffn));
}

const HOST_HEX = new WeakMap<Buffer, string>();

function hex8(n: number): string {
  return (n >>> 0).toString(16).toUpperCase().padStart(8, '0');
}

/** offsetMsgId for an IPv4 store host (its hex is computed once per host buffer). */
export function offsetMsgId(storeHost: Buffer, high: number, low: number): string {
  let host = HOST_HEX.get(storeHost);
  if (host === undefined) {
    host = storeHost.subarray(0, 8).toString('hex').toUpperCase();
    HOST_HEX.set(storeHost, host);
  }
  return host + hex8(high) + hex8(low);
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
