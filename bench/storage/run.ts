// Storage engine benchmark (`npm run bench:storage`): Diglot's log against plain
// fs loops doing the same I/O, measured in one run on one machine, so the ratios
// mean something even where the absolute figures do not travel.
//
//   1. append throughput, flushMode 'interval'      vs  fs.writeSync loop
//   2. flush-every-append (group commit), 64 and 1  vs  writeSync + fdatasyncSync loop
//      concurrent appenders, flushMode 'always'
//   3. sequential read, read(offset, 1 MiB)         vs  fs.readSync loop over the same segment files
//   4. recovery time per GiB (full rescan and clean restart)
//   5. RSS with 10,000 partitions open (in a child process, for a clean baseline)
//
// Every size is an environment variable (see README.md). Only the public
// storage API is used; nothing here reaches into src/ internals.

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import process from 'node:process';
import { CHECKPOINT_FILE } from '../../src/storage/checkpoint.ts';
import { LogManager } from '../../src/storage/log-manager.ts';
import type { PartitionLog } from '../../src/storage/partition-log.ts';
import { buildSimpleBatch } from '../../src/storage/test-batches.ts';

// ---------------------------------------------------------------- parameters

const KiB = 1024;
const MiB = 1024 * KiB;
const GiB = 1024 * MiB;

function envNumber(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) {
    console.error(`${name}=${JSON.stringify(raw)}: expected a positive number`);
    process.exit(2);
  }
  return value;
}

const P = {
  /** Records per batch and value bytes per record: 16 × 1 KiB ≈ 16 KiB batches. */
  batchRecords: Math.trunc(envNumber('BENCH_BATCH_RECORDS', 16)),
  recordBytes: Math.trunc(envNumber('BENCH_RECORD_BYTES', 1024)),
  /** Distinct batch buffers built up front and cycled through. */
  distinctBatches: Math.trunc(envNumber('BENCH_DISTINCT_BATCHES', 128)),
  /** (1) Each append run stops at this many bytes or after BENCH_SECONDS, whichever comes first. */
  appendBytes: Math.trunc(envNumber('BENCH_APPEND_BYTES', 1 * GiB)),
  appendSeconds: envNumber('BENCH_SECONDS', 5),
  /**
   * (1) 1 = every append/write gets a fresh Buffer copied from a built batch, on both sides; 0 (default) =
   * both sides cycle through the built buffers, as network frames would arrive without a copy. The log keeps
   * a buffer until its staged write (at most 16 appends later, and at every yield), so cycling through
   * BENCH_DISTINCT_BATCHES (>= 32) buffers never hands it one it still holds.
   */
  copy: process.env.BENCH_COPY === '1',
  /** (1) Appends between two yields to the event loop (so flush timers run), on both sides. */
  yieldEvery: Math.trunc(envNumber('BENCH_YIELD_EVERY', 64)),
  /** (1)(2)(3) Runs per side, alternating raw / diglot. */
  repeats: Math.trunc(envNumber('BENCH_REPEATS', 3)),
  /** (2) Duration of each flush-every-append run, and the concurrent appenders of the group-commit case. */
  fsyncSeconds: envNumber('BENCH_FSYNC_SECONDS', 3),
  appenders: Math.trunc(envNumber('BENCH_APPENDERS', 64)),
  /** (3) maxBytes of each read() and size of each raw readSync. */
  readChunkBytes: Math.trunc(envNumber('BENCH_READ_CHUNK_BYTES', 1 * MiB)),
  /** (4) Bytes written before the recovery timings, and the segment size. */
  recoveryBytes: Math.trunc(envNumber('BENCH_RECOVERY_BYTES', 1 * GiB)),
  recoverySegmentBytes: Math.trunc(envNumber('BENCH_RECOVERY_SEGMENT_BYTES', 256 * MiB)),
  /** (5) Partitions opened, and value bytes of the one-record batch each gets. */
  partitions: Math.trunc(envNumber('BENCH_PARTITIONS', 10_000)),
  rssRecordBytes: Math.trunc(envNumber('BENCH_RSS_RECORD_BYTES', 100)),
};

const SECTIONS = ['append', 'read', 'fsync', 'recovery', 'rss'] as const;
type Section = (typeof SECTIONS)[number];
if (!P.copy && P.distinctBatches < 32) {
  console.error('BENCH_DISTINCT_BATCHES must be >= 32 without BENCH_COPY=1: the log keeps up to 16 staged buffers');
  process.exit(2);
}
const only = new Set<string>((process.env.BENCH_ONLY ?? SECTIONS.join(',')).split(',').map((s) => s.trim()).filter(Boolean));
for (const s of only) {
  if (!(SECTIONS as readonly string[]).includes(s)) {
    console.error(`BENCH_ONLY: unknown section ${JSON.stringify(s)}; known: ${SECTIONS.join(', ')}`);
    process.exit(2);
  }
}
const enabled = (s: Section): boolean => only.has(s) || (s === 'append' && only.has('read'));

