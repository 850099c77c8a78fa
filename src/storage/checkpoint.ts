// The data directory's checkpoint file: per log, the log start offset and the
// recovery point (every byte below it was fsynced when the file was written).
// Written atomically: write a temp file, fdatasync it, rename over the old one,
// fsync the directory. A file that fails its CRC is ignored, which only costs a
// longer recovery (every segment is rescanned) — never correctness.
//
//   diglot-checkpoint 1
//   <logName> <logStartOffset> <recoveryPoint>
//   ...
//   crc32c <hex of the CRC32C of every byte before this line>

import path from 'node:path';
import { crc32c } from '@node-rs/crc32';
import type { FileIO } from './file-io.ts';

export const CHECKPOINT_FILE = 'log-checkpoint';
const HEADER = 'diglot-checkpoint 1\n';

export interface LogCheckpoint {
  logStartOffset: number;
  recoveryPoint: number;
}

export function encodeCheckpoint(entries: Iterable<[string, LogCheckpoint]>): Buffer {
  let body = HEADER;
  for (const [name, cp] of entries) body += `${name} ${cp.logStartOffset} ${cp.recoveryPoint}\n`;
  const bytes = Buffer.from(body, 'utf8');
  return Buffer.concat([bytes, Buffer.from(`crc32c ${(crc32c(bytes) >>> 0).toString(16)}\n`, 'utf8')]);
}

/** Parses a checkpoint file; null when it is missing, torn or corrupt. */
export function decodeCheckpoint(bytes: Buffer): Map<string, LogCheckpoint> | null {
  const text = bytes.toString('utf8');
  const crcLineStart = text.lastIndexOf('crc32c ');
  if (!text.startsWith(HEADER) || crcLineStart < 0 || !text.endsWith('\n')) return null;
  const body = bytes.subarray(0, Buffer.byteLength(text.slice(0, crcLineStart), 'utf8'));
  const expected = Number.parseInt(text.slice(crcLineStart + 7, -1), 16);
  if ((crc32c(body) >>> 0) !== expected) return null;
  const result = new Map<string, LogCheckpoint>();
  for (const line of body.toString('utf8').slice(HEADER.length).split('\n')) {
    if (line === '') continue;
    const parts = line.split(' ');
    if (parts.length !== 3) return null;
    const logStartOffset = Number(parts[1]);
    const recoveryPoint = Number(parts[2]);
    if (!Number.isSafeInteger(logStartOffset) || !Number.isSafeInteger(recoveryPoint)) return null;
    result.set(parts[0]!, { logStartOffset, recoveryPoint });
  }
  return result;
}

export function readCheckpoint(io: FileIO, dir: string): Map<string, LogCheckpoint> | null {
  const file = path.join(dir, CHECKPOINT_FILE);
  if (!io.exists(file)) return null;
  const handle = io.open(file, 'r');
  try {
    const size = handle.size();
    const bytes = Buffer.allocUnsafe(size);
    const got = handle.read(bytes, 0, size, 0);
    return decodeCheckpoint(bytes.subarray(0, got));
  } finally {
    handle.close();
  }
}

/** write → fdatasync → rename → fsync(dir): the file is either the old or the new one, whole. */
export async function writeFileAtomic(io: FileIO, dir: string, name: string, bytes: Buffer): Promise<void> {
  const tmp = path.join(dir, `${name}.tmp`);
  const handle = io.open(tmp, 'rw');
  try {
    handle.truncate(0);
    handle.write(bytes, 0, bytes.length, 0);
    await handle.datasync();
  } finally {
    handle.close();
  }
  io.rename(tmp, path.join(dir, name));
  await io.syncDir(dir);
}
