// What the side-by-side benchmarks (bench/kafka, bench/rocketmq, bench/delay)
// read from /proc, and how they print their tables: one copy for all three.

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';

const CLK_TCK = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;

/** The fields of /proc/<pid>/stat after "(comm)": state is index 0, utime 11, stime 12, cutime 13, cstime 14. */
function statFields(file: string): string[] | undefined {
  try {
    const stat = fs.readFileSync(file, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/**
 * CPU seconds (user + system) used so far by the processes, and the system-time part of them (syscalls and page
 * faults — on a VM with free page reporting, mostly first touches of memory handed back to the host, see
 * freePageReporting); undefined when one is gone. One read of each /proc/<pid>/stat.
 */
export function cpuTimes(pids: readonly number[]): { seconds: number; systemSeconds: number } | undefined {
  let user = 0;
  let system = 0;
  for (const pid of pids) {
    const f = statFields(`/proc/${pid}/stat`);
    if (!f) return undefined;
    user += Number(f[11]);
    system += Number(f[12]);
  }
  return { seconds: (user + system) / CLK_TCK, systemSeconds: system / CLK_TCK };
}

/** CPU seconds (user + system) used so far by the processes; undefined when one is gone. */
export function cpuSeconds(pids: readonly number[]): number | undefined {
  return cpuTimes(pids)?.seconds;
}

/** CPU seconds of this process plus its reaped children (tool JVMs once they exit). */
export function selfAndChildrenCpuSeconds(): number | undefined {
  const f = statFields('/proc/self/stat');
  return f ? (Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])) / CLK_TCK : undefined;
}

/** Busy CPU seconds of the whole host (all cores): the /proc/stat "cpu" line minus idle and iowait. */
export function hostBusySeconds(): number | undefined {
  try {
    const line = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
    const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = line.trim().split(/\s+/).slice(1).map(Number);
    return (user + nice + system + irq + softirq + steal) / CLK_TCK;
  } catch {
    return undefined;
  }
}

export type StatusKbField = 'VmRSS' | 'VmHWM' | 'RssAnon';

/** A kB field of /proc/<pid>/status; undefined when the process is gone. */
export function statusKb(pid: number, field: StatusKbField): number | undefined {
  try {
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** The field summed over the processes; undefined when one is gone. */
export function sumKb(pids: readonly number[], field: StatusKbField): number | undefined {
  let sum = 0;
  for (const pid of pids) {
    const kb = statusKb(pid, field);
    if (kb === undefined) return undefined;
    sum += kb;
  }
  return sum;
}

/** A plain-text table: columns padded to their widest cell, a dashed rule under the header. */
export function table(header: string[], body: string[][], align: ('l' | 'r')[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => (row[i] ?? '').length)));
  const line = (row: string[]) => row.map((text, i) => (align[i] === 'r' ? text.padStart(widths[i]!) : text.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n');
}

/** Bit of a virtio-balloon device's feature string that says it takes free page reports (VIRTIO_BALLOON_F_REPORTING). */
const BALLOON_F_REPORTING = 5;
const VIRTIO_ID_BALLOON = '0x0005';

/**
 * Whether this (virtual) machine hands freed memory back to its host (virtio-balloon free page reporting), and the
 * KiB reported so far. There, the first write to a page after it went back costs a host fault: on the AMD EPYC VM
 * of 2026-11-25 about 3-4 s of system time per GiB, for page cache and anonymous memory alike
 * (bench/micro/memory-first-touch.ts). Undefined on machines without such a device. `sys` is for tests.
 */
export function freePageReporting(sys = '/sys'): { reportedKib: number | undefined } | undefined {
  const base = `${sys}/bus/virtio/devices`;
  let devices: string[];
  try {
    devices = fs.readdirSync(base);
  } catch {
    return undefined;
  }
  for (const device of devices) {
    try {
      if (fs.readFileSync(`${base}/${device}/device`, 'utf8').trim() !== VIRTIO_ID_BALLOON) continue;
      // The features file is one '0'/'1' character per feature bit, bit 0 first.
      if (fs.readFileSync(`${base}/${device}/features`, 'utf8')[BALLOON_F_REPORTING] !== '1') continue;
    } catch {
      continue;
    }
    let reportedKib: number | undefined;
    try {
      const text = fs.readFileSync(`${sys}/module/page_reporting/parameters/reported_kib`, 'utf8').trim();
      reportedKib = /^\d+$/.test(text) ? Number(text) : undefined;
    } catch {
      reportedKib = undefined;
    }
    return { reportedKib };
  }
  return undefined;
}

/** A line for a benchmark's header saying whether freed memory goes back to the host (see freePageReporting). */
export function memoryNote(): string {
  const reporting = freePageReporting();
  if (reporting === undefined) return 'no free page reporting device (freed memory stays with this machine)';
  return (
    'virtio-balloon free page reporting is on: memory freed here goes back to the host and its next first touch costs a host fault ' +
    '(bench/micro/memory-first-touch.ts measures it); the broker that writes into freshly freed pages pays less, so compare rounds in both orders'
  );
}
