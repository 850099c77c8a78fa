// One segment of a partition log: `<baseOffset>.log` holding whole RecordBatch v2
// blobs, plus two sparse indexes:
//   `<baseOffset>.index`     entries of (relativeOffset u32, position u32)
//   `<baseOffset>.timeindex` entries of (maxTimestampSoFar i64, relativeOffset u32)
// An offset entry (r, p) says the batch with baseOffset = base + r starts at p.
// A time entry (t, r) says every batch before base + r has maxTimestamp <= t.
//
// The active segment keeps its indexes in memory and writes them out when it is
// sealed (rolled or closed cleanly); recovery rebuilds the indexes of every
// segment it cannot trust, so index files never need a sync of their own on the
// hot path.

import path from 'node:path';
import { assert } from './errors.ts';
import { CachedFile, type FileCache } from './file-cache.ts';
import {
  BASE_OFFSET,
  BATCH_HEADER_BYTES,
  LAST_OFFSET_DELTA,
  LOG_OVERHEAD,
  MAX_TIMESTAMP,
  checkBatch,
  readInt32,
  readInt64,
  readUInt32,
  writeInt32,
} from './record-batch.ts';

export const OFFSET_ENTRY_BYTES = 8;
export const TIME_ENTRY_BYTES = 12;
/** Relative offsets are u32; roll before they would overflow. */
export const RELATIVE_OFFSET_MAX = 0xffff_ffff;
/** Positions are u32 in the index, and batch sizes i32: keep segments under 2 GiB. */
export const SEGMENT_BYTES_LIMIT = 0x7fff_ffff;

export function segmentFileName(baseOffset: number, ext: 'log' | 'index' | 'timeindex'): string {
  return `${String(baseOffset).padStart(20, '0')}.${ext}`;
}

/** Parses `00000000000000000042.log` → 42, or -1 when the name is not a segment file. */
export function parseSegmentFileName(name: string): { baseOffset: number; ext: string } | null {
  const match = /^(\d{20})\.(log|index|timeindex)$/.exec(name);
  if (match === null) return null;
  const baseOffset = Number(match[1]);
  if (!Number.isSafeInteger(baseOffset)) return null;
  return { baseOffset, ext: match[2]! };
}

/** Growable in-memory index for the active segment (u32 words). */
class IndexMirror {
  words: Uint32Array;
  count = 0; // entries
  readonly wordsPerEntry: number;
  constructor(wordsPerEntry: number) {
    this.wordsPerEntry = wordsPerEntry;
    this.words = new Uint32Array(64 * wordsPerEntry);
  }
  push3(a: number, b: number, c: number): void {
    this.#ensure();
    const i = this.count * this.wordsPerEntry;
    this.words[i] = a;
    this.words[i + 1] = b;
    if (this.wordsPerEntry === 3) this.words[i + 2] = c;
    this.count++;
  }
  #ensure(): void {
    if ((this.count + 1) * this.wordsPerEntry <= this.words.length) return;
    const grown = new Uint32Array(this.words.length * 2);
    grown.set(this.words);
    this.words = grown;
  }
}

export interface BatchInfo {
  position: number;
  sizeBytes: number;
  baseOffset: number;
  lastOffset: number;
  maxTimestampMs: number;
}

export interface ScanOutcome {
  /** Position after the last valid batch. */
  validEndPosition: number;
  /** Offset after the last valid batch (the next expected baseOffset). */
  nextOffset: number;
  /** Why scanning stopped before the end of the file, or null when the file was clean. */
  stopReason: string | null;
}

export const SCAN_CHUNK_BYTES = 1 << 20;
/** The stage is written once it holds this many buffers or bytes: measured here, pwritev of 4-16
 * batches (64-256 KiB) beat one write per batch by ~1.3x, and 1 MiB writes were 2x slower. */
const STAGED_BUFFERS_MAX = 16;
const STAGED_BYTES_MAX = 256 * 1024;