// ---------------------------------------------------------------- helpers

const now = (): number => performance.now();
const immediate = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
const mbps = (bytes: number, secs: number): number => bytes / 1e6 / secs;
const f1 = (n: number): string => n.toFixed(1);
const f2 = (n: number): string => n.toFixed(2);
const f3 = (n: number): string => n.toFixed(3);
const int = (n: number): string => Math.round(n).toLocaleString('en-US');
const mib = (bytes: number): string => `${(bytes / MiB).toFixed(1)} MiB`;
const sizeText = (bytes: number): string => (bytes >= GiB ? `${(bytes / GiB).toFixed(2)} GiB` : mib(bytes));
const best = (xs: number[]): number => Math.max(...xs);
const least = (xs: number[]): number => Math.min(...xs);

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
}

function fsTypeName(dir: string): string {
  try {
    const type = fs.statfsSync(dir).type;
    const names: Record<number, string> = { 0xef53: 'ext4', 0x58465342: 'xfs', 0x9123683e: 'btrfs', 0x01021994: 'tmpfs', 0x794c7630: 'overlayfs', 0x2fc12fc1: 'zfs' };
    return names[type] ?? `fs 0x${type.toString(16)}`;
  } catch {
    return 'unknown fs';
  }
}

/**
 * LogManager.open() may return while recovery's repair syncs still run (a
 * log's flush() resolves by offset, and after a clean close every offset is
 * already durable), and hasUnflushed() turns false when a flush starts, not
 * when it ends. So: poll until no log reports unflushed work and the fsync
 * counter has not moved for 50 ms; returns when it last moved (±5 ms).
 */
async function settled(manager: LogManager): Promise<number> {
  let last = manager.stats.fsyncs;
  let lastChange = now();
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, 5));
    const t = now();
    if (manager.stats.fsyncs !== last) {
      last = manager.stats.fsyncs;
      lastChange = t;
      continue;
    }
    let pending = false;
    for (const l of manager.logs()) {
      if (l.hasUnflushed()) {
        pending = true;
        break;
      }
    }
    if (pending) lastChange = t;
    else if (t - lastChange >= 50) return lastChange;
  }
}

function dirBytes(dir: string, ext: string): { files: string[]; bytes: number } {
  const files = fs.readdirSync(dir).filter((n) => n.endsWith(ext)).sort().map((n) => path.join(dir, n));
  let bytes = 0;
  for (const f of files) bytes += fs.statSync(f).size;
  return { files, bytes };
}

// Batches are built once and copied per append: append() patches baseOffset in
// place and keeps the buffer (it is written later with the rest of the turn's
// appends in one pwritev), so a buffer is reused only after its append is durable.
function buildBatches(): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < P.distinctBatches; i++) out.push(buildSimpleBatch(P.batchRecords, P.recordBytes, i * 31));
  return out;
}

// ---------------------------------------------------------------- (1) append

interface AppendRun {
  bytes: number;
  appends: number;
  secs: number;
  /** Including the final flush / fdatasync of everything written. */
  secsDurable: number;
  fsyncs: number;
}

async function rawAppendRun(file: string, batches: Buffer[]): Promise<AppendRun> {
  const fd = fs.openSync(file, fs.constants.O_RDWR | fs.constants.O_CREAT | fs.constants.O_TRUNC);
  let pos = 0;
  let n = 0;
  const t0 = now();
  const deadline = t0 + P.appendSeconds * 1000;
  for (;;) {
    for (let i = 0; i < P.yieldEvery; i++) {
      const b = P.copy ? Buffer.from(batches[n % batches.length]!) : batches[n % batches.length]!;
      let done = 0;
      while (done < b.length) done += fs.writeSync(fd, b, done, b.length - done, pos + done);
      pos += b.length;
      n++;
    }
    if (pos >= P.appendBytes || now() >= deadline) break;
    await immediate();
  }
  const t1 = now();
  fs.fdatasyncSync(fd);
  const t2 = now();
  fs.closeSync(fd);
  return { bytes: pos, appends: n, secs: (t1 - t0) / 1000, secsDurable: (t2 - t0) / 1000, fsyncs: 1 };
}

async function diglotAppendRun(dir: string, batches: Buffer[]): Promise<AppendRun & { manager: LogManager; log: PartitionLog }> {
  const manager = await LogManager.open({ dir, config: { flushMode: 'interval' } });
  const log = manager.getOrCreate('bench-append', 0);
  const fsyncs0 = manager.stats.fsyncs;
  let bytes = 0;
  let n = 0;
  const t0 = now();
  const deadline = t0 + P.appendSeconds * 1000;
  for (;;) {
    for (let i = 0; i < P.yieldEvery; i++) {
      const b = P.copy ? Buffer.from(batches[n % batches.length]!) : batches[n % batches.length]!;
      log.append(b);
      bytes += b.length;
      n++;
    }
    if (bytes >= P.appendBytes || now() >= deadline) break;
    await immediate();
  }
  const t1 = now();
  await log.flush();
  const t2 = now();
  return { bytes, appends: n, secs: (t1 - t0) / 1000, secsDurable: (t2 - t0) / 1000, fsyncs: manager.stats.fsyncs - fsyncs0, manager, log };
}

