// A bounded pool of open file handles shared by every log, so that tens of
// thousands of partitions work with a fixed number of descriptors. Handles are
// reopened on demand; a handle pinned by an in-flight datasync is never closed.
// Closing a handle loses nothing: unsynced writes live in the page cache (and
// in the memory twin, on the inode) until a later datasync on any handle.

import { assert } from './errors.ts';
import type { FileHandle, FileIO } from './file-io.ts';

export class CachedFile {
  readonly path: string;
  handle: FileHandle | null = null;
  pins = 0;
  /** close() was asked while pinned: close at the last unpin. */
  closeWhenUnpinned = false;
  /** Doubly linked LRU list; head = least recently used. */
  prev: CachedFile | null = null;
  next: CachedFile | null = null;
  constructor(path: string) {
    this.path = path;
  }
}

export class FileCache {
  readonly #io: FileIO;
  readonly #openFilesMax: number;
  #openCount = 0;
  #head: CachedFile | null = null;
  #tail: CachedFile | null = null;
  /** Times a handle had to be opened (first open or reopen after eviction). */
  opens = 0;

  constructor(io: FileIO, openFilesMax: number) {
    assert(openFilesMax >= 4, 'openFilesMax must be at least 4');
    this.#io = io;
    this.#openFilesMax = openFilesMax;
  }

  get openCount(): number {
    return this.#openCount;
  }

  /** The open handle for `file`, opening it (read-write, created when missing) if needed. */
  handle(file: CachedFile): FileHandle {
    if (file.handle !== null) {
      if (this.#tail !== file) {
        this.#unlink(file);
        this.#append(file);
      }
      return file.handle;
    }
    this.#evictFor(1);
    file.handle = this.#io.open(file.path, 'rw');
    this.opens++;
    this.#openCount++;
    this.#append(file);
    return file.handle;
  }

  exists(file: CachedFile): boolean {
    return file.handle !== null || this.#io.exists(file.path);
  }

  /** Keeps the handle open across an await (e.g. datasync). Pair with unpin(). */
  pin(file: CachedFile): FileHandle {
    const handle = this.handle(file);
    file.pins++;
    return handle;
  }

  unpin(file: CachedFile): void {
    assert(file.pins > 0, `unpin without pin: ${file.path}`);
    file.pins--;
    if (file.pins === 0 && file.closeWhenUnpinned) this.close(file);
  }

  /** Closes the handle (e.g. before unlinking the file); a pinned one closes at its last unpin. */
  close(file: CachedFile): void {
    if (file.handle === null) return;
    if (file.pins > 0) {
      file.closeWhenUnpinned = true;
      return;
    }
    file.closeWhenUnpinned = false;
    this.#unlink(file);
    const handle = file.handle;
    file.handle = null;
    this.#openCount--;
    handle.close();
  }

  closeAll(): void {
    for (let file = this.#head; file !== null; ) {
      const next = file.next;
      this.close(file);
      file = next;
    }
  }

  #evictFor(needed: number): void {
    let candidate = this.#head;
    while (this.#openCount + needed > this.#openFilesMax && candidate !== null) {
      const next = candidate.next;
      if (candidate.pins === 0) this.close(candidate);
      candidate = next;
    }
    // Every handle pinned: exceed the budget rather than deadlock; pins are short-lived.
  }

  #append(file: CachedFile): void {
    file.prev = this.#tail;
    file.next = null;
    if (this.#tail !== null) this.#tail.next = file;
    else this.#head = file;
    this.#tail = file;
  }

  #unlink(file: CachedFile): void {
    if (file.prev !== null) file.prev.next = file.next;
    else if (this.#head === file) this.#head = file.next;
    if (file.next !== null) file.next.prev = file.prev;
    else if (this.#tail === file) this.#tail = file.prev;
    file.prev = null;
    file.next = null;
  }
}
