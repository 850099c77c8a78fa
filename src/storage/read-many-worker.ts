// The helper thread of read-many.ts: does each batch of reads with plain
// synchronous preads and hands the slab back (transferred, not copied).

import { parentPort } from 'node:worker_threads';
import type { ReadManyRequest } from './file-io.ts';
import { NodeFileIO } from './node-file-io.ts';
import { readManyNow } from './read-many.ts';

const io = new NodeFileIO();
const port = parentPort;
if (port === null) throw new Error('read-many-worker.ts runs only as a worker thread');
port.on('message', (msg: { id: number; request: ReadManyRequest }) => {
  const got = readManyNow(io, msg.request);
  port.postMessage({ id: msg.id, slab: msg.request.slab, got }, [msg.request.slab, got.buffer as ArrayBuffer]);
});
