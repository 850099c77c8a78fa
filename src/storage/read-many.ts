// FileIO.readMany(): a batch of positional reads done off the calling thread.
// readManyNow() is the body (the memory twin runs it in a microtask); for real
// files one helper thread per process runs it (read-many-worker.ts), so the
// event loop pays one message per batch instead of one pread per read.

import { Worker } from 'node:worker_threads';
import { assert } from './errors.ts';
import type { FileHandle, FileIO, ReadManyRequest, ReadManyResult } from './file-io.ts';

/** Requests in flight to the helper thread at once; more is a caller bug (callers keep one or two). */
const IN_FLIGHT_MAX = 64;

/** Does the reads of `request` on this thread with `io`'s handles; -1 for a slot whose file failed. */
export function readManyNow(io: Pick<FileIO, 'open'>, request: ReadManyRequest): Int32Array {
  const { count, slotBytes, file, position } = request;
  assert(count >= 0 && count <= file.length && count <= position.length, `readMany: count ${count} outside its arrays`);
  assert(request.slab.byteLength >= count * slotBytes, `readMany: slab of ${request.slab.byteLength} bytes < ${count} × ${slotBytes}`);
  const got = new Int32Array(count).fill(-1);
  const bytes = new Uint8Array(request.slab);
  const handles: Array<FileHandle | null | undefined> = new Array(request.paths.length);
  try {
    for (let i = 0; i < count; i++) {
      const f = file[i]!;
      let handle = handles[f];
      if (handle === undefined) {
        try {
          handle = io.open(request.paths[f]!, 'r');
        } catch {
          handle = null; // gone (a trimmed segment): the caller reads it another way or not at all
        }
        handles[f] = handle;
      }
      if (handle === null) continue;
      try {
        got[i] = handle.read(bytes, i * slotBytes, slotBytes, position[i]!);
      } catch {
        got[i] = -1;
      }
    }
  } finally {
    for (const handle of handles) handle?.close();
  }
  return got;
}

interface Waiter {
  resolve: (result: ReadManyResult) => void;
  reject: (err: Error) => void;
}

/** The process's one helper thread, started on first use; held (ref'd) only while requests are out. */
class ReadManyThread {
  #worker: Worker | null = null;
  readonly #waiting = new Map<number, Waiter>();
  #nextId = 1;

  read(request: ReadManyRequest): Promise<ReadManyResult> {
    if (this.#waiting.size >= IN_FLIGHT_MAX) return Promise.reject(new Error(`readMany: ${IN_FLIGHT_MAX} requests already in flight`));
    const worker = this.#worker ?? this.#start();
    const id = this.#nextId++;
    return new Promise<ReadManyResult>((resolve, reject) => {
      const { paths, file, position, count, slotBytes, slab } = request;
      try {
        worker.postMessage({ id, request: { paths, file, position, count, slotBytes, slab } }, [slab]);
      } catch (err) {
        reject(err as Error); // e.g. a slab already handed over (detached): nothing is waiting for it
        return;
      }
      this.#waiting.set(id, { resolve, reject });
      if (this.#waiting.size === 1) worker.ref();
    });
  }

  #start(): Worker {
    // It allocates a few typed arrays per batch: small heap limits keep its resident memory down (a
    // worker costs ~20 MiB with the defaults, ~15 MiB with these; past them it fails, and readers fall back).
    const worker = new Worker(new URL('./read-many-worker.ts', import.meta.url), { resourceLimits: { maxYoungGenerationSizeMb: 1, maxOldGenerationSizeMb: 16, stackSizeMb: 1 } });
    worker.unref();
    worker.on('message', (msg: { id: number; slab: ArrayBuffer; got: Int32Array }) => {
      const waiter = this.#waiting.get(msg.id);
      if (waiter === undefined) return;
      this.#waiting.delete(msg.id);
      if (this.#waiting.size === 0) worker.unref();
      waiter.resolve({ slab: msg.slab, got: msg.got });
    });
    const fail = (err: Error): void => {
      if (this.#worker === worker) this.#worker = null; // the next request starts a new one
      const waiting = [...this.#waiting.values()];
      this.#waiting.clear();
      for (const w of waiting) w.reject(err);
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`readMany helper thread exited (code ${code})`)));
    this.#worker = worker;
    return worker;
  }
}

let thread: ReadManyThread | null = null;

/** Runs `request` on the process's helper thread. */
export function readManyOffThread(request: ReadManyRequest): Promise<ReadManyResult> {
  thread ??= new ReadManyThread();
  return thread.read(request);
}