export class Segment {
  readonly baseOffset: number;
  readonly dir: string;
  readonly logFile: CachedFile;
  readonly offsetIndexFile: CachedFile;
  readonly timeIndexFile: CachedFile;
  readonly #cache: FileCache;

  sizeBytes = 0;
  nextOffset: number;
  maxTimestampMs = -1;
  offsetOfMaxTimestamp = -1;
  /** Broker clock when the first batch was appended (or, after recovery, its maxTimestamp). */
  firstAppendMs = -1;
  /** True once the indexes are written to files and the segment takes no more appends. */
  sealed = false;
  /**
   * True once the sealed index files are known to be on disk. Until then the
   * segment must not count as below the recovery point: a torn index that
   * still looks sane would send lookups to a wrong position.
   */
  indexesDurable = false;

  /** Appended buffers not yet written to the file, and their total size. */
  #staged: Buffer[] = [];
  #stagedBytes = 0;

  // Active-segment index state.
  #offsetMirror: IndexMirror | null = new IndexMirror(2);
  #timeMirror: IndexMirror | null = new IndexMirror(3);
  #bytesSinceIndexEntry = 0;
  #lastTimeEntryMs = -1;
  /** Max timestamp of the batches before the one being indexed. */
  #maxBefore = -1;
  readonly #indexIntervalBytes: number;

  constructor(cache: FileCache, dir: string, baseOffset: number, indexIntervalBytes: number) {
    assert(Number.isSafeInteger(baseOffset) && baseOffset >= 0, `segment base offset ${baseOffset}`);
    this.#cache = cache;
    this.dir = dir;
    this.baseOffset = baseOffset;
    this.nextOffset = baseOffset;
    this.#indexIntervalBytes = indexIntervalBytes;
    this.logFile = new CachedFile(path.join(dir, segmentFileName(baseOffset, 'log')));
    this.offsetIndexFile = new CachedFile(path.join(dir, segmentFileName(baseOffset, 'index')));
    this.timeIndexFile = new CachedFile(path.join(dir, segmentFileName(baseOffset, 'timeindex')));
  }

  isEmpty(): boolean {
    return this.sizeBytes === 0;
  }

  /**
   * Appends bytes holding whole, already validated and patched batches; `batches`
   * (the first `count` entries) describe them with positions relative to `buf`.
   * The bytes are staged and reach the file at commit(): many small appends
   * become one pwritev. Returns true when the stage was empty before.
   */
  appendBytes(buf: Buffer, batches: readonly BatchInfo[], count: number): boolean {
    assert(!this.sealed, 'append to a sealed segment');
    assert(this.sizeBytes + buf.length <= SEGMENT_BYTES_LIMIT, 'segment would exceed 2 GiB');
    const position = this.sizeBytes;
    const wasEmpty = this.#staged.length === 0;
    this.#staged.push(buf);
    this.#stagedBytes += buf.length;
    this.sizeBytes = position + buf.length;
    for (let i = 0; i < count; i++) this.#indexBatch(batches[i]!, position);
    if (this.#staged.length >= STAGED_BUFFERS_MAX || this.#stagedBytes >= STAGED_BYTES_MAX) this.commit();
    return wasEmpty;
  }

  /** True when appended bytes wait in the stage. */
  hasStaged(): boolean {
    return this.#staged.length > 0;
  }

  /** Writes the staged bytes to the file (page cache) with one positional write. */
  commit(): void {
    const staged = this.#staged;
    if (staged.length === 0) return;
    const handle = this.#cache.handle(this.logFile);
    const position = this.sizeBytes - this.#stagedBytes;
    if (staged.length === 1) handle.write(staged[0]!, 0, staged[0]!.length, position);
    else handle.writev(staged, position);
    this.#staged = [];
    this.#stagedBytes = 0;
  }

  /** Records one batch in the in-memory indexes. `base` shifts positions relative to an append buffer. */
  #indexBatch(batch: BatchInfo, base: number): void {
    const position = base + batch.position;
    if (this.firstAppendMs < 0) this.firstAppendMs = batch.maxTimestampMs;
    if (batch.maxTimestampMs > this.maxTimestampMs) {
      this.maxTimestampMs = batch.maxTimestampMs;
      this.offsetOfMaxTimestamp = batch.lastOffset;
    }
    if (this.#bytesSinceIndexEntry >= this.#indexIntervalBytes || this.#offsetMirror!.count === 0) {
      const relative = batch.baseOffset - this.baseOffset;
      this.#offsetMirror!.push3(relative, position, 0);
      // Every batch before this one has maxTimestamp <= the max seen before it.
      this.#pushTimeEntry(this.#maxBefore, relative);
      this.#bytesSinceIndexEntry = 0;
    }
    this.#maxBefore = this.maxTimestampMs;
    this.#bytesSinceIndexEntry += batch.sizeBytes;
    this.nextOffset = batch.lastOffset + 1;
  }

