// Far-future due entries, kept out of LMDB so that resident memory does not grow
// with the number of pending messages (issue 5): LMDB maps its file, and every page
// a random insert touches stays in the process's resident set, while these files
// are written and read with pwrite/pread and live only in the page cache.
//
// A hierarchical timing wheel on disk. `promotedUntilMs` (P, a multiple of the
// level-0 width) splits the due entries: those due before P are in LMDB, the rest
// in append-only bucket files. Level L buckets are 2^(12 + 6L) ms wide (4.1 s,
// 4.4 min, 4.7 h, 12.4 days, 2.2 years); an entry goes to the lowest level
// whose next-wider block also holds P, so the levels cover disjoint spans after P.
// When P reaches a bucket of level >= 1 its entries are spread into lower levels;
// the level-0 bucket starting at P is moved into LMDB shortly before P is due
// (index-store.ts promote). Bucket files hold only what their LMDB record says
// (`bytes`): a longer file (a crash between write and commit) is cut, a shorter one
// (power loss) makes the index rebuild from the log.

import { closeSync, constants, ftruncateSync, fstatSync, mkdirSync, openSync, readSync, readdirSync, rmSync, unlinkSync, writeSync } from 'node:fs';
import path from 'node:path';
import { assert, invariantFailed } from '../storage/errors.ts';

export const LEVEL0_SHIFT = 12;
/** 64 buckets of one level make one bucket of the next. */
export const LEVEL_SHIFT_STEP = 6;
export const TOP_LEVEL = 4;
export const LEVEL0_WIDTH_MS = 2 ** LEVEL0_SHIFT;
/** dueMs f64 · id f64 · topic number u32, little-endian. */
export const ENTRY_BYTES = 20;

export function levelWidthMs(level: number): number {
  return 2 ** (LEVEL0_SHIFT + LEVEL_SHIFT_STEP * level);
}

/** The level an entry due at `dueMs` (>= `promotedUntilMs`) belongs to. */
export function placeLevel(dueMs: number, promotedUntilMs: number): number {
  if (!(dueMs >= promotedUntilMs)) invariantFailed(`due ${dueMs} is before the promoted bound ${promotedUntilMs}`);
  for (let level = 0; level < TOP_LEVEL; level++) {
    const wider = levelWidthMs(level + 1);
    if (Math.floor(dueMs / wider) === Math.floor(promotedUntilMs / wider)) return level;
  }
  return TOP_LEVEL;
}

export interface BucketRecord {
  level: number;
  block: number;
  /** Bytes of entries the index vouches for. */
  bytes: number;
  /** Bytes already moved on (to a lower level or into LMDB). */
  consumed: number;
  /** The lowest id ever appended (trimming `__delay` must stay below it). */
  minId: number;
}

export function bucketKey(level: number, block: number): string {
  return `${level}:${block}`;
}

export function bucketStartMs(record: Pick<BucketRecord, 'level' | 'block'>): number {
  return record.block * levelWidthMs(record.level);
}

interface Staged {
  record: BucketRecord;
  buf: Buffer;
  used: number;
  minId: number;
}

/** The bucket files of one index directory; the records themselves are stored by the index. */
export class BucketFiles {
  readonly #dir: string;
  readonly #fds = new Map<string, number>();
  #staged = new Map<string, Staged>();

  constructor(dir: string) {
    this.#dir = dir;
    mkdirSync(dir, { recursive: true });
  }

  #file(level: number, block: number): string {
    return path.join(this.#dir, `${level}-${block}.due`);
  }

  #fd(record: BucketRecord): number {
    const key = bucketKey(record.level, record.block);
    let fd = this.#fds.get(key);
    if (fd === undefined) {
      // Not O_APPEND: Linux pwrite on an O_APPEND file ignores the position.
      fd = openSync(this.#file(record.level, record.block), constants.O_RDWR | constants.O_CREAT, 0o644);
      this.#fds.set(key, fd);
    }
    return fd;
  }

