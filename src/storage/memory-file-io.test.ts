import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { FileIOError, type FileHandle } from './file-io.ts';
import { MemoryFileIO, mulberry32 } from './memory-file-io.ts';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const dec = (b: Uint8Array): string => new TextDecoder().decode(b);
const DROP_ALL = (): number => 0;
const KEEP_ALL = (): number => 0.999999;

function readAll(h: FileHandle): Uint8Array {
  const buf = new Uint8Array(h.size());
  assert.equal(h.read(buf, 0, buf.length, 0), buf.length);
  return buf;
}

function put(h: FileHandle, s: string, position: number): void {
  const b = enc(s);
  h.write(b, 0, b.length, position);
}

function code(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof FileIOError, `expected FileIOError, got ${String(err)}`);
    return err.code;
  }
  return 'ok';
}

async function rejectCode(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof FileIOError, `expected FileIOError, got ${String(err)}`);
    return err.code;
  }
  return 'ok';
}

/** Resolves 'settled' if `p` settles within a few event-loop turns and 30 ms, else 'pending'. */
async function settlesSoon(p: Promise<unknown>): Promise<'settled' | 'pending'> {
  let settled = false;
  p.then(() => (settled = true), () => (settled = true));
  for (let i = 0; i < 10; i++) await new Promise((r) => setImmediate(r));
  await new Promise((r) => setTimeout(r, 30));
  return settled ? 'settled' : 'pending';
}

/** A healthy io with `/d/f` created and its directory entry durable. */
async function withDurableFile(): Promise<{ io: MemoryFileIO; h: FileHandle }> {
  const io = new MemoryFileIO();
  io.mkdirp('/d');
  await io.syncDir('/');
  const h = io.open('/d/f', 'rw');
  await io.syncDir('/d');
  return { io, h };
}

function textMap(m: Map<string, Uint8Array>): Record<string, string> {
  return Object.fromEntries([...m].map(([k, v]) => [k, dec(v)]));
}

test('read, write, extend, gaps read as zeros, truncate then extend reads zeros', () => {
  const io = new MemoryFileIO();
  io.mkdirp('/data/logs/');
  assert.ok(io.isDirectory('/data'));
  assert.ok(io.isDirectory('/data/logs'));
  const h = io.open('/data/logs/a.log', 'rw');
  assert.equal(h.size(), 0);
  put(h, 'hello', 0);
  assert.equal(h.size(), 5);
  put(h, 'XY', 8);
  assert.equal(h.size(), 10);
  assert.deepEqual([...readAll(h)], [104, 101, 108, 108, 111, 0, 0, 0, 88, 89]);
  put(h, 'EL', 1);
  assert.equal(dec(readAll(h).subarray(0, 5)), 'hELlo');

  // short read only at end of file, offset into the destination honoured
  const buf = new Uint8Array(8).fill(7);
  assert.equal(h.read(buf, 2, 6, 7), 3);
  assert.deepEqual([...buf], [7, 7, 0, 88, 89, 7, 7, 7]);
  assert.equal(h.read(buf, 0, 4, 10), 0);
  assert.equal(h.read(buf, 0, 4, 100), 0);

  // bytes cut by truncate must not come back when the file grows again
  h.truncate(2);
  assert.equal(dec(readAll(h)), 'hE');
  h.truncate(6);
  assert.deepEqual([...readAll(h)], [104, 69, 0, 0, 0, 0]);
  put(h, 'Z', 9);
  assert.deepEqual([...readAll(h)], [104, 69, 0, 0, 0, 0, 0, 0, 0, 90]);

  // zero-length write past the end extends nothing
  h.write(new Uint8Array(0), 0, 0, 50);
  assert.equal(h.size(), 10);

  // a second handle sees the same inode; a read-only handle cannot write
  const r = io.open('data//logs/./a.log', 'r');
  assert.equal(r.size(), 10);
  assert.equal(code(() => put(r, 'no', 0)), 'EBADF');
  r.close();
  assert.equal(code(() => r.size()), 'EBADF');
  assert.throws(() => h.read(new Uint8Array(2), 1, 2, 0), RangeError);
  assert.deepEqual([...io.snapshot().keys()], ['/data/logs/a.log']);
});

test('append-heavy use is amortised linear', () => {
  const io = new MemoryFileIO();
  const h = io.open('/big', 'rw');
  const chunk = new Uint8Array(64).fill(1);
  const start = performance.now();
  for (let i = 0; i < 200_000; i++) h.write(chunk, 0, chunk.length, i * 64);
  const ms = performance.now() - start;
  assert.equal(h.size(), 200_000 * 64);
  assert.ok(ms < 3000, `200k appends took ${ms.toFixed(0)} ms`);
});