// ---------------------------------------------------------------- (3) read

interface ReadRun {
  bytes: number;
  secs: number;
  calls: number;
}

function diglotReadRun(log: PartitionLog): ReadRun {
  let offset = log.logStartOffset;
  const end = log.logEndOffset;
  let bytes = 0;
  let calls = 0;
  const t0 = now();
  while (offset < end) {
    const r = log.read(offset, P.readChunkBytes);
    if (r.nextOffset <= offset) throw new Error(`read made no progress at offset ${offset}`);
    bytes += r.bytes.length;
    offset = r.nextOffset;
    calls++;
  }
  return { bytes, secs: (now() - t0) / 1000, calls };
}

/** `fresh`: a new Buffer per readSync, as read() must return memory the caller keeps. */
function rawReadRun(files: string[], fresh: boolean): ReadRun {
  let buf = Buffer.allocUnsafe(P.readChunkBytes);
  let bytes = 0;
  let calls = 0;
  const t0 = now();
  for (const file of files) {
    const fd = fs.openSync(file, 'r');
    let pos = 0;
    for (;;) {
      if (fresh) buf = Buffer.allocUnsafe(P.readChunkBytes);
      const n = fs.readSync(fd, buf, 0, buf.length, pos);
      calls++;
      if (n === 0) break;
      pos += n;
      bytes += n;
    }
    fs.closeSync(fd);
  }
  return { bytes, secs: (now() - t0) / 1000, calls };
}

// ---------------------------------------------------------------- (2) flush every append

interface FsyncRun {
  appends: number;
  secs: number;
  fsyncs: number;
  p50Ms: number;
  p99Ms: number;
}

function rawFsyncRun(file: string, batch: Buffer): FsyncRun {
  const fd = fs.openSync(file, fs.constants.O_RDWR | fs.constants.O_CREAT | fs.constants.O_TRUNC);
  const lat = new Float64Array(1 << 20);
  let pos = 0;
  let n = 0;
  const t0 = now();
  const deadline = t0 + P.fsyncSeconds * 1000;
  let t = t0;
  while (t < deadline) {
    fs.writeSync(fd, batch, 0, batch.length, pos);
    fs.fdatasyncSync(fd);
    pos += batch.length;
    const t2 = now();
    if (n < lat.length) lat[n] = t2 - t;
    t = t2;
    n++;
  }
  const secs = (t - t0) / 1000;
  fs.closeSync(fd);
  const sorted = lat.subarray(0, Math.min(n, lat.length)).sort();
  return { appends: n, secs, fsyncs: n, p50Ms: percentile(sorted, 0.5), p99Ms: percentile(sorted, 0.99) };
}

async function diglotFsyncRun(dir: string, batches: Buffer[], appenders: number): Promise<FsyncRun> {
  const manager = await LogManager.open({ dir, config: { flushMode: 'always' } });
  const log = manager.getOrCreate('bench-fsync', 0);
  await log.flush(); // creation's directory syncs stay out of the window
  const fsyncs0 = manager.stats.fsyncs;
  const lat: number[] = [];
  let appends = 0;
  const t0 = now();
  const deadline = t0 + P.fsyncSeconds * 1000;
  const appender = async (k: number): Promise<void> => {
    const buf = Buffer.from(batches[k % batches.length]!); // one buffer per appender, reused once its append is durable
    while (now() < deadline) {
      const started = now();
      const info = log.append(buf);
      await log.durable(info.nextOffset);
      lat.push(now() - started);
      appends++;
    }
  };
  await Promise.all(Array.from({ length: appenders }, (_, k) => appender(k)));
  const secs = (now() - t0) / 1000;
  const fsyncs = manager.stats.fsyncs - fsyncs0;
  await manager.close();
  const sorted = Float64Array.from(lat).sort();
  return { appends, secs, fsyncs, p50Ms: percentile(sorted, 0.5), p99Ms: percentile(sorted, 0.99) };
}

// ---------------------------------------------------------------- (5) RSS, child side

interface RssReport {
  partitions: number;
  batchBytes: number;
  openFilesMax: number;
  before: NodeJS.MemoryUsage;
  afterCreate: NodeJS.MemoryUsage;
  afterReopen: NodeJS.MemoryUsage;
  createSecs: number;
  flushSecs: number;
  fsyncsCreate: number;
  openFilesMaxSeen: number;
  openFilesAfterCreate: number;
  procFdsAfterCreate: number;
  closeSecs: number;
  reopenSecs: number;
  reopenSettledSecs: number;
  fsyncsReopen: number;
  fsyncsReopenSettled: number;
  logsAfterReopen: number;
  openFilesAfterReopen: number;
  procFdsAfterReopen: number;
  reopenCloseSecs: number;
}