  /**
   * Matches the files to the stored records: cuts files longer than their record, deletes files
   * without one. False when a file is missing or shorter than its record (the index must be rebuilt).
   */
  reconcile(records: Iterable<BucketRecord>): boolean {
    const wanted = new Map<string, BucketRecord>();
    for (const r of records) wanted.set(`${r.level}-${r.block}.due`, r);
    let consistent = true;
    for (const name of readdirSync(this.#dir)) {
      const record = wanted.get(name);
      if (record === undefined) {
        unlinkSync(path.join(this.#dir, name));
        continue;
      }
      wanted.delete(name);
      const fd = this.#fd(record);
      const size = fstatSync(fd).size;
      if (size < record.bytes) consistent = false;
      else if (size > record.bytes) ftruncateSync(fd, record.bytes);
    }
    return consistent && wanted.size === 0;
  }

  /** Queues one entry for `record`'s file (written by `writeStaged`, inside the index's transaction). */
  stage(record: BucketRecord, dueMs: number, id: number, topicNumber: number): void {
    const key = bucketKey(record.level, record.block);
    let staged = this.#staged.get(key);
    if (staged === undefined) {
      staged = { record, buf: Buffer.allocUnsafe(64 * ENTRY_BYTES), used: 0, minId: Infinity };
      this.#staged.set(key, staged);
    }
    if (staged.used + ENTRY_BYTES > staged.buf.length) {
      const bigger = Buffer.allocUnsafe(staged.buf.length * 2);
      staged.buf.copy(bigger, 0, 0, staged.used);
      staged.buf = bigger;
    }
    staged.buf.writeDoubleLE(dueMs, staged.used);
    staged.buf.writeDoubleLE(id, staged.used + 8);
    staged.buf.writeUInt32LE(topicNumber, staged.used + 16);
    staged.used += ENTRY_BYTES;
    if (id < staged.minId) staged.minId = id;
  }

  /** Writes the staged entries at each record's end (positioned: a stale tail is overwritten) and updates the records; returns them. */
  writeStaged(): BucketRecord[] {
    const changed: BucketRecord[] = [];
    const staged = this.#staged;
    this.#staged = new Map();
    for (const s of staged.values()) {
      const fd = this.#fd(s.record);
      let done = 0;
      for (let i = 0; i < 1000 && done < s.used; i++) done += writeSync(fd, s.buf, done, s.used - done, s.record.bytes + done);
      assert(done === s.used, 'bucket write made no progress');
      s.record.bytes += s.used;
      if (s.minId < s.record.minId) s.record.minId = s.minId;
      changed.push(s.record);
    }
    return changed;
  }

  /** Forgets staged entries (an aborted transaction). */
  dropStaged(): void {
    this.#staged = new Map();
  }

  /** Up to `maxBytes` of `record`'s entries from byte `from` (a whole number of entries). */
  read(record: BucketRecord, from: number, maxBytes: number): Buffer {
    const n = Math.min(maxBytes - (maxBytes % ENTRY_BYTES), record.bytes - from);
    const buf = Buffer.allocUnsafe(Math.max(0, n));
    let done = 0;
    for (let i = 0; i < 1000 && done < n; i++) {
      const got = readSync(this.#fd(record), buf, done, n - done, from + done);
      if (got === 0) break;
      done += got;
    }
    assert(done === n, `bucket ${record.level}-${record.block} is shorter than its record (${from + done} < ${from + n})`);
    return buf;
  }

  remove(record: BucketRecord): void {
    const key = bucketKey(record.level, record.block);
    const fd = this.#fds.get(key);
    if (fd !== undefined) closeSync(fd);
    this.#fds.delete(key);
    rmSync(this.#file(record.level, record.block), { force: true });
  }

  removeAll(): void {
    this.closeAll();
    this.#staged = new Map();
    for (const name of readdirSync(this.#dir)) unlinkSync(path.join(this.#dir, name));
  }

  closeAll(): void {
    for (const fd of this.#fds.values()) closeSync(fd);
    this.#fds.clear();
  }
}