test('namespace: readdir, errors with stable codes', () => {
  const io = new MemoryFileIO();
  assert.equal(code(() => io.open('/nodir/f', 'rw')), 'ENOENT');
  assert.equal(code(() => io.open('/missing', 'r')), 'ENOENT');
  io.mkdirp('/a/b');
  io.open('/a/file', 'rw').close();
  io.open('/a/b/x', 'rw').close();
  assert.deepEqual(io.readdir('/a'), ['b', 'file']);
  assert.deepEqual(io.readdir('/'), ['a']);
  assert.deepEqual(io.readdir('/nope'), []);
  assert.equal(code(() => io.readdir('/a/file')), 'ENOTDIR');
  assert.equal(code(() => io.open('/a/file/x', 'rw')), 'ENOTDIR');
  assert.equal(code(() => io.open('/a/b', 'r')), 'EISDIR');
  assert.equal(code(() => io.open('/a/b', 'rw')), 'EISDIR');
  assert.equal(code(() => io.mkdirp('/a/file')), 'EEXIST');
  assert.equal(code(() => io.mkdirp('/a/file/sub')), 'ENOTDIR');
  assert.equal(code(() => io.unlink('/a/b')), 'EISDIR');
  assert.equal(code(() => io.unlink('/a/nope')), 'ENOENT');
  assert.equal(code(() => io.rename('/a/nope', '/a/x')), 'ENOENT');
  assert.equal(code(() => io.rename('/a/file', '/zz/file')), 'ENOENT');
  assert.equal(code(() => io.rename('/a/file', '/a/b')), 'EISDIR');
  assert.equal(code(() => io.rename('/a/b', '/a/file')), 'ENOTDIR');
  io.mkdirp('/c');
  assert.equal(code(() => io.rename('/c', '/a')), 'ENOTEMPTY');
  assert.equal(code(() => io.rename('/a', '/a/b/inside')), 'EINVAL');
  assert.equal(io.exists('/a/file/x'), false);
  assert.equal(io.isDirectory('/a/file'), false);
  assert.equal(code(() => io.rmrf('/')), 'EINVAL');
  io.rmrf('/never-there');
  io.rmrf('/a');
  assert.equal(io.exists('/a/b/x'), false);
  assert.deepEqual(io.readdir('/'), ['c']);
  assert.deepEqual(io.directories(), ['/', '/c']);
});

test('syncDir of a file or missing dir rejects', async () => {
  const io = new MemoryFileIO();
  io.open('/f', 'rw');
  assert.equal(await rejectCode(io.syncDir('/f')), 'ENOTDIR');
  assert.equal(await rejectCode(io.syncDir('/nope')), 'ENOENT');
});

test('rename atomically replaces the target; a handle on the replaced file still reads it', () => {
  const io = new MemoryFileIO();
  const a = io.open('/a', 'rw');
  put(a, 'new contents', 0);
  const b = io.open('/b', 'rw');
  put(b, 'old', 0);
  io.rename('/a', '/b');
  assert.equal(io.exists('/a'), false);
  assert.deepEqual(io.readdir('/'), ['b']);
  assert.equal(dec(readAll(io.open('/b', 'r'))), 'new contents');
  assert.equal(dec(readAll(b)), 'old');
  // the handle opened as /a follows the inode to /b
  put(a, 'N', 0);
  assert.equal(textMap(io.snapshot())['/b'], 'New contents');
  // renaming a directory moves its subtree
  io.mkdirp('/d/e');
  io.open('/d/e/f', 'rw');
  io.rename('/d', '/m');
  assert.deepEqual([...io.snapshot().keys()], ['/b', '/m/e/f']);
});

test('unlink removes the name; an open handle keeps working on the inode', () => {
  const io = new MemoryFileIO();
  const h = io.open('/f', 'rw');
  put(h, 'abc', 0);
  io.unlink('/f');
  assert.equal(io.exists('/f'), false);
  assert.equal(code(() => io.open('/f', 'r')), 'ENOENT');
  put(h, 'de', 3);
  assert.equal(dec(readAll(h)), 'abcde');
  assert.equal(h.size(), 5);
  // a new file with the same name is a different inode
  const g = io.open('/f', 'rw');
  assert.equal(g.size(), 0);
  assert.equal(dec(readAll(h)), 'abcde');
});

