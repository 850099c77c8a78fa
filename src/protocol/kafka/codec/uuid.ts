// Kafka `uuid` fields are 16 raw bytes on the wire. Diglot represents them as the
// canonical lowercase RFC 4122 text form, `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx`
// (36 chars), so topic ids can be Map keys and compared with ===. The decoder
// always yields lowercase; the encoder accepts either case. Kafka's own tools
// print the url-safe base64 form (22 chars, e.g. `AAAAAAAAAAAAAAAAAAAAAA`):
// convert with uuidToKafkaString / uuidFromKafkaString.

import { KafkaEncodeError } from './errors.ts';

/** Kafka's Uuid.ZERO_UUID: "no topic id" / default of every uuid field. */
export const ZERO_UUID = '00000000-0000-0000-0000-000000000000';
/** Kafka's Uuid.METADATA_TOPIC_ID (the __cluster_metadata topic), also reserved. */
export const METADATA_TOPIC_UUID = '00000000-0000-0000-0000-000000000001';

const HEX: string[] = [];
for (let i = 0; i < 256; i++) HEX.push(i.toString(16).padStart(2, '0'));

// Nibble values of ASCII '0'-'9', 'a'-'f', 'A'-'F'; -1 elsewhere.
const NIBBLE = new Int8Array(128).fill(-1);
for (let i = 0; i < 10; i++) NIBBLE[48 + i] = i;
for (let i = 0; i < 6; i++) {
  NIBBLE[97 + i] = 10 + i;
  NIBBLE[65 + i] = 10 + i;
}

/** The 16 bytes at `buf[offset..offset+16)` as canonical text. The caller checks bounds. */
export function uuidFromBytes(buf: Uint8Array, offset: number): string {
  const h = HEX;
  const o = offset;
  return (
    h[buf[o]!]! + h[buf[o + 1]!]! + h[buf[o + 2]!]! + h[buf[o + 3]!]! + '-' +
    h[buf[o + 4]!]! + h[buf[o + 5]!]! + '-' +
    h[buf[o + 6]!]! + h[buf[o + 7]!]! + '-' +
    h[buf[o + 8]!]! + h[buf[o + 9]!]! + '-' +
    h[buf[o + 10]!]! + h[buf[o + 11]!]! + h[buf[o + 12]!]! + h[buf[o + 13]!]! + h[buf[o + 14]!]! + h[buf[o + 15]!]!
  );
}

function nibble(s: string, i: number): number {
  const c = s.charCodeAt(i);
  return c < 128 ? NIBBLE[c]! : -1;
}

/**
 * Writes the 16 bytes of canonical uuid text `s` into `buf` at `offset`. The
 * caller guarantees space. Throws KafkaEncodeError('INVALID_UUID') on bad text.
 */
export function uuidToBytes(s: string, buf: Uint8Array, offset: number): void {
  if (typeof s !== 'string' || s.length !== 36 || s.charCodeAt(8) !== 45 || s.charCodeAt(13) !== 45 ||
    s.charCodeAt(18) !== 45 || s.charCodeAt(23) !== 45) {
    throw new KafkaEncodeError('INVALID_UUID', `not a uuid (8-4-4-4-12 hex): ${JSON.stringify(s)}`);
  }
  let o = offset;
  let i = 0;
  while (i < 36) {
    if (i === 8 || i === 13 || i === 18 || i === 23) {
      i++;
      continue;
    }
    const hi = nibble(s, i);
    const lo = nibble(s, i + 1);
    if (hi < 0 || lo < 0) throw new KafkaEncodeError('INVALID_UUID', `not a uuid (8-4-4-4-12 hex): ${JSON.stringify(s)}`);
    buf[o++] = (hi << 4) | lo;
    i += 2;
  }
}

/** True when `s` is a uuid in 8-4-4-4-12 hex form (either case). */
export function isUuid(s: string): boolean {
  return /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/.test(s);
}

/** Canonical text → Kafka's display form (url-safe base64 without padding, 22 chars). */
export function uuidToKafkaString(s: string): string {
  const b = Buffer.allocUnsafe(16);
  uuidToBytes(s, b, 0);
  return b.toString('base64url');
}

/** Kafka's display form (url-safe base64, 22 chars) → canonical text. */
export function uuidFromKafkaString(s: string): string {
  const b = Buffer.from(s, 'base64url');
  if (b.length !== 16 || b.toString('base64url') !== s) {
    throw new KafkaEncodeError('INVALID_UUID', `not a Kafka base64 uuid: ${JSON.stringify(s)}`);
  }
  return uuidFromBytes(b, 0);
}
