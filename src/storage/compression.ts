// Record-batch payload codecs (attributes bits 0-2): 1 gzip, 2 snappy, 3 lz4
// (LZ4 frame), 4 zstd. Produced batches are stored and fetched compressed as
// they came; these are only for the few places that must read records inside a
// compressed batch (timestamp lookups, RocketMQ consumers of Kafka data).
//
// Kafka's Java client frames snappy the xerial way (magic header, then
// [int32 length][snappy block] chunks); raw snappy is accepted too. Output is
// capped so a tiny "decompression bomb" cannot exhaust memory.

import zlib from 'node:zlib';
import { uncompressSync as snappyUncompress, compressSync as snappyCompress } from 'snappy';
import { decompressFrameSync as lz4Decompress, compressFrameSync as lz4Compress } from 'lz4-napi';
import { StorageError } from './errors.ts';

export const CODEC_NONE = 0;
export const CODEC_GZIP = 1;
export const CODEC_SNAPPY = 2;
export const CODEC_LZ4 = 3;
export const CODEC_ZSTD = 4;

/** Largest decompressed payload accepted (a batch is at most max.message.bytes compressed). */
export const DECOMPRESSED_BYTES_MAX = 256 * 1024 * 1024;

const XERIAL_MAGIC = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00]);
const XERIAL_HEADER_BYTES = 16;

function tooBig(codec: number, size: number): StorageError {
  return new StorageError('BATCH_RECORDS_INVALID', `codec ${codec} payload decompresses to ${size} bytes, above the ${DECOMPRESSED_BYTES_MAX}-byte cap`);
}

function snappyBlock(block: Buffer): Buffer {
  const out = snappyUncompress(block, { asBuffer: true }) as Buffer;
  if (out.length > DECOMPRESSED_BYTES_MAX) throw tooBig(CODEC_SNAPPY, out.length);
  return out;
}

function snappyXerial(data: Buffer): Buffer {
  const parts: Buffer[] = [];
  let total = 0;
  let pos = XERIAL_HEADER_BYTES;
  while (pos < data.length) {
    if (pos + 4 > data.length) throw new StorageError('BATCH_RECORDS_INVALID', 'truncated xerial snappy chunk header');
    const length = data.readInt32BE(pos);
    pos += 4;
    if (length < 0 || pos + length > data.length) throw new StorageError('BATCH_RECORDS_INVALID', 'truncated xerial snappy chunk');
    const part = snappyBlock(data.subarray(pos, pos + length));
    total += part.length;
    if (total > DECOMPRESSED_BYTES_MAX) throw tooBig(CODEC_SNAPPY, total);
    parts.push(part);
    pos += length;
  }
  return parts.length === 1 ? parts[0]! : Buffer.concat(parts, total);
}

/** Decompresses a batch's records payload. Throws StorageError on corrupt input. */
export function decompress(codec: number, data: Buffer): Buffer {
  try {
    switch (codec) {
      case CODEC_NONE:
        return data;
      case CODEC_GZIP:
        return zlib.gunzipSync(data, { maxOutputLength: DECOMPRESSED_BYTES_MAX });
      case CODEC_SNAPPY:
        if (data.length >= XERIAL_HEADER_BYTES && data.subarray(0, 8).equals(XERIAL_MAGIC)) return snappyXerial(data);
        return snappyBlock(data);
      case CODEC_LZ4: {
        const out = lz4Decompress(data);
        if (out.length > DECOMPRESSED_BYTES_MAX) throw tooBig(codec, out.length);
        return out;
      }
      case CODEC_ZSTD:
        return zlib.zstdDecompressSync(data, { maxOutputLength: DECOMPRESSED_BYTES_MAX });
      default:
        throw new StorageError('BATCH_RECORDS_INVALID', `unknown compression codec ${codec}`);
    }
  } catch (err) {
    if (err instanceof StorageError) throw err;
    throw new StorageError('BATCH_RECORDS_INVALID', `codec ${codec} payload does not decompress: ${(err as Error).message}`, { cause: err });
  }
}

/** Compresses a records payload the way Kafka clients do (xerial-framed snappy, LZ4 frame). */
export function compress(codec: number, data: Buffer): Buffer {
  switch (codec) {
    case CODEC_NONE:
      return data;
    case CODEC_GZIP:
      return zlib.gzipSync(data);
    case CODEC_SNAPPY: {
      const block = snappyCompress(data) as Buffer;
      const header = Buffer.alloc(XERIAL_HEADER_BYTES + 4);
      XERIAL_MAGIC.copy(header, 0);
      header.writeInt32BE(1, 8); // version
      header.writeInt32BE(1, 12); // minimum compatible version
      header.writeInt32BE(block.length, 16);
      return Buffer.concat([header, block]);
    }
    case CODEC_LZ4:
      return lz4Compress(data);
    case CODEC_ZSTD:
      return zlib.zstdCompressSync(data);
    default:
      throw new StorageError('INVALID_ARGUMENT', `unknown compression codec ${codec}`);
  }
}