  #pushTimeEntry(timestampMs: number, relative: number): void {
    if (timestampMs <= this.#lastTimeEntryMs) return;
    const hi = Math.floor(timestampMs / 0x1_0000_0000);
    this.#timeMirror!.push3(hi >>> 0, (timestampMs - hi * 0x1_0000_0000) >>> 0, relative);
    this.#lastTimeEntryMs = timestampMs;
  }

  /** The sealed offset index as (relative offset, position) pairs, from the bounded cache; null when too big for it. */
  #sealedOffsetWords(): Uint32Array | null {
    const cached = sealedIndexCache.get(this);
    if (cached !== undefined) {
      if (lastSealedIndexUsed !== this) {
        // Most recently used goes last (unless it is already: lookups in one segment come in runs).
        sealedIndexCache.delete(this);
        sealedIndexCache.set(this, cached);
        lastSealedIndexUsed = this;
      }
      return cached;
    }
    const bytes = readWhole(this.#cache, this.offsetIndexFile);
    const n = Math.floor(bytes.length / OFFSET_ENTRY_BYTES);
    const words = new Uint32Array(n * 2);
    for (let i = 0; i < n; i++) {
      words[i * 2] = readUInt32(bytes, i * 8);
      words[i * 2 + 1] = readUInt32(bytes, i * 8 + 4);
    }
    return cacheSealedIndex(this, words) ? words : null;
  }