function procFdCount(): number {
  try {
    return fs.readdirSync('/proc/self/fd').length;
  } catch {
    return -1;
  }
}

async function rssChild(dir: string): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc ?? ((): void => {});
  const batch = buildSimpleBatch(1, P.rssRecordBytes);
  const r = { partitions: P.partitions, batchBytes: batch.length } as RssReport;
  gc();
  r.before = process.memoryUsage();

  // Phase 1: create and fill; the manager is dropped before phase 2 so gc() can take it.
  let manager: LogManager | null = await LogManager.open({ dir });
  r.openFilesMax = manager.config.openFilesMax;
  let t = now();
  r.openFilesMaxSeen = 0;
  for (let i = 0; i < P.partitions; i++) {
    manager.getOrCreate('rss', i).append(Buffer.from(batch));
    if (manager.openFileCount > r.openFilesMaxSeen) r.openFilesMaxSeen = manager.openFileCount;
    if (i % 256 === 255) await immediate(); // let the interval flush run, as it would in a broker
  }
  r.createSecs = (now() - t) / 1000;
  t = now();
  await manager.flushAll();
  r.flushSecs = ((await settled(manager)) - t) / 1000;
  r.openFilesMaxSeen = Math.max(r.openFilesMaxSeen, manager.openFileCount);
  gc();
  r.afterCreate = process.memoryUsage();
  r.openFilesAfterCreate = manager.openFileCount;
  r.procFdsAfterCreate = procFdCount();
  r.fsyncsCreate = manager.stats.fsyncs;
  t = now();
  await manager.close();
  r.closeSecs = (now() - t) / 1000;
  manager = null;

  // Phase 2: reopen the same directory (clean checkpoint).
  t = now();
  const reopened = await LogManager.open({ dir });
  r.reopenSecs = (now() - t) / 1000;
  r.fsyncsReopen = reopened.stats.fsyncs;
  r.reopenSettledSecs = ((await settled(reopened)) - t) / 1000;
  r.fsyncsReopenSettled = reopened.stats.fsyncs;
  gc();
  r.afterReopen = process.memoryUsage();
  r.logsAfterReopen = reopened.logCount();
  r.openFilesAfterReopen = reopened.openFileCount;
  r.procFdsAfterReopen = procFdCount();
  t = now();
  await reopened.close();
  r.reopenCloseSecs = (now() - t) / 1000;
  process.stdout.write(`${JSON.stringify(r)}\n`);
}

function runRssChild(dir: string): RssReport {
  const child = spawnSync(process.execPath, [...process.execArgv, '--expose-gc', import.meta.filename, '--rss-child', dir], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    env: process.env,
    maxBuffer: 16 * MiB,
  });
  if (child.status !== 0) throw new Error(`RSS child exited with ${child.status ?? child.signal}`);
  const last = child.stdout.trim().split('\n').pop() ?? '';
  return JSON.parse(last) as RssReport;
}

// ---------------------------------------------------------------- output

interface Row {
  id: string;
  what: string;
  diglot: string;
  raw: string;
  ratio: string;
  target: string;
  params: string[];
}

function printTable(rows: Row[]): void {
  const head: Row = { id: '#', what: 'measurement', diglot: 'diglot', raw: 'raw baseline', ratio: 'ratio', target: 'target', params: [] };
  const cols = ['id', 'what', 'diglot', 'raw', 'ratio', 'target'] as const;
  const width: Record<string, number> = {};
  for (const c of cols) width[c] = Math.max(...[head, ...rows].map((r) => r[c].length));
  const line = (r: Row): string => cols.map((c) => (c === 'id' || c === 'what' ? r[c].padEnd(width[c]!) : r[c].padStart(width[c]!))).join('  ').trimEnd();
  const rule = cols.map((c) => '-'.repeat(width[c]!)).join('  ');
  console.log(line(head));
  console.log(rule);
  for (const r of rows) console.log(line(r));
  console.log('');
  console.log('Parameters (MB = 10^6 bytes; "best" = highest throughput / lowest time of the runs listed):');
  for (const r of rows) {
    if (r.params.length === 0) continue;
    console.log(`  ${r.id.padEnd(width.id!)}  ${r.params[0]}`);
    for (const p of r.params.slice(1)) console.log(`  ${''.padEnd(width.id!)}    ${p}`);
  }
}

// ---------------------------------------------------------------- main