test('datasync makes durable exactly the ops issued before it', async () => {
  const { io, h } = await withDurableFile();
  put(h, 'AAAA', 0);
  const p = h.datasync();
  put(h, 'BBBB', 4);
  // not durable until the sync resolves
  assert.equal(textMap(io.crashImage(DROP_ALL).snapshot())['/d/f'], '');
  assert.equal(textMap(io.durableSnapshot())['/d/f'], '');
  await p;
  assert.equal(textMap(io.crashImage(DROP_ALL).snapshot())['/d/f'], 'AAAA');
  assert.equal(textMap(io.durableSnapshot())['/d/f'], 'AAAA');
  assert.equal(textMap(io.crashImage(KEEP_ALL).snapshot())['/d/f'], 'AAAABBBB');
  // a truncate is a pending metadata op too
  h.truncate(2);
  assert.equal(textMap(io.crashImage(DROP_ALL).snapshot())['/d/f'], 'AAAA');
  await h.datasync();
  assert.equal(textMap(io.crashImage(DROP_ALL).snapshot())['/d/f'], 'AA');
  assert.equal(io.syncCalls, 4);
});

test('a created file vanishes from the image until its directory is synced', async () => {
  const io = new MemoryFileIO();
  io.mkdirp('/d');
  await io.syncDir('/');
  const h = io.open('/d/seg', 'rw');
  put(h, 'data', 0);
  await h.datasync(); // data durable, directory entry not
  assert.equal(io.crashImage(DROP_ALL).exists('/d/seg'), false);
  assert.equal(io.crashImage(KEEP_ALL).exists('/d/seg'), true);
  await io.syncDir('/'); // the wrong directory: nothing of /d pending became durable
  assert.equal(io.crashImage(DROP_ALL).exists('/d/seg'), false);
  await io.syncDir('/d');
  const img = io.crashImage(DROP_ALL);
  assert.equal(dec(readAll(img.open('/d/seg', 'r'))), 'data');
  // unlink and rename are likewise undone by a crash until synced
  io.rename('/d/seg', '/d/seg2');
  assert.deepEqual([...io.crashImage(DROP_ALL).snapshot().keys()], ['/d/seg']);
  await io.syncDir('/d');
  assert.deepEqual([...io.crashImage(DROP_ALL).snapshot().keys()], ['/d/seg2']);
  io.unlink('/d/seg2');
  assert.deepEqual([...io.crashImage(DROP_ALL).snapshot().keys()], ['/d/seg2']);
  await io.syncDir('/d');
  assert.deepEqual([...io.crashImage(DROP_ALL).snapshot().keys()], []);
});

test('a directory made by mkdirp is durable only once its parent is synced', async () => {
  const io = new MemoryFileIO();
  io.mkdirp('/a/b');
  await io.syncDir('/a/b'); // nothing pending touches /a/b itself
  assert.deepEqual(io.crashImage(DROP_ALL).directories(), ['/']);
  await io.syncDir('/a');
  assert.deepEqual(io.crashImage(DROP_ALL).directories(), ['/', '/a', '/a/b']);
});

test('syncDir commits the namespace log in order (a prefix), by directory identity', async () => {
  const io = new MemoryFileIO();
  io.mkdirp('/d1');
  io.mkdirp('/d2');
  await io.syncDir('/');
  io.open('/d1/a', 'rw');
  io.open('/d2/b', 'rw');
  io.open('/d1/c', 'rw');
  await io.syncDir('/d2'); // journal order: /d1/a precedes /d2/b, /d1/c follows
  assert.deepEqual([...io.crashImage(DROP_ALL).snapshot().keys()], ['/d1/a', '/d2/b']);

  // the directory is found by identity after a rename
  const io2 = new MemoryFileIO();
  io2.mkdirp('/x');
  await io2.syncDir('/');
  io2.open('/x/f', 'rw');
  io2.rename('/x', '/y');
  await io2.syncDir('/y');
  assert.deepEqual([...io2.crashImage(DROP_ALL).snapshot().keys()], ['/x/f']);
  await io2.syncDir('/');
  assert.deepEqual([...io2.crashImage(DROP_ALL).snapshot().keys()], ['/y/f']);
});

test('a rename across directories is durable after syncing either parent', async () => {
  for (const synced of ['/src', '/dst']) {
    const io = new MemoryFileIO();
    io.mkdirp('/src');
    io.mkdirp('/dst');
    io.open('/src/f', 'rw');
    await io.syncDir('/src');
    await io.syncDir('/');
    io.rename('/src/f', '/dst/f');
    assert.deepEqual([...io.crashImage(DROP_ALL).snapshot().keys()], ['/src/f']);
    await io.syncDir(synced);
    assert.deepEqual([...io.crashImage(DROP_ALL).snapshot().keys()], ['/dst/f'], `after syncDir(${synced})`);
  }
});