  /** Position of the indexed batch with the largest baseOffset <= `offset`. */
  lookupPosition(offset: number): number {
    const relative = offset - this.baseOffset;
    if (relative <= 0) return 0;
    if (!this.sealed) return floorPosition(this.#offsetMirror!.words, this.#offsetMirror!.count, relative);
    const words = this.#sealedOffsetWords();
    if (words !== null) return floorPosition(words, words.length / 2, relative);
    const handle = this.#cache.handle(this.offsetIndexFile);
    const entries = Math.floor(handle.size() / OFFSET_ENTRY_BYTES);
    const entry = entryScratch;
    let lo = 0;
    let hi = entries - 1;
    let found = 0;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      handle.read(entry, 0, OFFSET_ENTRY_BYTES, mid * OFFSET_ENTRY_BYTES);
      if (readUInt32(entry, 0) <= relative) {
        found = readUInt32(entry, 4);
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return found;
  }

  /** Offset from which to scan for the first batch with maxTimestamp >= `timestampMs`. */
  lookupTimestamp(timestampMs: number): number {
    let best = this.baseOffset;
    if (!this.sealed) {
      const mirror = this.#timeMirror!;
      for (let lo = 0, hi = mirror.count - 1; lo <= hi; ) {
        const mid = (lo + hi) >>> 1;
        const ts = mirror.words[mid * 3]! * 0x1_0000_0000 + mirror.words[mid * 3 + 1]!;
        if (ts < timestampMs) {
          best = this.baseOffset + mirror.words[mid * 3 + 2]!;
          lo = mid + 1;
        } else hi = mid - 1;
      }
      return best;
    }
    const handle = this.#cache.handle(this.timeIndexFile);
    const entries = Math.floor(handle.size() / TIME_ENTRY_BYTES);
    const entry = entryScratch;
    for (let lo = 0, hi = entries - 1; lo <= hi; ) {
      const mid = (lo + hi) >>> 1;
      handle.read(entry, 0, TIME_ENTRY_BYTES, mid * TIME_ENTRY_BYTES);
      if (readInt64(entry, 0) < timestampMs) {
        best = this.baseOffset + readUInt32(entry, 8);
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return best;
  }

  read(buf: Uint8Array, offset: number, length: number, position: number): number {
    if (this.#staged.length > 0) this.commit();
    return this.#cache.handle(this.logFile).read(buf, offset, length, position);
  }

  /**
   * Writes the in-memory indexes to their files and stops taking appends.
   * The caller syncs the three files (they are returned) before trusting them.
   */
  seal(): CachedFile[] {
    if (this.sealed) return [];
    this.commit();
    const offsetMirror = this.#offsetMirror!;
    const timeMirror = this.#timeMirror!;
    // Final time entry: the segment's max, so loaders can read it from the last entry.
    if (this.maxTimestampMs > this.#lastTimeEntryMs) {
      this.#pushTimeEntry(this.maxTimestampMs, this.nextOffset - this.baseOffset);
    }
    const offsetBytes = Buffer.allocUnsafe(offsetMirror.count * OFFSET_ENTRY_BYTES);
    for (let i = 0; i < offsetMirror.count; i++) {
      writeInt32(offsetBytes, i * 8, offsetMirror.words[i * 2]!);
      writeInt32(offsetBytes, i * 8 + 4, offsetMirror.words[i * 2 + 1]!);
    }
    const timeBytes = Buffer.allocUnsafe(timeMirror.count * TIME_ENTRY_BYTES);
    for (let i = 0; i < timeMirror.count; i++) {
      writeInt32(timeBytes, i * 12, timeMirror.words[i * 3]!);
      writeInt32(timeBytes, i * 12 + 4, timeMirror.words[i * 3 + 1]!);
      writeInt32(timeBytes, i * 12 + 8, timeMirror.words[i * 3 + 2]!);
    }
    writeWhole(this.#cache, this.offsetIndexFile, offsetBytes);
    writeWhole(this.#cache, this.timeIndexFile, timeBytes);
    cacheSealedIndex(this, offsetMirror.words.slice(0, offsetMirror.count * 2));
    this.#offsetMirror = null;
    this.#timeMirror = null;
    this.sealed = true;
    return [this.logFile, this.offsetIndexFile, this.timeIndexFile];
  }

  /** Reopens a sealed segment whose whole content is trusted, if its index files are sane. */
  loadTrusted(nextOffset: number): boolean {
    const logHandle = this.#cache.handle(this.logFile);
    this.sizeBytes = logHandle.size();
    if (!this.#cacheFileExists(this.offsetIndexFile) || !this.#cacheFileExists(this.timeIndexFile)) return false;
    const offsetBytes = readWhole(this.#cache, this.offsetIndexFile);
    const timeBytes = readWhole(this.#cache, this.timeIndexFile);
    if (offsetBytes.length % OFFSET_ENTRY_BYTES !== 0 || timeBytes.length % TIME_ENTRY_BYTES !== 0) return false;
    if (this.sizeBytes > 0 && offsetBytes.length === 0) return false;
    const relativeEnd = nextOffset - this.baseOffset;
    let lastRelative = -1;
    let lastPosition = -1;
    for (let i = 0; i < offsetBytes.length; i += OFFSET_ENTRY_BYTES) {
      const relative = readUInt32(offsetBytes, i);
      const position = readUInt32(offsetBytes, i + 4);
      if (relative <= lastRelative || position <= lastPosition || position >= this.sizeBytes || relative >= relativeEnd) return false;
      if (i === 0 && (relative !== 0 || position !== 0)) return false;
      lastRelative = relative;
      lastPosition = position;
    }
    let lastTs = -Infinity;
    let lastTimeRelative = -1;
    for (let i = 0; i < timeBytes.length; i += TIME_ENTRY_BYTES) {
      const ts = readInt64(timeBytes, i);
      const relative = readUInt32(timeBytes, i + 8);
      if (ts <= lastTs || relative < lastTimeRelative || relative > relativeEnd) return false;
      lastTs = ts;
      lastTimeRelative = relative;
    }
    this.nextOffset = nextOffset;
    // The seal wrote the segment's max as the last time entry. Which offset holds
    // it is not indexed; it is found by a scan when asked (ListOffsets MAX_TIMESTAMP).
    if (timeBytes.length > 0) this.maxTimestampMs = lastTs;
    this.offsetOfMaxTimestamp = -1;
    this.firstAppendMs = this.maxTimestampMs;
    this.#offsetMirror = null;
    this.#timeMirror = null;
    this.sealed = true;
    this.indexesDurable = true;
    return true;
  }

  #cacheFileExists(file: CachedFile): boolean {
    return file.handle !== null || this.#cache.exists(file);
  }

  /**
   * Validates batches from the start of the log file, rebuilding the in-memory
   * indexes, and cuts the file at the first invalid byte. Offsets must be dense
   * from `baseOffset`. Returns what was found; the segment stays active (unsealed).
   */
  recover(maxBatchBytes: number, scratch: { buf: Buffer }): ScanOutcome {
    dropSealedIndex(this);
    this.sealed = false;
    this.indexesDurable = false;
    this.#offsetMirror = new IndexMirror(2);
    this.#timeMirror = new IndexMirror(3);
    this.#bytesSinceIndexEntry = 0;
    this.#lastTimeEntryMs = -1;
    this.#maxBefore = -1;
    this.maxTimestampMs = -1;
    this.offsetOfMaxTimestamp = -1;
    this.firstAppendMs = -1;
    this.nextOffset = this.baseOffset;
    const handle = this.#cache.handle(this.logFile);
    const fileSize = handle.size();
    let position = 0; // start of the current chunk
    let validEnd = 0; // end of the last valid batch
    let stopReason: string | null = null;
    const info: BatchInfo = { position: 0, sizeBytes: 0, baseOffset: 0, lastOffset: 0, maxTimestampMs: 0 };
    scan: while (position < fileSize && stopReason === null) {
      const got = handle.read(scratch.buf, 0, Math.min(scratch.buf.length, fileSize - position), position);
      const moreInFile = position + got < fileSize;
      let pos = 0;
      while (pos < got) {
        const remaining = got - pos;
        if (remaining < BATCH_HEADER_BYTES) {
          if (moreInFile) break; // re-read from here; pos > 0 because the chunk is >= 1 MiB
          stopReason = `truncated batch header at position ${position + pos}`;
          break scan;
        }
        const size = LOG_OVERHEAD + readInt32(scratch.buf, pos + 8);
        if (size < BATCH_HEADER_BYTES || size > maxBatchBytes) {
          stopReason = `batch size ${size} at position ${position + pos}`;
          break scan;
        }
        if (size > remaining) {
          if (position + pos + size > fileSize) {
            stopReason = `truncated batch at position ${position + pos}`;
            break scan;
          }
          if (size > scratch.buf.length) scratch.buf = Buffer.allocUnsafe(size);
          break; // re-read from the batch start with a buffer that holds it
        }
        const reason = checkBatch(scratch.buf, pos, got, maxBatchBytes);
        if (reason !== null) {
          stopReason = `${reason} at position ${position + pos}`;
          break scan;
        }
        const baseOffset = readInt64(scratch.buf, pos + BASE_OFFSET);
        if (baseOffset !== this.nextOffset) {
          stopReason = `baseOffset ${baseOffset} at position ${position + pos} where ${this.nextOffset} was expected`;
          break scan;
        }
        info.position = position + pos;
        info.sizeBytes = size;
        info.baseOffset = baseOffset;
        info.lastOffset = baseOffset + readInt32(scratch.buf, pos + LAST_OFFSET_DELTA);
        info.maxTimestampMs = readInt64(scratch.buf, pos + MAX_TIMESTAMP);
        this.#indexBatch(info, 0);
        pos += size;
        validEnd = position + pos;
      }
      position += pos;
    }
    this.sizeBytes = validEnd;
    if (validEnd < fileSize) handle.truncate(validEnd);
    return { validEndPosition: validEnd, nextOffset: this.nextOffset, stopReason };
  }

  /** Closes every handle of the segment; staged bytes are dropped (callers commit first when they matter). */
  close(): void {
    dropSealedIndex(this);
    this.#staged = [];
    this.#stagedBytes = 0;
    this.#cache.close(this.logFile);
    this.#cache.close(this.offsetIndexFile);
    this.#cache.close(this.timeIndexFile);
  }
}

const entryScratch = Buffer.alloc(TIME_ENTRY_BYTES);

/** Binary search in `count` (relative offset, position) word pairs: the position of the last entry <= `relative`, else 0. */
function floorPosition(words: Uint32Array, count: number, relative: number): number {
  let lo = 0;
  let hi = count - 1;
  let found = 0;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    if (words[mid * 2]! <= relative) {
      found = words[mid * 2 + 1]!;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found;
}

/**
 * Offset indexes of sealed segments kept in memory, least recently used
 * dropped past a fixed budget: a lookup in a sealed segment (a consumer behind,
 * a delay message fired from an older `__delay` segment) is then a binary
 * search in memory instead of one pread per probe. 32 MiB covers the indexes
 * of about 16 TiB of log at the default index interval.
 */
const SEALED_INDEX_CACHE_BYTES = 32 * 1024 * 1024;
const sealedIndexCache = new Map<Segment, Uint32Array>();
let lastSealedIndexUsed: Segment | null = null;
let sealedIndexCacheBytes = 0;

function cacheSealedIndex(segment: Segment, words: Uint32Array): boolean {
  if (words.byteLength > SEALED_INDEX_CACHE_BYTES / 4) return false;
  dropSealedIndex(segment);
  sealedIndexCache.set(segment, words);
  lastSealedIndexUsed = segment;
  sealedIndexCacheBytes += words.byteLength;
  for (const [oldest, oldestWords] of sealedIndexCache) {
    if (sealedIndexCacheBytes <= SEALED_INDEX_CACHE_BYTES) break;
    if (lastSealedIndexUsed === oldest) lastSealedIndexUsed = null;
    sealedIndexCache.delete(oldest);
    sealedIndexCacheBytes -= oldestWords.byteLength;
  }
  return true;
}

function dropSealedIndex(segment: Segment): void {
  const words = sealedIndexCache.get(segment);
  if (words === undefined) return;
  if (lastSealedIndexUsed === segment) lastSealedIndexUsed = null;
  sealedIndexCache.delete(segment);
  sealedIndexCacheBytes -= words.byteLength;
}

function writeWhole(cache: FileCache, file: CachedFile, bytes: Buffer): void {
  const handle = cache.handle(file);
  handle.truncate(0);
  if (bytes.length > 0) handle.write(bytes, 0, bytes.length, 0);
}

function readWhole(cache: FileCache, file: CachedFile): Buffer {
  const handle = cache.handle(file);
  const size = handle.size();
  const bytes = Buffer.allocUnsafe(size);
  const got = handle.read(bytes, 0, size, 0);
  return bytes.subarray(0, got);
}

