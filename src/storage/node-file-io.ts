import fs from 'node:fs';
import path from 'node:path';
import { FileIOError, type FileHandle, type FileIO, type FileLock, type OpenMode, type ReadManyRequest, type ReadManyResult } from './file-io.ts';
import { readManyOffThread } from './read-many.ts';

function wrap(err: unknown, filePath: string): FileIOError {
  const e = err as NodeJS.ErrnoException;
  return new FileIOError(e.code ?? 'EIO', filePath, e.message);
}

class NodeFileHandle implements FileHandle {
  readonly path: string;
  #fd: number;
  #sizeBytes: number;

  constructor(filePath: string, fd: number) {
    this.path = filePath;
    this.#fd = fd;
    this.#sizeBytes = fs.fstatSync(fd).size;
  }

  read(buf: Uint8Array, offset: number, length: number, position: number): number {
    let done = 0;
    // A regular file returns short reads only at EOF, but loop to be safe.
    while (done < length) {
      const n = fs.readSync(this.#fd, buf, offset + done, length - done, position + done);
      if (n === 0) break;
      done += n;
    }
    return done;
  }

  write(buf: Uint8Array, offset: number, length: number, position: number): void {
    let done = 0;
    while (done < length) {
      done += fs.writeSync(this.#fd, buf, offset + done, length - done, position + done);
    }
    const end = position + length;
    if (length > 0 && end > this.#sizeBytes) this.#sizeBytes = end;
  }

  writev(buffers: readonly Uint8Array[], position: number): void {
    let total = 0;
    for (const b of buffers) total += b.length;
    let done = fs.writevSync(this.#fd, buffers as Uint8Array[], position);
    if (done < total) {
      // A short pwritev (rare: signals, limits): finish with plain writes.
      let skip = done;
      for (const b of buffers) {
        if (skip >= b.length) {
          skip -= b.length;
          continue;
        }
        this.write(b, skip, b.length - skip, position + done);
        done += b.length - skip;
        skip = 0;
      }
    }
    const end = position + total;
    if (total > 0 && end > this.#sizeBytes) this.#sizeBytes = end;
  }

  size(): number {
    return this.#sizeBytes;
  }

  truncate(sizeBytes: number): void {
    fs.ftruncateSync(this.#fd, sizeBytes);
    this.#sizeBytes = sizeBytes;
  }

  datasync(): Promise<void> {
    const fd = this.#fd;
    return new Promise((resolve, reject) => {
      fs.fdatasync(fd, (err) => (err ? reject(wrap(err, this.path)) : resolve()));
    });
  }

  close(): void {
    if (this.#fd < 0) return;
    fs.closeSync(this.#fd);
    this.#fd = -1;
  }
}

export class NodeFileIO implements FileIO {
  open(filePath: string, mode: OpenMode): FileHandle {
    try {
      const fd = fs.openSync(filePath, mode === 'r' ? 'r' : fs.constants.O_RDWR | fs.constants.O_CREAT);
      return new NodeFileHandle(filePath, fd);
    } catch (err) {
      throw wrap(err, filePath);
    }
  }

  readMany(request: ReadManyRequest): Promise<ReadManyResult> {
    return readManyOffThread(request);
  }

  exists(filePath: string): boolean {
    return fs.existsSync(filePath);
  }

  readdir(dir: string): string[] {
    try {
      return fs.readdirSync(dir).sort();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw wrap(err, dir);
    }
  }

  isDirectory(filePath: string): boolean {
    try {
      return fs.statSync(filePath).isDirectory();
    } catch {
      return false;
    }
  }

  mkdirp(dir: string): void {
    fs.mkdirSync(dir, { recursive: true });
  }

  unlink(filePath: string): void {
    try {
      fs.unlinkSync(filePath);
    } catch (err) {
      throw wrap(err, filePath);
    }
  }

  rename(from: string, to: string): void {
    try {
      fs.renameSync(from, to);
    } catch (err) {
      throw wrap(err, from);
    }
  }

  rmrf(dir: string): void {
    fs.rmSync(dir, { recursive: true, force: true });
  }

  lock(filePath: string): FileLock | null {
    // A pid file created with O_EXCL; a pid that no longer runs marks a stale lock.
    const key = path.resolve(filePath);
    if (locksHeldHere.has(key)) return null;
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        const fd = fs.openSync(filePath, 'wx');
        fs.writeSync(fd, `${process.pid}\n`);
        fs.closeSync(fd);
        locksHeldHere.add(key);
        let held = true;
        return {
          release: () => {
            if (!held) return;
            held = false;
            locksHeldHere.delete(key);
            fs.rmSync(filePath, { force: true });
          },
        };
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw wrap(err, filePath);
      }
      const holder = Number.parseInt(fs.readFileSync(filePath, 'utf8'), 10);
      // Our own pid without our own record is a previous holder whose pid was reused.
      if (Number.isInteger(holder) && holder > 0 && holder !== process.pid && isAlive(holder)) return null;
      fs.rmSync(filePath, { force: true }); // stale: its process is gone (or the file is garbage)
    }
    return null;
  }

  syncDir(dir: string): Promise<void> {
    return new Promise((resolve, reject) => {
      fs.open(dir, 'r', (err, fd) => {
        if (err) return reject(wrap(err, dir));
        fs.fsync(fd, (syncErr) => {
          fs.close(fd, () => (syncErr ? reject(wrap(syncErr, dir)) : resolve()));
        });
      });
    });
  }
}

/** Lock files this process holds, so a second taker in the same process is refused too. */
const locksHeldHere = new Set<string>();

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Joins without normalising twice on the hot path. */
export const joinPath = path.join;