test('unsynced namespace changes survive only as a prefix', async () => {
  const io = new MemoryFileIO();
  io.mkdirp('/d');
  await io.syncDir('/');
  const names = ['a', 'b', 'c', 'd', 'e'];
  for (const n of names) io.open(`/d/${n}`, 'rw');
  const seen = new Set<string>();
  for (let seed = 0; seed < 200; seed++) {
    const present = io.crashImage(mulberry32(seed)).readdir('/d').join('');
    assert.equal(present, names.join('').slice(0, present.length), `seed ${seed}: ${present}`);
    seen.add(present);
  }
  assert.equal(seen.size, names.length + 1);
});

test('crashAfterOps: the op that hits the limit throws ECRASHED without effect', async () => {
  const io = new MemoryFileIO({ crashAfterOps: 4 });
  io.mkdirp('/d'); // 1
  const h = io.open('/d/f', 'rw'); // 2
  io.open('/d/f', 'rw'); // opening an existing file does not count
  io.exists('/d/f'); // reads do not count
  put(h, 'one', 0); // 3
  const sync = h.datasync(); // 4
  assert.equal(io.opsCount, 4);
  assert.equal(code(() => put(h, 'two', 3)), 'ECRASHED');
  assert.equal(io.crashed, true);
  assert.equal(io.opsCount, 4);
  assert.equal(await settlesSoon(sync), 'pending');
  // everything afterwards fails
  assert.equal(code(() => io.exists('/d/f')), 'ECRASHED');
  assert.equal(code(() => io.open('/d/f', 'r')), 'ECRASHED');
  assert.equal(code(() => h.read(new Uint8Array(1), 0, 1, 0)), 'ECRASHED');
  assert.equal(code(() => h.size()), 'ECRASHED');
  assert.equal(code(() => h.close()), 'ECRASHED');
  assert.equal(await rejectCode(h.datasync()), 'ECRASHED');
  assert.equal(await rejectCode(io.syncDir('/d')), 'ECRASHED');
  // the write that hit the limit left no trace, even in an everything-lands image
  const img = io.crashImage(KEEP_ALL);
  assert.equal(textMap(img.snapshot())['/d/f'], 'one');
  assert.equal(img.crashed, false);
  put(img.open('/d/f', 'rw'), '!', 3);
  assert.equal(textMap(img.snapshot())['/d/f'], 'one!');
});

test('crash(): syncs in flight never settle, also with latency', async () => {
  const io = new MemoryFileIO({ syncLatencyMs: 5 });
  const h = io.open('/f', 'rw');
  put(h, 'x', 0);
  const a = h.datasync();
  const b = io.syncDir('/');
  io.crash();
  assert.equal(await settlesSoon(a), 'pending');
  assert.equal(await settlesSoon(b), 'pending');
  assert.deepEqual(io.durableSnapshot(), new Map());
});

test('crash points: a dry run counts ops, every crash point leaves a valid prefix', async () => {
  const workload = async (io: MemoryFileIO): Promise<void> => {
    io.mkdirp('/log');
    await io.syncDir('/');
    const h = io.open('/log/00.seg', 'rw');
    for (let i = 0; i < 5; i++) {
      put(h, `rec${i};`, i * 5);
      await h.datasync();
    }
    await io.syncDir('/log');
    const tmp = io.open('/log/cp.tmp', 'rw');
    put(tmp, 'checkpoint', 0);
    await tmp.datasync();
    io.rename('/log/cp.tmp', '/log/cp');
    await io.syncDir('/log');
  };
  const dry = new MemoryFileIO();
  await workload(dry);
  const total = dry.opsCount;
  assert.equal(total, 19);
  for (let k = 0; k <= total; k++) {
    const io = new MemoryFileIO({ crashAfterOps: k });
    let err: unknown;
    await workload(io).catch((e: unknown) => (err = e));
    assert.equal(io.opsCount, k);
    if (k < total) assert.equal((err as FileIOError).code, 'ECRASHED', `k=${k}`);
    else assert.equal(err, undefined);
    const durable = textMap(io.durableSnapshot());
    const full = 'rec0;rec1;rec2;rec3;rec4;';
    if (k >= total) assert.deepEqual(durable, { '/log/00.seg': full, '/log/cp': 'checkpoint' });
    for (let seed = 0; seed < 20; seed++) {
      const files = textMap(io.crashImage(mulberry32(k * 1000 + seed)).snapshot());
      // the checkpoint was synced before its rename, so it is whole or absent
      if (files['/log/cp'] !== undefined) assert.equal(files['/log/cp'], 'checkpoint');
      const seg = files['/log/00.seg'];
      if (durable['/log/00.seg'] !== undefined) assert.ok(seg !== undefined && seg.startsWith(durable['/log/00.seg']!));
      if (seg !== undefined) {
        assert.ok(seg.length <= full.length);
        [...seg].forEach((ch, i) => assert.ok(ch === full[i] || ch === '\0', `k=${k} seed=${seed}: ${JSON.stringify(seg)}`));
      }
    }
  }
});

