// Real kill -9: a child appends with flush-every-append and reports what became
// durable; it is SIGKILLed at a random moment; the log is reopened and every
// reported batch must be there byte for byte, with dense offsets and only whole,
// valid batches. Three rounds on the same directory, so recovery after a kill
// is itself followed by appends and another kill.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { once } from 'node:events';
import { LogManager } from '../src/storage/log-manager.ts';
import { checkBatch, readInt64, writeInt64 } from '../src/storage/record-batch.ts';
import { killTestBatch } from './fixtures/kill9-batches.ts';

const WRITER = path.join(import.meta.dirname, 'fixtures', 'kill9-writer.ts');

interface Durable {
  partition: number;
  baseOffset: number;
  seq: number;
}

async function runAndKill(dir: string, startSeq: number, killAfterMs: number): Promise<Durable[]> {
  const child = spawn(process.execPath, [WRITER, dir, String(startSeq)], { stdio: ['ignore', 'pipe', 'inherit'] });
  const reported: Durable[] = [];
  let buffered = '';
  let ready = false;
  const readyPromise = new Promise<void>((resolve) => {
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      buffered += chunk;
      let nl: number;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        if (line === 'ready') {
          ready = true;
          resolve();
          continue;
        }
        const [partition, baseOffset, seq] = line.split(' ').map(Number) as [number, number, number];
        reported.push({ partition, baseOffset, seq });
      }
    });
  });
  const exited = once(child, 'exit');
  await Promise.race([readyPromise, exited]);
  assert.ok(ready, 'writer exited before it was ready');
  await new Promise((resolve) => setTimeout(resolve, killAfterMs));
  child.kill('SIGKILL');
  const [code, signal] = await exited;
  assert.equal(signal, 'SIGKILL', `writer ended by itself (code ${code})`);
  // A line cut by the kill is not a report.
  return reported;
}

test('kill -9 during flush-every-append loses nothing that was reported durable', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'diglot-kill9-'));
  try {
    const expected = new Map<string, Buffer>(); // `${partition}:${baseOffset}` → bytes
    let seq = 0;
    let totalReported = 0;
    for (let round = 0; round < 3; round++) {
      const killAfterMs = 300 + Math.floor(Math.random() * 900);
      const reported = await runAndKill(dir, seq, killAfterMs);
      totalReported += reported.length;
      seq += 1_000_000; // fresh sequence numbers per round
      for (const r of reported) {
        const batch = killTestBatch(r.seq);
        writeInt64(batch, 0, r.baseOffset);
        expected.set(`${r.partition}:${r.baseOffset}`, batch);
      }
      const manager = await LogManager.open({ dir });
      try {
        for (let partition = 0; partition < 2; partition++) {
          const log = manager.get('kill9', partition);
          const mine = [...expected.keys()].filter((k) => k.startsWith(`${partition}:`));
          if (log === undefined) {
            assert.equal(mine.length, 0, `partition ${partition} vanished after durable reports`);
            continue;
          }
          const seen = new Set<string>();
          let offset = log.logStartOffset;
          while (offset < log.logEndOffset) {
            const r = log.read(offset, 1 << 20);
            assert.ok(r.bytes.length > 0, `empty read at ${offset}`);
            let pos = 0;
            while (pos < r.bytes.length) {
              const size = 12 + r.bytes.readInt32BE(pos + 8);
              const base = readInt64(r.bytes, pos);
              assert.equal(base, offset, `offsets not dense in partition ${partition}`);
              assert.equal(checkBatch(r.bytes, pos, pos + size, 1 << 30), null, `invalid batch at ${base}`);
              const want = expected.get(`${partition}:${base}`);
              if (want !== undefined) {
                assert.ok(want.equals(r.bytes.subarray(pos, pos + size)), `batch at ${partition}:${base} differs from the reported one`);
                seen.add(`${partition}:${base}`);
              }
              offset = base + r.bytes.readInt32BE(pos + 23) + 1;
              pos += size;
            }
          }
          const missing = mine.filter((k) => !seen.has(k));
          assert.deepEqual(missing, [], `reported durable but missing after kill -9 (round ${round})`);
        }
        // Batches that survived without a report are now part of the log; later rounds
        // append after them, so forget offsets at or beyond each log end.
        for (const key of [...expected.keys()]) {
          const [partition, base] = key.split(':').map(Number) as [number, number];
          const log = manager.get('kill9', partition);
          if (log === undefined || base >= log.logEndOffset) expected.delete(key);
        }
      } finally {
        await manager.close();
      }
    }
    assert.ok(totalReported > 100, `only ${totalReported} durable reports: the writer did too little to test anything`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
