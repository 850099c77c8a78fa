// freePageReporting reads a sysfs tree: a fake one in a temporary directory stands in for /sys.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { cpuSeconds, cpuTimes, freePageReporting, table } from './proc.ts';

function fakeSys(devices: Record<string, { device: string; features: string }>, reportedKib?: string): string {
  const sys = fs.mkdtempSync(path.join(os.tmpdir(), 'diglot-fake-sys-'));
  for (const [name, d] of Object.entries(devices)) {
    const dir = path.join(sys, 'bus/virtio/devices', name);
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'device'), `${d.device}\n`);
    fs.writeFileSync(path.join(dir, 'features'), `${d.features}\n`);
  }
  if (reportedKib !== undefined) {
    const dir = path.join(sys, 'module/page_reporting/parameters');
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'reported_kib'), `${reportedKib}\n`);
  }
  return sys;
}

const BLK = { device: '0x0002', features: '0110010100000000' };
const BALLOON_REPORTING = { device: '0x0005', features: '0110010100000000' }; // bits 1, 2, 5 (REPORTING) and 7
const BALLOON_NO_REPORTING = { device: '0x0005', features: '0110000100000000' };

test('freePageReporting: a balloon with feature bit 5 reports, with the counter when the kernel has one', (t) => {
  const sys = fakeSys({ virtio0: BLK, virtio1: BALLOON_REPORTING }, '131588608');
  t.after(() => fs.rmSync(sys, { recursive: true, force: true }));
  assert.deepEqual(freePageReporting(sys), { reportedKib: 131588608 });
});

test('freePageReporting: no counter file or a garbled one gives an unknown count, not NaN', (t) => {
  const none = fakeSys({ virtio0: BALLOON_REPORTING });
  const garbled = fakeSys({ virtio0: BALLOON_REPORTING }, 'n/a');
  t.after(() => {
    fs.rmSync(none, { recursive: true, force: true });
    fs.rmSync(garbled, { recursive: true, force: true });
  });
  assert.deepEqual(freePageReporting(none), { reportedKib: undefined });
  assert.deepEqual(freePageReporting(garbled), { reportedKib: undefined });
});

test('freePageReporting: undefined without a balloon, with one lacking bit 5, or without sysfs', (t) => {
  const blkOnly = fakeSys({ virtio0: BLK }, '5');
  const noBit = fakeSys({ virtio0: BALLOON_NO_REPORTING }, '5');
  t.after(() => {
    fs.rmSync(blkOnly, { recursive: true, force: true });
    fs.rmSync(noBit, { recursive: true, force: true });
  });
  assert.equal(freePageReporting(blkOnly), undefined);
  assert.equal(freePageReporting(noBit), undefined);
  assert.equal(freePageReporting(path.join(blkOnly, 'missing')), undefined);
});

test('table: columns padded to the widest cell, right-aligned where asked', () => {
  assert.equal(table(['a', 'bb'], [['xyz', '1'], ['', '22']], ['l', 'r']), ['a    bb', '---  --', 'xyz   1', '     22'].join('\n'));
});

test('cpuTimes: system seconds are part of cpuSeconds for a live process; undefined for a gone one', () => {
  // Some system time first: many small writes are syscalls.
  const file = path.join(os.tmpdir(), `diglot-proc-test-${process.pid}`);
  const fd = fs.openSync(file, 'w');
  const started = performance.now();
  while (performance.now() - started < 100) fs.writeSync(fd, 'x');
  fs.closeSync(fd);
  fs.rmSync(file, { force: true });
  const system = cpuTimes([process.pid])?.systemSeconds;
  const total = cpuSeconds([process.pid]);
  assert.ok(system !== undefined && total !== undefined);
  assert.ok(system >= 0 && system <= total, `system ${system} s of ${total} s`);
  assert.equal(cpuTimes([process.pid, 2 ** 22 + 1]), undefined); // above the kernel's pid limit
});