test('torn writes happen for some seeds; crashImage is deterministic per seed', async () => {
  const { io, h } = await withDurableFile();
  put(h, 'base', 0);
  await h.datasync();
  const payload = 'x'.repeat(100);
  put(h, payload, 4);
  const kinds = new Map<string, number>();
  const images = new Set<string>();
  for (let seed = 0; seed < 300; seed++) {
    const a = textMap(io.crashImage(mulberry32(seed)).snapshot())['/d/f']!;
    const b = textMap(io.crashImage(mulberry32(seed)).snapshot())['/d/f']!;
    assert.equal(a, b, `seed ${seed} not deterministic`);
    images.add(a);
    assert.ok(a.startsWith('base'));
    assert.match(a.slice(4), /^[x\0]*$/);
    assert.ok(a.length <= 104);
    const kind = a === 'base' ? 'dropped' : a === 'base' + payload ? 'whole' : 'torn';
    kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
    if (kind === 'torn' && /^x+\0+/.test(a.slice(4))) kinds.set('prefix-with-zero-tail', 1);
    if (kind === 'torn' && /^\0+x/.test(a.slice(4))) kinds.set('out-of-order', 1);
  }
  for (const k of ['dropped', 'whole', 'torn', 'prefix-with-zero-tail', 'out-of-order']) assert.ok(kinds.has(k), `never saw ${k}`);
  assert.ok(images.size > 50, `only ${images.size} distinct images`);
  // taking images does not disturb the original
  assert.equal(textMap(io.snapshot())['/d/f'], 'base' + payload);
  await h.datasync();
  assert.equal(textMap(io.crashImage(DROP_ALL).snapshot())['/d/f'], 'base' + payload);
});

test('a crash image is fully durable and independent of the original', async () => {
  const { io, h } = await withDurableFile();
  put(h, 'pending', 0);
  io.open('/d/g', 'rw');
  const img = io.crashImage(KEEP_ALL);
  assert.deepEqual(textMap(img.durableSnapshot()), textMap(img.snapshot()));
  assert.deepEqual(textMap(img.crashImage(DROP_ALL).snapshot()), { '/d/f': 'pending', '/d/g': '' });
  put(img.open('/d/f', 'rw'), 'P', 0);
  assert.equal(textMap(io.snapshot())['/d/f'], 'pending');
  assert.equal(img.opsCount, 1);
});

test('syncLatencyMs delays syncs; syncCalls counts them', async () => {
  let calls = 0;
  const io = new MemoryFileIO({ syncLatencyMs: () => (calls++, 25) });
  const h = io.open('/f', 'rw');
  put(h, 'a', 0);
  const start = performance.now();
  await Promise.all([h.datasync(), h.datasync(), io.syncDir('/')]);
  assert.ok(performance.now() - start >= 20);
  assert.equal(calls, 3);
  assert.equal(io.syncCalls, 3);
  assert.equal(await settlesSoon(new MemoryFileIO({ syncLatencyMs: 200 }).syncDir('/')), 'pending');
});

// ---------------------------------------------------------------------------
// Property tests against simple reference models

type DataCmd =
  | { op: 'write'; file: number; pos: number; bytes: number[] }
  | { op: 'truncate'; file: number; size: number }
  | { op: 'read'; file: number; pos: number; len: number }
  | { op: 'sync'; file: number; overlapWith: number[] | null }
  | { op: 'image'; seed: number };

