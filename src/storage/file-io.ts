// The only way storage touches files. Two implementations share this contract:
// NodeFileIO (real disk) and MemoryFileIO (simulation twin that can tear writes,
// drop unsynced data and crash at any operation).
//
// Durability contract (what recovery may rely on, and nothing more):
// - Bytes written to a file are durable only once a datasync() on that file,
//   started after the write, has resolved.
// - Creating, renaming or unlinking a directory entry is durable only once a
//   syncDir() on the parent directory, started after the change, has resolved.
// - After a crash, any write that was not made durable may be absent, present,
//   or present in part (a torn write); gaps read as zero bytes. Unsynced
//   directory changes survive as a prefix of the order in which they happened.
//
// Reads and writes are synchronous on purpose: appends and reads hit the page
// cache, and a sync syscall is far cheaper in Node than a thread-pool hop.
// Only the calls that wait for the device (datasync, syncDir) are async, and
// readMany(): a batch of reads done off the calling thread, so that a caller
// with a known list of scattered reads (delay firing) overlaps them with its
// own work instead of paying a syscall per read on the event loop.

export interface FileHandle {
  readonly path: string;
  /** Positional read. Returns the number of bytes read; fewer than `length` only at end of file. */
  read(buf: Uint8Array, offset: number, length: number, position: number): number;
  /** Positional write of all `length` bytes; extends the file when writing past its end. */
  write(buf: Uint8Array, offset: number, length: number, position: number): void;
  /**
   * Writes the buffers back to back from `position` with one call (pwritev(2)).
   * Like write() for durability; after a crash any prefix or part may be present.
   */
  writev(buffers: readonly Uint8Array[], position: number): void;
  /** Current size in bytes, including writes not yet durable. */
  size(): number;
  /** Cuts or zero-extends the file to `sizeBytes`. A metadata change, durable after datasync(). */
  truncate(sizeBytes: number): void;
  /** fdatasync(2): resolves once every write issued before the call is durable. */
  datasync(): Promise<void>;
  close(): void;
}

export type OpenMode =
  /** read only; the file must exist */
  | 'r'
  /** read and write; created empty when missing */
  | 'rw';

/**
 * A batch of positional reads for FileIO.readMany(): read i takes `slotBytes` (fewer at end of
 * file) from paths[file[i]] at position[i] into bytes [i * slotBytes, (i + 1) * slotBytes) of `slab`.
 */
export interface ReadManyRequest {
  readonly paths: readonly string[];
  readonly file: Int32Array;
  readonly position: Float64Array;
  readonly count: number;
  readonly slotBytes: number;
  /** At least count * slotBytes; handed over (transferred) and returned in the result, not shared. */
  readonly slab: ArrayBuffer;
}

export interface ReadManyResult {
  readonly slab: ArrayBuffer;
  /** Bytes read into each slot; -1 when its file could not be opened or read. */
  readonly got: Int32Array;
}

export interface FileIO {
  /**
   * Does the reads of `request` off the calling thread. The files are opened for the call and
   * closed after it. Reads see every write made before the call. Never rejects for a failed read
   * (that slot gets -1); rejects only when the reading machinery itself failed.
   */
  readMany(request: ReadManyRequest): Promise<ReadManyResult>;
  open(path: string, mode: OpenMode): FileHandle;
  exists(path: string): boolean;
  /** Names (not paths) in a directory, sorted; [] when the directory is missing. */
  readdir(dir: string): string[];
  /** True when `path` is a directory. */
  isDirectory(path: string): boolean;
  /** Creates a directory and its missing parents. */
  mkdirp(dir: string): void;
  unlink(path: string): void;
  /** Atomically replaces `to` with `from`. */
  rename(from: string, to: string): void;
  /** Removes a directory and everything below it. */
  rmrf(dir: string): void;
  /** fsync(2) on a directory: makes its entry changes durable. */
  syncDir(dir: string): Promise<void>;
  /**
   * Takes an exclusive, advisory lock named by `path` for this process, or
   * returns null when another live process holds it. A holder that died
   * (kill -9) leaves a stale lock that the next taker claims.
   */
  lock(path: string): FileLock | null;
}

export interface FileLock {
  release(): void;
}

/** Thrown by file operations; `code` is a stable string like Node's errno codes. */
export class FileIOError extends Error {
  readonly code: string;
  readonly path: string;
  constructor(code: string, path: string, message?: string) {
    super(message ?? `${code}: ${path}`);
    this.name = 'FileIOError';
    this.code = code;
    this.path = path;
  }
}
