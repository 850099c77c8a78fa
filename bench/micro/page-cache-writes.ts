// What buffered writes cost this machine's kernel as the page cache fills: writes 128 KiB chunks round-robin
// into 6 files (like 6 partitions), fdatasyncs every file every `syncMs` (as acks=all's flush rounds do; 0: never),
// rolls each file to a new one every `rollMiB` (0: never), and prints, per GiB written, the rate and this process's
// user and system CPU. No Diglot code: it separates what the machine does from what the broker does.
// `node bench/micro/page-cache-writes.ts [totalMiB, default 6144] [syncMs, default 6] [rollMiB, default 512] [dir, default OS temp]`.
// Its files are removed at the end. On the AMD EPYC VM of 2026-11-25 the system time per GiB rose from ~0.45 s to
// 3-5 s once the page cache grew into memory the VM had handed back to its host, with or without the fdatasyncs;
// pages freed a moment before (the previous run's deleted files, `drop_caches`) were cheap again. The cause is the
// host fault on a page's first touch (bench/micro/memory-first-touch.ts; bench/kafka/README.md, "Memory on these VMs").
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const totalMiB = Number(process.argv[2] ?? 6144);
const syncMs = Number(process.argv[3] ?? 6);
const rollMiB = Number(process.argv[4] ?? 512);
const dir = fs.mkdtempSync(path.join(process.argv[5] ?? os.tmpdir(), 'diglot-page-cache-'));
for (const [name, value] of [['totalMiB', totalMiB], ['syncMs', syncMs], ['rollMiB', rollMiB]] as const) {
  if (!Number.isInteger(value) || value < 0 || value > 1_000_000) throw new Error(`${name} ${value}: an integer 0-1000000`);
}
const FILES = 6;
const CHUNK_BYTES = 128 * 1024;
const chunk = Buffer.alloc(CHUNK_BYTES, 7);
let generation = 0;
const open = (i: number): number => fs.openSync(path.join(dir, `p${i}-${generation++}`), 'w');
const fds = Array.from({ length: FILES }, (_, i) => open(i));
const positions = new Array<number>(FILES).fill(0);
const totalBytes = totalMiB * 2 ** 20;
let written = 0;
let next = 0;
let syncsInFlight = 0;
let syncs = 0;
let reportedAt = 0;
let cpu0 = process.cpuUsage();
let t0 = performance.now();
const freeMiB = (): number => Math.round(Number(/MemFree:\s+(\d+)/.exec(fs.readFileSync('/proc/meminfo', 'utf8'))?.[1] ?? 0) / 1024);
const timer =
  syncMs > 0
    ? setInterval(() => {
        if (syncsInFlight > 0) return; // one round at a time, as the broker's flush rounds
        for (const fd of fds) {
          syncsInFlight++;
          syncs++;
          fs.fdatasync(fd, () => syncsInFlight--);
        }
      }, syncMs)
    : null;
await new Promise<void>((resolve) => {
  const turn = (): void => {
    // A few writes per turn, so that the fdatasync timer runs between them as it would in the broker.
    for (let k = 0; k < 8 && written < totalBytes; k++) {
      const f = next++ % FILES;
      positions[f]! += fs.writeSync(fds[f]!, chunk, 0, CHUNK_BYTES, positions[f]);
      written += CHUNK_BYTES;
      if (rollMiB > 0 && positions[f]! >= rollMiB * 2 ** 20 && syncsInFlight === 0) {
        fs.closeSync(fds[f]!);
        fds[f] = open(f);
        positions[f] = 0;
      }
    }
    if (written - reportedAt >= 2 ** 30 || written >= totalBytes) {
      const cpu = process.cpuUsage(cpu0);
      const mib = (written - reportedAt) / 2 ** 20;
      console.log(
        `${(written / 2 ** 30).toFixed(1)} GiB: ${(mib / ((performance.now() - t0) / 1000)).toFixed(0)} MiB/s, ` +
          `user ${(cpu.user / 1e6).toFixed(2)} s, system ${(cpu.system / 1e6).toFixed(2)} s for this ${mib.toFixed(0)} MiB, ${syncs} fdatasyncs, MemFree ${freeMiB()} MiB`,
      );
      reportedAt = written;
      syncs = 0;
      cpu0 = process.cpuUsage();
      t0 = performance.now();
    }
    if (written < totalBytes) setImmediate(turn);
    else resolve();
  };
  turn();
});
if (timer !== null) clearInterval(timer);
while (syncsInFlight > 0) await new Promise((resolve) => setTimeout(resolve, 10));
for (const fd of fds) fs.closeSync(fd);
fs.rmSync(dir, { recursive: true, force: true });