const dataCmd: fc.Arbitrary<DataCmd> = fc.oneof(
  { arbitrary: fc.record({ op: fc.constant('write' as const), file: fc.nat(2), pos: fc.nat(300), bytes: fc.array(fc.integer({ min: 1, max: 255 }), { maxLength: 80 }) }), weight: 5 },
  { arbitrary: fc.record({ op: fc.constant('truncate' as const), file: fc.nat(2), size: fc.nat(400) }), weight: 1 },
  { arbitrary: fc.record({ op: fc.constant('read' as const), file: fc.nat(2), pos: fc.nat(400), len: fc.nat(120) }), weight: 2 },
  { arbitrary: fc.record({ op: fc.constant('sync' as const), file: fc.nat(2), overlapWith: fc.option(fc.array(fc.integer({ min: 1, max: 255 }), { minLength: 1, maxLength: 20 })) }), weight: 2 },
  { arbitrary: fc.record({ op: fc.constant('image' as const), seed: fc.nat() }), weight: 1 },
);

type RefOp = { kind: 'write'; pos: number; bytes: number[] } | { kind: 'truncate'; size: number };

function refApply(content: number[], op: RefOp): number[] {
  const out = content.slice();
  if (op.kind === 'truncate') {
    out.length = op.size;
    return Array.from(out, (v) => v ?? 0);
  }
  while (out.length < op.pos) out.push(0);
  op.bytes.forEach((b, i) => (out[op.pos + i] = b));
  return out;
}

test('property: reads and crash images match a reference model of file data', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(dataCmd, { maxLength: 60 }), async (cmds) => {
      const io = new MemoryFileIO();
      io.mkdirp('/d');
      const paths = ['/d/a', '/d/b', '/d/c'];
      const handles = paths.map((p) => io.open(p, 'rw'));
      await io.syncDir('/d');
      await io.syncDir('/');
      const volatile: number[][] = [[], [], []];
      const durable: number[][] = [[], [], []];
      const pending: RefOp[][] = [[], [], []];
      const apply = (f: number, op: RefOp): void => {
        volatile[f] = refApply(volatile[f]!, op);
        pending[f]!.push(op);
        if (op.kind === 'write') handles[f]!.write(Uint8Array.from(op.bytes), 0, op.bytes.length, op.pos);
        else handles[f]!.truncate(op.size);
      };
      for (const c of cmds) {
        switch (c.op) {
          case 'write':
            if (c.bytes.length > 0) apply(c.file, { kind: 'write', pos: c.pos, bytes: c.bytes });
            else handles[c.file]!.write(new Uint8Array(0), 0, 0, c.pos);
            break;
          case 'truncate':
            apply(c.file, { kind: 'truncate', size: c.size });
            break;
          case 'read': {
            const buf = new Uint8Array(c.len);
            const n = handles[c.file]!.read(buf, 0, c.len, c.pos);
            const expected = volatile[c.file]!.slice(c.pos, c.pos + c.len);
            assert.equal(n, expected.length);
            assert.deepEqual([...buf.subarray(0, n)], expected);
            assert.equal(handles[c.file]!.size(), volatile[c.file]!.length);
            break;
          }
          case 'sync': {
            const snap = volatile[c.file]!.slice();
            const p = handles[c.file]!.datasync();
            pending[c.file] = [];
            if (c.overlapWith !== null) apply(c.file, { kind: 'write', pos: 0, bytes: c.overlapWith });
            await p;
            durable[c.file] = snap;
            break;
          }
          case 'image': {
            const files = io.crashImage(mulberry32(c.seed)).snapshot();
            paths.forEach((p, f) => {
              const got = [...files.get(p)!];
              const candidates = [durable[f]!, ...pending[f]!.filter((o) => o.kind === 'write').map((o) => o.bytes)];
              const maxLen = Math.max(
                durable[f]!.length,
                ...pending[f]!.map((o) => (o.kind === 'write' ? o.pos + o.bytes.length : o.size)),
              );
              assert.ok(got.length <= maxLen, `${p}: image longer than any state`);
              // every byte is zero, a durable byte, or a byte some pending write put there
              got.forEach((v, i) => {
                if (v === 0 || v === durable[f]![i]) return;
                const ok = pending[f]!.some((o) => o.kind === 'write' && o.bytes[i - o.pos] === v);
                assert.ok(ok, `${p}[${i}] = ${v} from nowhere (${candidates.length} candidates)`);
              });
            });
            break;
          }
        }
      }
      const lost = io.crashImage(DROP_ALL).snapshot();
      const kept = io.crashImage(KEEP_ALL).snapshot();
      paths.forEach((p, f) => {
        assert.deepEqual([...lost.get(p)!], durable[f]);
        assert.deepEqual([...io.durableSnapshot().get(p)!], durable[f]);
        assert.deepEqual([...kept.get(p)!], volatile[f]);
        assert.deepEqual([...io.snapshot().get(p)!], volatile[f]);
      });
    }),
    { numRuns: 300 },
  );
});

