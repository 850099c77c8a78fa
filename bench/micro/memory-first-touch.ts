// What it costs this machine to touch memory for the first time: allocates `gib` GiB of anonymous memory one GiB at a
// time and writes one byte per 4 KiB page, printing wall and system time per GiB; then frees it all and at once does
// the same again. No Diglot code and no files: it separates what the (virtual) machine does from what a broker does.
// `node bench/micro/memory-first-touch.ts [gib, default 4]`
//
// On a VM with virtio-balloon free page reporting (bench/lib/proc.ts freePageReporting), memory the guest frees goes
// back to the host within seconds and the next write to it faults on the host. On the AMD EPYC VM of 2026-11-25:
// pages never touched or handed back cost 3.3-4.1 s of system time per GiB, pages freed a moment ago 0.5-0.6 s; the
// page cache is filled the same way, so a broker writing 1 KiB records into new page cache pays ~3-4 µs per record
// on top of its own work, and which broker of a side-by-side run gets the warm pages depends on the order.
import v8 from 'node:v8';
import vm from 'node:vm';
import { freePageReporting } from '../lib/proc.ts';

const gib = Number(process.argv[2] ?? 4);
if (!Number.isInteger(gib) || gib < 1 || gib > 64) throw new Error(`gib ${process.argv[2]}: an integer 1-64`);
const GIB = 2 ** 30;
const PAGE = 4096;

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

function touchPass(label: string): void {
  let held: Buffer[] = [];
  for (let g = 0; g < gib; g++) {
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const b = Buffer.allocUnsafeSlow(GIB);
    for (let i = 0; i < GIB; i += PAGE) b[i] = 1;
    held.push(b);
    const cpu = process.cpuUsage(cpu0);
    console.log(`${label} GiB ${g + 1}: ${(performance.now() - t0).toFixed(0)} ms, user ${(cpu.user / 1e6).toFixed(2)} s, system ${(cpu.system / 1e6).toFixed(2)} s`);
  }
  held = [];
  gc(); // the GiB buffers are unmapped here: their pages are free again
}

const before = freePageReporting();
console.log(before === undefined ? 'free page reporting: no device' : `free page reporting: on, ${before.reportedKib ?? '?'} KiB reported so far`);
touchPass('first pass ');
touchPass('second pass');
const after = freePageReporting();
if (before?.reportedKib !== undefined && after?.reportedKib !== undefined) {
  console.log(`reported to the host while running: ${((after.reportedKib - before.reportedKib) / 1024).toFixed(0)} MiB`);
}
