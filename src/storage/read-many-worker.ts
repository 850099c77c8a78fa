// The helper thread of read-many.ts: does each batch of reads with plain
// synchronous preads and hands the slab back (transferred, not copied).

import fs from 'node:fs';
import os from 'node:os';
import { parentPort } from 'node:worker_threads';
import type { ReadManyRequest } from './file-io.ts';
import { NodeFileIO } from './node-file-io.ts';
import { readManyNow } from './read-many.ts';

const HELPER_NICE = 10;

// Below the event loop's priority: woken by a request, this thread would otherwise often take the
// core of the thread that woke it until the batch is read (Linux wakeup preemption), stalling the
// event loop for a whole batch. In the bench/delay rate phase 299 of 1500 posts took > 0.1 ms
// (0.86 ms each); at nice 10, 64 of 1500 (0.7 ms each). Linux names the thread /proc/thread-self.
try {
  const tid = Number(fs.readlinkSync('/proc/thread-self').split('/').pop());
  if (Number.isInteger(tid) && tid > 0) os.setPriority(tid, HELPER_NICE);
} catch {
  // not Linux, or not allowed: same priority as the event loop
}

const io = new NodeFileIO();
const port = parentPort;
if (port === null) throw new Error('read-many-worker.ts runs only as a worker thread');
port.on('message', (msg: { id: number; request: ReadManyRequest }) => {
  const got = readManyNow(io, msg.request);
  port.postMessage({ id: msg.id, slab: msg.request.slab, got }, [msg.request.slab, got.buffer as ArrayBuffer]);
});