type NsCmd =
  | { op: 'mkdirp'; dir: number }
  | { op: 'create'; file: number }
  | { op: 'unlink'; file: number }
  | { op: 'renameFile'; from: number; to: number }
  | { op: 'renameDir'; from: number; to: number }
  | { op: 'rmrf'; dir: number }
  | { op: 'syncDir'; dir: number }
  | { op: 'image'; seed: number };

const DIRS = ['/', '/x', '/x/y', '/z', '/z/w'];
const FILES = ['/f', '/x/f', '/x/g', '/x/y/f', '/z/h', '/z/w/f'];

const nsCmd: fc.Arbitrary<NsCmd> = fc.oneof(
  fc.record({ op: fc.constant('mkdirp' as const), dir: fc.integer({ min: 1, max: DIRS.length - 1 }) }),
  fc.record({ op: fc.constant('create' as const), file: fc.nat(FILES.length - 1) }),
  fc.record({ op: fc.constant('unlink' as const), file: fc.nat(FILES.length - 1) }),
  fc.record({ op: fc.constant('renameFile' as const), from: fc.nat(FILES.length - 1), to: fc.nat(FILES.length - 1) }),
  fc.record({ op: fc.constant('renameDir' as const), from: fc.integer({ min: 1, max: DIRS.length - 1 }), to: fc.integer({ min: 1, max: DIRS.length - 1 }) }),
  fc.record({ op: fc.constant('rmrf' as const), dir: fc.integer({ min: 1, max: DIRS.length - 1 }) }),
  fc.record({ op: fc.constant('syncDir' as const), dir: fc.nat(DIRS.length - 1) }),
  fc.record({ op: fc.constant('image' as const), seed: fc.nat() }),
);

/** Reference namespace: directories by path with identities, files by path with a content tag. */
interface NsState {
  dirs: Map<string, number>;
  files: Map<string, number>;
}

const parentPath = (p: string): string => p.slice(0, p.lastIndexOf('/')) || '/';
const stateKey = (s: { dirs: Iterable<string>; files: Map<string, string | number> }): string =>
  JSON.stringify([[...s.dirs].sort(), [...s.files].map(([k, v]) => `${k}=${v}`).sort()]);