async function main(): Promise<void> {
  const batches = buildBatches();
  const batchBytes = batches[0]!.length;
  const cpus = os.cpus();
  const base = fs.mkdtempSync(path.join(process.env.BENCH_DIR ?? os.tmpdir(), 'diglot-bench-'));
  let cleaned = false;
  const cleanup = (): void => {
    if (cleaned) return;
    cleaned = true;
    fs.rmSync(base, { recursive: true, force: true });
  };
  process.once('SIGINT', () => {
    cleanup();
    process.exit(130);
  });
  const started = now();

  console.log('Diglot storage benchmark');
  console.log(`  machine : ${cpus[0]?.model ?? 'unknown cpu'}, ${cpus.length} cores, ${(os.totalmem() / GiB).toFixed(1)} GiB RAM, ${os.type()} ${os.release()} ${os.arch()}`);
  console.log(`  node    : ${process.version}`);
  console.log(`  data dir: ${base} (${fsTypeName(base)}), removed afterwards`);
  console.log(`  batch   : RecordBatch v2, uncompressed, ${P.batchRecords} records x ${P.recordBytes} B values = ${batchBytes} B; ${P.distinctBatches} distinct buffers cycled on both sides${P.copy ? ', each copied into a fresh Buffer per append (BENCH_COPY=1)' : ''}`);
  console.log(`  date    : ${new Date().toISOString()}`);
  console.log('');

  const rows: Row[] = [];
  const log = (msg: string): void => {
    process.stderr.write(`[${((now() - started) / 1000).toFixed(1)}s] ${msg}\n`);
  };

  try {
    // ---- (1) append throughput, then (3) reads of what the last run wrote while the page cache is warm
    let readLog: PartitionLog | null = null;
    let readManager: LogManager | null = null;
    if (enabled('append')) {
      const raws: AppendRun[] = [];
      const diglots: AppendRun[] = [];
      // Untimed warm-up: on a VM, page-cache memory touched for the first time
      // costs a host fault per page, which would land on whichever run is first.
      log('append: warm-up (untimed raw run)');
      const warmFile = path.join(base, 'warm-up.bin');
      await rawAppendRun(warmFile, batches);
      fs.rmSync(warmFile);
      for (let i = 0; i < P.repeats; i++) {
        // Each run starts with only its own data in the directory: the previous
        // diglot run's log is closed and deleted before the raw run.
        if (readManager !== null) {
          await readManager.close();
          fs.rmSync(path.join(base, `append-${i - 1}`), { recursive: true, force: true });
          readManager = null;
        }
        const rawFile = path.join(base, `raw-append-${i}.bin`);
        log(`append: raw run ${i + 1}/${P.repeats}`);
        raws.push(await rawAppendRun(rawFile, batches));
        fs.rmSync(rawFile);
        log(`append: diglot run ${i + 1}/${P.repeats}`);
        const run = await diglotAppendRun(path.join(base, `append-${i}`), batches);
        diglots.push(run);
        readManager = run.manager;
        readLog = run.log;
      }
      const listing = (runs: AppendRun[], secsOf: (r: AppendRun) => number): string => runs.map((r) => f1(mbps(r.bytes, secsOf(r)))).join(', ');
      const d = best(diglots.map((r) => mbps(r.bytes, r.secs)));
      const r = best(raws.map((x) => mbps(x.bytes, x.secs)));
      const dd = best(diglots.map((x) => mbps(x.bytes, x.secsDurable)));
      const rd = best(raws.map((x) => mbps(x.bytes, x.secsDurable)));
      rows.push({
        id: '1',
        what: "append, flushMode 'interval' (MB/s)",
        diglot: f1(d),
        raw: f1(r),
        ratio: f2(d / r),
        target: '>= 0.8',
        params: [
          `append(16 KiB batch) vs fs.writeSync(fd, batch, pos) of the same bytes; one partition, defaults (flushIntervalMs 500, segmentBytesMax 1 GiB)`,
          `${P.copy ? 'each batch copied into a fresh Buffer before every append/write on both sides (BENCH_COPY=1)' : `${P.distinctBatches} built buffers cycled, no copy, on both sides`}; each run stops at ${sizeText(P.appendBytes)} or ${P.appendSeconds} s; yield (setImmediate) every ${P.yieldEvery} appends on both sides; one untimed raw warm-up, then ${P.repeats} runs per side alternating raw, diglot`,
          `runs MB/s: diglot ${listing(diglots, (x) => x.secs)} | raw ${listing(raws, (x) => x.secs)}; bytes per run ${diglots.map((x) => sizeText(x.bytes)).join(', ')}`,
          `diglot fdatasyncs inside the window (interval flush): ${diglots.map((x) => x.fsyncs).join(', ')}`,
        ],
      });
      rows.push({
        id: '1b',
        what: 'append + final flush/fdatasync (MB/s)',
        diglot: f1(dd),
        raw: f1(rd),
        ratio: f2(dd / rd),
        target: '-',
        params: [`as 1, but the clock stops after log.flush() resolved / one fs.fdatasyncSync; runs MB/s: diglot ${listing(diglots, (x) => x.secsDurable)} | raw ${listing(raws, (x) => x.secsDurable)}`],
      });

      if (enabled('read') && readLog !== null) {
        const segFiles = dirBytes(readLog.dir, '.log');
        const rawReads: ReadRun[] = [];
        const rawFresh: ReadRun[] = [];
        const dReads: ReadRun[] = [];
        for (let i = 0; i < P.repeats; i++) {
          log(`read: raw run ${i + 1}/${P.repeats}`);
          rawReads.push(rawReadRun(segFiles.files, false));
          rawFresh.push(rawReadRun(segFiles.files, true));
          log(`read: diglot run ${i + 1}/${P.repeats}`);
          dReads.push(diglotReadRun(readLog));
        }
        for (const x of [...rawReads, ...rawFresh, ...dReads]) {
          if (x.bytes !== segFiles.bytes) throw new Error(`read ${x.bytes} bytes, the segments hold ${segFiles.bytes}`);
        }
        const rate = (x: ReadRun): number => mbps(x.bytes, x.secs);
        const runs = (xs: ReadRun[]): string => xs.map((x) => f1(rate(x))).join(', ');
        const dr = best(dReads.map(rate));
        const rr = best(rawReads.map(rate));
        const rf = best(rawFresh.map(rate));
        rows.push({
          id: '3',
          what: 'sequential read, warm cache (MB/s)',
          diglot: f1(dr),
          raw: f1(rr),
          ratio: f2(dr / rr),
          target: '-',
          params: [
            `log.read(offset, ${mib(P.readChunkBytes)}) from logStartOffset to logEndOffset vs fs.readSync(fd, buf, 0, ${mib(P.readChunkBytes)}, pos) into one reused buffer`,
            `the same ${sizeText(segFiles.bytes)} in ${segFiles.files.length} segment file(s) written by the last run of 1; ${P.repeats} runs per side alternating raw, diglot; ${dReads[0]!.calls} read() calls per run`,
            `runs MB/s: diglot ${runs(dReads)} | raw ${runs(rawReads)}`,
          ],
        });
        rows.push({
          id: '3b',
          what: 'sequential read vs fresh-buffer raw (MB/s)',
          diglot: f1(dr),
          raw: f1(rf),
          ratio: f2(dr / rf),
          target: '-',
          params: [`as 3, but the raw loop reads into a new Buffer.allocUnsafe(${mib(P.readChunkBytes)}) per call, as read() returns memory the caller keeps; runs MB/s: raw ${runs(rawFresh)}`],
        });
      }
      if (readManager !== null) await readManager.close();
      fs.rmSync(path.join(base, `append-${P.repeats - 1}`), { recursive: true, force: true });
      if (!only.has('append')) rows.splice(rows.findIndex((x) => x.id === '1'), 2);
    }

    // ---- (2) flush every append
    if (enabled('fsync')) {
      const raws: FsyncRun[] = [];
      const many: FsyncRun[] = [];
      const one: FsyncRun[] = [];
      for (let i = 0; i < P.repeats; i++) {
        const rawFile = path.join(base, `raw-fsync-${i}.bin`);
        log(`fsync: raw write+fdatasync run ${i + 1}/${P.repeats}`);
        raws.push(rawFsyncRun(rawFile, batches[0]!));
        fs.rmSync(rawFile);
        log(`fsync: diglot ${P.appenders} appenders run ${i + 1}/${P.repeats}`);
        many.push(await diglotFsyncRun(path.join(base, `fsync-many-${i}`), batches, P.appenders));
        fs.rmSync(path.join(base, `fsync-many-${i}`), { recursive: true, force: true });
        log(`fsync: diglot 1 appender run ${i + 1}/${P.repeats}`);
        one.push(await diglotFsyncRun(path.join(base, `fsync-one-${i}`), batches, 1));
        fs.rmSync(path.join(base, `fsync-one-${i}`), { recursive: true, force: true });
      }
      const rate = (x: FsyncRun): number => x.appends / x.secs;
      const bestOf = (runs: FsyncRun[]): FsyncRun => runs.reduce((a, b) => (rate(b) > rate(a) ? b : a));
      const r = bestOf(raws);
      const m = bestOf(many);
      const o = bestOf(one);
      const runs = (xs: FsyncRun[]): string => xs.map((x) => int(rate(x))).join(', ');
      rows.push({
        id: '2',
        what: `flush every append, ${P.appenders} appenders (appends/s)`,
        diglot: int(rate(m)),
        raw: int(rate(r)),
        ratio: `${f2(rate(m) / rate(r))}x`,
        target: '>= 5x',
        params: [
          `flushMode 'always', ${P.appenders} async appenders each looping append(batch) -> await log.durable(info.nextOffset), ${P.fsyncSeconds} s per run`,
          `vs one writer looping fs.writeSync(batch) + fs.fdatasyncSync(fd); ${batchBytes} B per append on both sides; ${P.repeats} runs per side alternating raw, diglot`,
          `runs appends/s: diglot ${runs(many)} | raw ${runs(raws)}`,
          `best runs: diglot ${int(m.appends)} appends, ${int(m.fsyncs)} fsyncs (${f1(m.appends / Math.max(1, m.fsyncs))} appends/fsync), ${f1(mbps(m.appends * batchBytes, m.secs))} MB/s, latency p50 ${f2(m.p50Ms)} ms p99 ${f2(m.p99Ms)} ms`,
          `           raw ${int(r.appends)} appends, ${int(r.fsyncs)} fdatasyncs, ${f1(mbps(r.appends * batchBytes, r.secs))} MB/s, latency p50 ${f2(r.p50Ms)} ms p99 ${f2(r.p99Ms)} ms`,
        ],
      });
      rows.push({
        id: '2b',
        what: 'flush every append, 1 appender (appends/s)',
        diglot: int(rate(o)),
        raw: int(rate(r)),
        ratio: `${f2(rate(o) / rate(r))}x`,
        target: '~1x',
        params: [
          `as 2 with a single appender (raw runs shared with 2); runs appends/s: diglot ${runs(one)}`,
          `best run: ${int(o.appends)} appends, ${int(o.fsyncs)} fsyncs, latency p50 ${f2(o.p50Ms)} ms p99 ${f2(o.p99Ms)} ms`,
        ],
      });
    }

    // ---- (4) recovery
    if (enabled('recovery')) {
      const dir = path.join(base, 'recovery');
      const config = { segmentBytesMax: P.recoverySegmentBytes };
      log(`recovery: writing ${sizeText(P.recoveryBytes)}`);
      let manager = await LogManager.open({ dir, config });
      let plog = manager.getOrCreate('bench-recovery', 0);
      let bytes = 0;
      let n = 0;
      while (bytes < P.recoveryBytes) {
        for (let i = 0; i < P.yieldEvery && bytes < P.recoveryBytes; i++) {
          const b = Buffer.from(batches[n++ % batches.length]!);
          plog.append(b);
          bytes += b.length;
        }
        await immediate();
      }
      let t = now();
      await manager.close();
      const writeCloseSecs = (now() - t) / 1000;
      const logDir = plog.dir;
      const segs = dirBytes(logDir, '.log');
      const activeBytes = fs.statSync(segs.files[segs.files.length - 1]!).size;
      const gib = segs.bytes / GiB;

      log('recovery: clean restart (checkpoint kept)');
      t = now();
      manager = await LogManager.open({ dir, config });
      const cleanSecs = (now() - t) / 1000;
      const cleanFsyncs = manager.stats.fsyncs;
      const cleanSettledSecs = ((await settled(manager)) - t) / 1000;
      const cleanFsyncsSettled = manager.stats.fsyncs;
      plog = manager.get('bench-recovery', 0)!;
      const endClean = plog.logEndOffset;
      await manager.close();

      fs.rmSync(path.join(dir, CHECKPOINT_FILE));
      log('recovery: full rescan (checkpoint deleted)');
      t = now();
      manager = await LogManager.open({ dir, config });
      const scanSecs = (now() - t) / 1000;
      const scanFsyncs = manager.stats.fsyncs;
      const scanSettledSecs = ((await settled(manager)) - t) / 1000;
      const scanFsyncsSettled = manager.stats.fsyncs;
      const endScan = manager.get('bench-recovery', 0)!.logEndOffset;
      const segCount = manager.segmentCount();
      await manager.close();
      if (endScan !== endClean || endScan !== n * P.batchRecords) {
        throw new Error(`recovery lost data: ${n * P.batchRecords} records written, log end ${endClean} (clean) / ${endScan} (rescan)`);
      }
      rows.push({
        id: '4',
        what: 'recovery, checkpoint deleted (s/GiB)',
        diglot: f3(scanSecs / gib),
        raw: '-',
        ratio: '-',
        target: '-',
        params: [
          `${sizeText(segs.bytes)} in ${segCount} segments (segmentBytesMax ${mib(P.recoverySegmentBytes)}), one partition; close(), delete ${CHECKPOINT_FILE}, time LogManager.open (page cache warm)`,
          `open took ${f3(scanSecs)} s = every batch CRC-checked, indexes rebuilt and resealed; ${f1(mbps(segs.bytes, scanSecs))} MB/s scanned`,
          `fsyncs: ${scanFsyncs} before open() returned, ${scanFsyncsSettled} once background syncs finished (${f3(scanSettledSecs)} s after the call)`,
        ],
      });
      rows.push({
        id: '4b',
        what: 'recovery, clean restart (s/GiB)',
        diglot: f3(cleanSecs / gib),
        raw: '-',
        ratio: '-',
        target: '-',
        params: [
          `same data, checkpoint kept: open took ${f3(cleanSecs)} s; the active segment (${mib(activeBytes)}) is rescanned, sealed segments trusted`,
          `fsyncs: ${cleanFsyncs} before open() returned, ${cleanFsyncsSettled} once background syncs finished (${f3(cleanSettledSecs)} s after the call)`,
          `close() after writing took ${f3(writeCloseSecs)} s`,
        ],
      });
      fs.rmSync(dir, { recursive: true, force: true });

      // A clean restart still rescans the active segment (its indexes live in
      // memory only): measure it with the active segment nearly full.
      const activeDir = path.join(base, 'recovery-active');
      const activeTarget = Math.min(P.recoveryBytes, 960 * MiB);
      log(`recovery: writing ${sizeText(activeTarget)} into one active segment`);
      manager = await LogManager.open({ dir: activeDir });
      plog = manager.getOrCreate('bench-recovery', 0);
      let activeWritten = 0;
      while (activeWritten < activeTarget) {
        for (let i = 0; i < P.yieldEvery && activeWritten < activeTarget; i++) {
          const b = Buffer.from(batches[n++ % batches.length]!);
          plog.append(b);
          activeWritten += b.length;
        }
        await immediate();
      }
      await manager.close();
      log('recovery: clean restart with a full active segment');
      t = now();
      manager = await LogManager.open({ dir: activeDir });
      const activeOpenSecs = (now() - t) / 1000;
      const activeSegs = manager.segmentCount();
      const activeSettledSecs = ((await settled(manager)) - t) / 1000;
      await manager.close();
      fs.rmSync(activeDir, { recursive: true, force: true });
      rows.push({
        id: '4c',
        what: 'clean restart, data in active segment (s/GiB)',
        diglot: f3(activeOpenSecs / (activeWritten / GiB)),
        raw: '-',
        ratio: '-',
        target: '-',
        params: [
          `${sizeText(activeWritten)} in ${activeSegs} segment (default segmentBytesMax 1 GiB, never rolled), clean close, checkpoint kept: open took ${f3(activeOpenSecs)} s (${f3(activeSettledSecs)} s until its background syncs finished)`,
        ],
      });
    }

    // ---- (5) RSS with many partitions (child process: clean heap, nothing left over from 1-4)
    if (enabled('rss')) {
      log(`rss: ${P.partitions} partitions in a child process`);
      const r = runRssChild(path.join(base, 'rss'));
      const m = (b: number): string => `${(b / MiB).toFixed(1)} MiB`;
      const perPartition = (r.afterCreate.rss - r.before.rss) / r.partitions;
      rows.push({
        id: '5',
        what: `RSS with ${int(r.partitions)} partitions open`,
        diglot: m(r.afterCreate.rss),
        raw: '-',
        ratio: '-',
        target: '-',
        params: [
          `child process, fresh data dir, defaults (openFilesMax ${r.openFilesMax}); getOrCreate('rss', i) + append(one ${r.batchBytes} B batch) for i < ${int(r.partitions)}, then flushAll(); gc() before each reading`,
          `RSS before ${m(r.before.rss)} -> after ${m(r.afterCreate.rss)} (+${(perPartition / KiB).toFixed(1)} KiB/partition); heapUsed ${m(r.before.heapUsed)} -> ${m(r.afterCreate.heapUsed)}, heapTotal ${m(r.before.heapTotal)} -> ${m(r.afterCreate.heapTotal)}; external (incl. ArrayBuffers) ${m(r.before.external)} -> ${m(r.afterCreate.external)}`,
          `create ${f2(r.createSecs)} s, then flushAll ${f2(r.flushSecs)} s; ${int(r.fsyncsCreate)} fsyncs in all (log file + log dir + data dir per partition)`,
          `openFileCount max ${r.openFilesMaxSeen}, after ${r.openFilesAfterCreate} (${r.openFilesMaxSeen <= r.openFilesMax ? 'within' : 'ABOVE'} openFilesMax ${r.openFilesMax}); process fds ${r.procFdsAfterCreate}`,
        ],
      });
      rows.push({
        id: '5b',
        what: `RSS after close + reopen of ${int(r.partitions)}`,
        diglot: m(r.afterReopen.rss),
        raw: '-',
        ratio: '-',
        target: '-',
        params: [
          `close ${f2(r.closeSecs)} s; reopen (LogManager.open, clean checkpoint) ${f2(r.reopenSecs)} s, ${int(r.logsAfterReopen)} logs; heapUsed ${m(r.afterReopen.heapUsed)} (heapTotal ${m(r.afterReopen.heapTotal)}), external ${m(r.afterReopen.external)}`,
          `fsyncs: ${int(r.fsyncsReopen)} before open() returned, ${int(r.fsyncsReopenSettled)} once background syncs finished (${f2(r.reopenSettledSecs)} s after the call)`,
          `openFileCount after reopen ${r.openFilesAfterReopen}, process fds ${r.procFdsAfterReopen}; final close ${f2(r.reopenCloseSecs)} s`,
        ],
      });
    }
  } finally {
    cleanup();
  }

  const order = ['1', '1b', '2', '2b', '3', '3b', '4', '4b', '4c', '5', '5b'];
  rows.sort((a, b) => order.indexOf(a.id) - order.indexOf(b.id));
  printTable(rows);
  console.log('');
  console.log(`total ${f1((now() - started) / 1000)} s`);
}

if (process.argv[2] === '--rss-child') {
  await rssChild(process.argv[3]!);
} else {
  await main();
}