test('property: namespace ops and crash images match a reference model', async () => {
  await fc.assert(
    fc.asyncProperty(fc.boolean(), fc.array(nsCmd, { maxLength: 40 }), async (premade, generated) => {
      // half the runs start with every directory made, so cross-directory ops are common
      const cmds: NsCmd[] = premade ? [{ op: 'mkdirp', dir: 2 }, { op: 'mkdirp', dir: 4 }, ...generated] : generated;
      const io = new MemoryFileIO();
      const ref: NsState = { dirs: new Map([['/', 0]]), files: new Map() };
      let nextDirId = 1;
      let nextTag = 1;
      // history[i] = state after i logged namespace ops; touched[i-1] = dir ids op i touched
      const history: string[] = [stateKey({ dirs: ref.dirs.keys(), files: ref.files })];
      const touched: number[][] = [];
      let durableIndex = 0;
      const log = (ids: number[]): void => {
        touched.push(ids);
        history.push(stateKey({ dirs: ref.dirs.keys(), files: ref.files }));
      };
      const under = (p: string, dir: string): boolean => p.startsWith(dir + '/');
      const check = (fn: () => void, expectOk: boolean, what: string): boolean => {
        const got = code(fn);
        assert.equal(got === 'ok', expectOk, `${what}: got ${got}`);
        return expectOk;
      };

      for (const c of cmds) {
        switch (c.op) {
          case 'mkdirp': {
            const parts = DIRS[c.dir]!.split('/').slice(1);
            const prefixes = parts.map((_, i) => '/' + parts.slice(0, i + 1).join('/'));
            const ok = prefixes.every((p) => !ref.files.has(p));
            if (check(() => io.mkdirp(DIRS[c.dir]!), ok, `mkdirp ${DIRS[c.dir]}`)) {
              for (const p of prefixes) {
                if (ref.dirs.has(p)) continue;
                const parentId = ref.dirs.get(parentPath(p))!;
                ref.dirs.set(p, nextDirId++);
                log([parentId]);
              }
            }
            break;
          }
          case 'create': {
            const p = FILES[c.file]!;
            const ok = ref.dirs.has(parentPath(p));
            let h: FileHandle | undefined;
            if (check(() => (h = io.open(p, 'rw')), ok, `create ${p}`) && !ref.files.has(p)) {
              const tag = nextTag++;
              ref.files.set(p, tag);
              log([ref.dirs.get(parentPath(p))!]);
              h!.write(Uint8Array.of(tag), 0, 1, 0);
              await h!.datasync();
            }
            break;
          }
          case 'unlink': {
            const p = FILES[c.file]!;
            if (check(() => io.unlink(p), ref.files.has(p), `unlink ${p}`)) {
              ref.files.delete(p);
              log([ref.dirs.get(parentPath(p))!]);
            }
            break;
          }
          case 'renameFile': {
            const from = FILES[c.from]!;
            const to = FILES[c.to]!;
            const ok = ref.files.has(from) && ref.dirs.has(parentPath(to));
            if (check(() => io.rename(from, to), ok, `rename ${from} ${to}`) && from !== to) {
              ref.files.set(to, ref.files.get(from)!);
              ref.files.delete(from);
              log([ref.dirs.get(parentPath(from))!, ref.dirs.get(parentPath(to))!]);
            }
            break;
          }
          case 'renameDir': {
            const from = DIRS[c.from]!;
            const to = DIRS[c.to]!;
            const nonEmpty = [...ref.dirs.keys(), ...ref.files.keys()].some((p) => under(p, to));
            const ok = ref.dirs.has(from) && ref.dirs.has(parentPath(to)) && !under(to, from) &&
              !ref.files.has(to) && (from === to || !nonEmpty);
            if (check(() => io.rename(from, to), ok, `rename ${from} ${to}`) && from !== to) {
              const ids = [ref.dirs.get(parentPath(from))!, ref.dirs.get(parentPath(to))!];
              const move = <V>(m: Map<string, V>): Map<string, V> =>
                new Map([...m].filter(([p]) => p !== to).map(([p, v]) => [p === from || under(p, from) ? to + p.slice(from.length) : p, v]));
              ref.dirs = move(ref.dirs);
              ref.files = move(ref.files);
              log(ids);
            }
            break;
          }
          case 'rmrf': {
            const dir = DIRS[c.dir]!;
            const ok = !parts(dir).some((p) => ref.files.has(p) && p !== dir);
            if (check(() => io.rmrf(dir), ok, `rmrf ${dir}`) && (ref.dirs.has(dir) || ref.files.has(dir))) {
              const id = ref.dirs.get(parentPath(dir))!;
              for (const m of [ref.dirs, ref.files] as Map<string, number>[]) {
                for (const p of [...m.keys()]) if (p === dir || under(p, dir)) m.delete(p);
              }
              log([id]);
            }
            break;
          }
          case 'syncDir': {
            const dir = DIRS[c.dir]!;
            const id = ref.dirs.get(dir);
            const p = io.syncDir(dir);
            if (id === undefined) {
              assert.notEqual(await rejectCode(p), 'ok');
              break;
            }
            await p;
            for (let i = touched.length - 1; i >= durableIndex; i--) {
              if (touched[i]!.includes(id)) {
                durableIndex = i + 1;
                break;
              }
            }
            break;
          }
          case 'image': {
            const img = io.crashImage(mulberry32(c.seed));
            const key = stateKey({ dirs: img.directories(), files: new Map([...img.snapshot()].map(([p, b]) => [p, b[0]!])) });
            const at = history.indexOf(key, durableIndex);
            assert.ok(at >= durableIndex, `image ${key} is no state at or after ${durableIndex}`);
            break;
          }
        }
        for (const d of DIRS) {
          const expected = [...ref.dirs.keys(), ...ref.files.keys()].filter((p) => p !== '/' && parentPath(p) === d).map((p) => p.slice(p.lastIndexOf('/') + 1)).sort();
          if (ref.files.has(d)) continue;
          assert.deepEqual(io.readdir(d), expected, `readdir ${d}`);
        }
      }
      const lost = io.crashImage(DROP_ALL);
      const lostKey = stateKey({ dirs: lost.directories(), files: new Map([...lost.snapshot()].map(([p, b]) => [p, b[0]!])) });
      assert.equal(lostKey, history[durableIndex]);
      const kept = io.crashImage(KEEP_ALL);
      const keptKey = stateKey({ dirs: kept.directories(), files: new Map([...kept.snapshot()].map(([p, b]) => [p, b[0]!])) });
      assert.equal(keptKey, history[history.length - 1]);
    }),
    { numRuns: 400 },
  );
});

function parts(p: string): string[] {
  const segs = p.split('/').slice(1);
  return segs.map((_, i) => '/' + segs.slice(0, i + 1).join('/'));
}
