// MemoryFileIO: the in-memory simulation twin of NodeFileIO, for seeded crash
// simulation of the storage engine. It models exactly the durability contract
// in file-io.ts and nothing kinder:
//
// Data. Every file is an inode with a volatile view (what reads see: every
// write and truncate applied) and a durable image (what survives a crash for
// sure), plus the list of pending data operations (writes with a copy of their
// bytes, truncates) issued since, in issue order. datasync() captures the number
// of operations issued so far; when it resolves those operations (and only
// those) become durable. An unlinked or replaced inode stays usable through
// open handles, as in POSIX.
//
// Namespace. Creating a file (open 'rw' of a missing file), mkdirp, rename,
// unlink and rmrf change the volatile tree at once and are appended to one
// global log of pending namespace operations. The durable tree is always the
// initial tree plus a *prefix* of that log. syncDir(dir) captures the last
// pending operation that touched `dir` (as the parent of a created, removed or
// renamed entry; a rename touches both parents), and on resolution makes
// durable every pending namespace operation up to and including it - like a
// journaling filesystem committing metadata in order. A sync of a directory
// with nothing pending makes nothing durable, and datasync() of a new file
// does NOT make its directory entry durable (the contract says only syncDir of
// the parent does). Directories are identified by node, not path, so a
// syncDir after the directory was renamed still finds its changes.
//
// Errors. Failures are FileIOError with codes ENOENT, ENOTDIR, EISDIR, EEXIST,
// ENOTEMPTY, EINVAL, EBUSY, EBADF (closed handle, or write/truncate through an
// 'r' handle) and ECRASHED; datasync/syncDir never throw synchronously, they
// return a rejected promise. Bad read/write ranges throw RangeError, like fs.
//
// Crash. crash() (or reaching `crashAfterOps`) makes every later call throw,
// or for datasync/syncDir reject with, FileIOError('ECRASHED') - close()
// included; syncs already in flight never settle, so a simulation driver must
// not wait for every task of the engine under test to finish.
//
// crashImage(rng) builds a fresh, healthy instance holding one possible disk
// state after power loss and reboot:
//   - namespace: the durable tree plus a random prefix (0..all) of the pending
//     namespace log;
//   - each file present: its durable bytes, then each pending data operation in
//     order, independently, with r = rng(): a write is dropped when r < 1/3,
//     torn when r < 2/3 and applied whole otherwise; a truncate is dropped when
//     r < 1/2 and applied otherwise. A torn write keeps either a prefix of its
//     bytes or an arbitrary sub-range (pages land out of order) at byte
//     granularity, and half of the time the file size is still extended to the
//     write's full end with zeros (size metadata landed, data did not). Gaps
//     read as zeros.
//   So rng = () => 0 loses everything pending and rng = () => 0.99999 keeps
//   everything pending, whole. The image has nothing pending; it works before
//   or after crash(). The same rng sequence always yields the same image.
//
// Operation counting (`opsCount`, `crashAfterOps`): write, truncate, datasync,
// syncDir, open('rw') that creates, rename, unlink, mkdirp and rmrf each count
// one, once they have passed validation (a call that throws ENOENT and the like
// does not count and never crashes). No-op calls that pass validation still
// count (zero-length write, mkdirp of an existing dir, rmrf of a missing path,
// rename onto itself). With crashAfterOps = k, the first k counted operations
// take effect and the (k+1)-th crashes the instance and throws ECRASHED
// without taking effect.
import path from 'node:path';
import { FileIOError, type FileHandle, type FileIO, type FileLock, type OpenMode, type ReadManyRequest, type ReadManyResult } from './file-io.ts';
import { readManyNow } from './read-many.ts';

/** Small seeded PRNG returning floats in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface MemoryFileIOOptions {
  /** Crash automatically when this many counted operations have been done (see header). */
  crashAfterOps?: number;
  /** Latency of datasync/syncDir in ms (setTimeout); default: resolve on setImmediate. */
  syncLatencyMs?: number | (() => number);
}

// ---------------------------------------------------------------------------
// Byte storage

/** Growable byte array; invariant: every byte at or past `size` is zero. */
class Bytes {
  buf: Uint8Array;
  size: number;

  constructor(buf: Uint8Array = new Uint8Array(0), size = 0) {
    this.buf = buf;
    this.size = size;
  }

  #ensure(capacity: number): void {
    if (capacity <= this.buf.length) return;
    let cap = Math.max(64, this.buf.length * 2);
    while (cap < capacity) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.buf.subarray(0, this.size));
    this.buf = next;
  }

  write(src: Uint8Array, srcOffset: number, length: number, position: number): void {
    if (length === 0) return;
    const end = position + length;
    this.#ensure(end);
    this.buf.set(src.subarray(srcOffset, srcOffset + length), position);
    if (end > this.size) this.size = end;
  }

  truncate(size: number): void {
    if (size < this.size) this.buf.fill(0, size, this.size);
    else this.#ensure(size);
    this.size = size;
  }

  extendTo(size: number): void {
    if (size > this.size) this.truncate(size);
  }

  read(dst: Uint8Array, dstOffset: number, length: number, position: number): number {
    if (position >= this.size) return 0;
    const n = Math.min(length, this.size - position);
    dst.set(this.buf.subarray(position, position + n), dstOffset);
    return n;
  }

  clone(): Bytes {
    return new Bytes(this.buf.slice(0, this.size), this.size);
  }

  bytes(): Uint8Array {
    return this.buf.slice(0, this.size);
  }
}

type DataOp =
  | { readonly seq: number; readonly kind: 'write'; readonly position: number; readonly bytes: Uint8Array }
  | { readonly seq: number; readonly kind: 'truncate'; readonly size: number };

class Inode {
  readonly volatile: Bytes;
  readonly durable: Bytes;
  /** Pending data ops are pending[head..], in issue order. */
  pending: DataOp[] = [];
  head = 0;
  /** Sequence number the next data op gets. */
  issued = 0;

  constructor(durable: Bytes = new Bytes()) {
    this.durable = durable;
    this.volatile = durable.clone();
  }

  write(src: Uint8Array, srcOffset: number, length: number, position: number): void {
    if (length === 0) return; // like pwrite(2): writes nothing, extends nothing
    this.volatile.write(src, srcOffset, length, position);
    const bytes = src.slice(srcOffset, srcOffset + length);
    this.pending.push({ seq: this.issued++, kind: 'write', position, bytes });
  }

  truncate(size: number): void {
    this.volatile.truncate(size);
    this.pending.push({ seq: this.issued++, kind: 'truncate', size });
  }

  /** Makes every pending op with seq < `upTo` durable. */
  makeDurable(upTo: number): void {
    while (this.head < this.pending.length && this.pending[this.head]!.seq < upTo) {
      const op = this.pending[this.head++]!;
      if (op.kind === 'write') this.durable.write(op.bytes, 0, op.bytes.length, op.position);
      else this.durable.truncate(op.size);
    }
    if (this.head === this.pending.length) {
      this.pending = [];
      this.head = 0;
    } else if (this.head >= 64 && this.head * 2 >= this.pending.length) {
      this.pending = this.pending.slice(this.head);
      this.head = 0;
    }
  }

  pendingOps(): DataOp[] {
    return this.pending.slice(this.head);
  }
}

// ---------------------------------------------------------------------------
// Namespace

interface DirNode {
  readonly kind: 'dir';
  readonly id: number;
  readonly children: Map<string, Node>;
}
interface FileNode {
  readonly kind: 'file';
  readonly inode: Inode;
}
type Node = DirNode | FileNode;

type NsOp =
  | { readonly seq: number; readonly kind: 'create'; readonly path: string; readonly inode: Inode }
  | { readonly seq: number; readonly kind: 'mkdir'; readonly path: string; readonly id: number }
  | { readonly seq: number; readonly kind: 'rename'; readonly from: string; readonly to: string }
  | { readonly seq: number; readonly kind: 'unlink'; readonly path: string }
  | { readonly seq: number; readonly kind: 'rmrf'; readonly path: string };

function normalize(p: string): string {
  // resolve() normalises, makes relative paths absolute from '/', and strips a trailing '/'.
  return path.posix.resolve('/', p);
}

function join(dir: string, name: string): string {
  return dir === '/' ? `/${name}` : `${dir}/${name}`;
}

/** The node at normalised `p`, undefined when missing, 'ENOTDIR' when a parent component is a file. */
function lookup(root: DirNode, p: string): Node | undefined | 'ENOTDIR' {
  if (p === '/') return root;
  let node: Node = root;
  let start = 1;
  while (start <= p.length) {
    let end = p.indexOf('/', start);
    if (end < 0) end = p.length;
    if (node.kind !== 'dir') return 'ENOTDIR';
    const child: Node | undefined = node.children.get(p.slice(start, end));
    if (child === undefined) return undefined;
    node = child;
    start = end + 1;
  }
  return node;
}

function cloneTree(dir: DirNode): DirNode {
  const children = new Map<string, Node>();
  for (const [name, node] of dir.children) children.set(name, node.kind === 'dir' ? cloneTree(node) : node);
  return { kind: 'dir', id: dir.id, children };
}

function parentOf(root: DirNode, p: string): DirNode {
  const parent = lookup(root, path.posix.dirname(p));
  if (parent === undefined || parent === 'ENOTDIR' || parent.kind !== 'dir') {
    throw new Error(`MemoryFileIO internal error: no parent directory for ${p}`);
  }
  return parent;
}

/** Applies a namespace op that is known to be valid in this tree's state. */
function applyNsOp(root: DirNode, op: NsOp): void {
  switch (op.kind) {
    case 'create':
      parentOf(root, op.path).children.set(path.posix.basename(op.path), { kind: 'file', inode: op.inode });
      return;
    case 'mkdir':
      parentOf(root, op.path).children.set(path.posix.basename(op.path), { kind: 'dir', id: op.id, children: new Map() });
      return;
    case 'rename': {
      const from = parentOf(root, op.from);
      const name = path.posix.basename(op.from);
      const node = from.children.get(name);
      if (node === undefined) throw new Error(`MemoryFileIO internal error: rename source ${op.from} missing`);
      from.children.delete(name);
      parentOf(root, op.to).children.set(path.posix.basename(op.to), node);
      return;
    }
    case 'unlink':
    case 'rmrf':
      parentOf(root, op.path).children.delete(path.posix.basename(op.path));
      return;
  }
}

function walkFiles(dir: DirNode, dirPath: string, visit: (filePath: string, node: FileNode, parent: DirNode, name: string) => void): void {
  for (const name of [...dir.children.keys()].sort()) {
    const node = dir.children.get(name)!;
    const p = join(dirPath, name);
    if (node.kind === 'dir') walkFiles(node, p, visit);
    else visit(p, node, dir, name);
  }
}

// ---------------------------------------------------------------------------
// Simulation state shared by the FileIO facade and its handles

function crashedError(p: string): FileIOError {
  return new FileIOError('ECRASHED', p, `ECRASHED: simulated crash (${p})`);
}

class Sim {
  root: DirNode;
  durableRoot: DirNode;
  nextId: number;
  /** Pending namespace ops are nsPending[nsHead..]; seq numbers are global and dense. */
  nsPending: NsOp[] = [];
  nsHead = 0;
  nsIssued = 0;
  /** Directory id -> seq of the last namespace op that touched it. */
  lastTouch = new Map<number, number>();
  ops = 0;
  syncCalls = 0;
  crashed = false;
  readonly crashAfterOps: number | undefined;
  readonly latency: number | (() => number) | undefined;
  readonly timers = new Set<() => void>();

  constructor(options: MemoryFileIOOptions, root: DirNode, nextId: number) {
    this.crashAfterOps = options.crashAfterOps;
    this.latency = options.syncLatencyMs;
    this.root = root;
    this.durableRoot = cloneTree(root);
    this.nextId = nextId;
  }

  checkAlive(p: string): void {
    if (this.crashed) throw crashedError(p);
  }

  /** Counts one operation, or crashes when the limit is reached. Call after validation, before any effect. */
  tick(p: string): void {
    if (this.crashAfterOps !== undefined && this.ops >= this.crashAfterOps) {
      this.crash();
      throw crashedError(p);
    }
    this.ops++;
  }

  crash(): void {
    if (this.crashed) return;
    this.crashed = true;
    for (const cancel of this.timers) cancel();
    this.timers.clear();
  }

  /** Runs `complete` once the simulated device answers; never settles if the instance crashes first. */
  defer(complete: () => void): Promise<void> {
    return new Promise<void>((resolve) => {
      const fire = (): void => {
        this.timers.delete(cancel);
        if (this.crashed) return;
        complete();
        resolve();
      };
      let cancel: () => void;
      if (this.latency === undefined) {
        const h = setImmediate(fire);
        cancel = () => clearImmediate(h);
      } else {
        const ms = typeof this.latency === 'function' ? this.latency() : this.latency;
        const h = setTimeout(fire, ms);
        cancel = () => clearTimeout(h);
      }
      this.timers.add(cancel);
    });
  }

  logNs(op: NsOp, touched: DirNode[]): void {
    applyNsOp(this.root, op);
    this.nsPending.push(op);
    this.nsIssued++;
    for (const dir of touched) this.lastTouch.set(dir.id, op.seq);
  }

  /** Makes every pending namespace op with seq <= `upTo` durable. */
  makeNsDurable(upTo: number): void {
    while (this.nsHead < this.nsPending.length && this.nsPending[this.nsHead]!.seq <= upTo) {
      applyNsOp(this.durableRoot, this.nsPending[this.nsHead++]!);
    }
    if (this.nsHead === this.nsPending.length) {
      this.nsPending = [];
      this.nsHead = 0;
    } else if (this.nsHead >= 64 && this.nsHead * 2 >= this.nsPending.length) {
      this.nsPending = this.nsPending.slice(this.nsHead);
      this.nsHead = 0;
    }
  }

  /** Parent directory of normalised `p`, or the error a syscall would give. */
  parentDir(p: string, raw: string): DirNode {
    const parent = lookup(this.root, path.posix.dirname(p));
    if (parent === undefined) throw new FileIOError('ENOENT', raw);
    if (parent === 'ENOTDIR' || parent.kind !== 'dir') throw new FileIOError('ENOTDIR', raw);
    return parent;
  }
}

function checkRange(buf: Uint8Array, offset: number, length: number, position: number): void {
  if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || !Number.isSafeInteger(position) ||
    offset < 0 || length < 0 || position < 0 || offset + length > buf.length) {
    throw new RangeError(`out of range: offset=${offset} length=${length} position=${position} buffer=${buf.length}`);
  }
}

class MemoryFileHandle implements FileHandle {
  readonly path: string;
  readonly #sim: Sim;
  readonly #inode: Inode;
  readonly #writable: boolean;
  #closed = false;

  constructor(sim: Sim, filePath: string, inode: Inode, writable: boolean) {
    this.#sim = sim;
    this.path = filePath;
    this.#inode = inode;
    this.#writable = writable;
  }

  #check(write: boolean): void {
    this.#sim.checkAlive(this.path);
    if (this.#closed) throw new FileIOError('EBADF', this.path, `EBADF: handle closed: ${this.path}`);
    if (write && !this.#writable) throw new FileIOError('EBADF', this.path, `EBADF: opened read-only: ${this.path}`);
  }

  read(buf: Uint8Array, offset: number, length: number, position: number): number {
    this.#check(false);
    checkRange(buf, offset, length, position);
    return this.#inode.volatile.read(buf, offset, length, position);
  }

  write(buf: Uint8Array, offset: number, length: number, position: number): void {
    this.#check(true);
    checkRange(buf, offset, length, position);
    this.#sim.tick(this.path);
    this.#inode.write(buf, offset, length, position);
  }

  /** One counted operation, one pending write: a crash can tear it anywhere, like pwritev(2). */
  writev(buffers: readonly Uint8Array[], position: number): void {
    this.#check(true);
    let total = 0;
    for (const b of buffers) total += b.length;
    const joined = new Uint8Array(total);
    let at = 0;
    for (const b of buffers) {
      joined.set(b, at);
      at += b.length;
    }
    checkRange(joined, 0, total, position);
    this.#sim.tick(this.path);
    this.#inode.write(joined, 0, total, position);
  }

  size(): number {
    this.#check(false);
    return this.#inode.volatile.size;
  }

  truncate(sizeBytes: number): void {
    this.#check(true);
    if (!Number.isSafeInteger(sizeBytes) || sizeBytes < 0) throw new FileIOError('EINVAL', this.path);
    this.#sim.tick(this.path);
    this.#inode.truncate(sizeBytes);
  }

  async datasync(): Promise<void> {
    this.#check(false);
    const sim = this.#sim;
    sim.tick(this.path);
    sim.syncCalls++;
    const inode = this.#inode;
    const upTo = inode.issued;
    await sim.defer(() => inode.makeDurable(upTo));
  }

  close(): void {
    this.#sim.checkAlive(this.path);
    this.#closed = true;
  }
}

// ---------------------------------------------------------------------------
// Public facade

const DROP_BELOW = 1 / 3;
const TEAR_BELOW = 2 / 3;

export class MemoryFileIO implements FileIO {
  readonly #sim: Sim;

  constructor(options: MemoryFileIOOptions = {}) {
    this.#sim = new Sim(options, { kind: 'dir', id: 0, children: new Map() }, 1);
  }

  /** Counted operations done so far (see header); run once without a crash to learn the total. */
  get opsCount(): number {
    return this.#sim.ops;
  }

  /** datasync() + syncDir() calls that were accepted. */
  get syncCalls(): number {
    return this.#sim.syncCalls;
  }

  get crashed(): boolean {
    return this.#sim.crashed;
  }

  /** Power cut: every later call throws ECRASHED; syncs in flight never settle. */
  crash(): void {
    this.#sim.crash();
  }

  /** The reads run in a microtask, on this thread: same results as the helper thread, deterministic order. */
  readMany(request: ReadManyRequest): Promise<ReadManyResult> {
    return Promise.resolve().then(() => ({ slab: request.slab, got: readManyNow(this, request) }));
  }

  open(filePath: string, mode: OpenMode): FileHandle {
    const sim = this.#sim;
    sim.checkAlive(filePath);
    const p = normalize(filePath);
    const node = lookup(sim.root, p);
    if (node === 'ENOTDIR') throw new FileIOError('ENOTDIR', filePath);
    if (node !== undefined) {
      if (node.kind === 'dir') throw new FileIOError('EISDIR', filePath);
      return new MemoryFileHandle(sim, filePath, node.inode, mode === 'rw');
    }
    if (mode === 'r') throw new FileIOError('ENOENT', filePath);
    const parent = sim.parentDir(p, filePath);
    sim.tick(filePath);
    const inode = new Inode();
    sim.logNs({ seq: sim.nsIssued, kind: 'create', path: p, inode }, [parent]);
    return new MemoryFileHandle(sim, filePath, inode, true);
  }

  exists(filePath: string): boolean {
    this.#sim.checkAlive(filePath);
    const node = lookup(this.#sim.root, normalize(filePath));
    return node !== undefined && node !== 'ENOTDIR';
  }

  readdir(dir: string): string[] {
    this.#sim.checkAlive(dir);
    const node = lookup(this.#sim.root, normalize(dir));
    if (node === undefined) return [];
    if (node === 'ENOTDIR' || node.kind !== 'dir') throw new FileIOError('ENOTDIR', dir);
    return [...node.children.keys()].sort();
  }

  isDirectory(filePath: string): boolean {
    this.#sim.checkAlive(filePath);
    const node = lookup(this.#sim.root, normalize(filePath));
    return node !== undefined && node !== 'ENOTDIR' && node.kind === 'dir';
  }

  mkdirp(dir: string): void {
    const sim = this.#sim;
    sim.checkAlive(dir);
    const p = normalize(dir);
    const parts = p === '/' ? [] : p.slice(1).split('/');
    // Validate the whole path before creating anything.
    let node: DirNode = sim.root;
    let existing = 0;
    for (; existing < parts.length; existing++) {
      const child = node.children.get(parts[existing]!);
      if (child === undefined) break;
      if (child.kind !== 'dir') throw new FileIOError(existing === parts.length - 1 ? 'EEXIST' : 'ENOTDIR', dir);
      node = child;
    }
    sim.tick(dir);
    let current = '/' + parts.slice(0, existing).join('/');
    for (let i = existing; i < parts.length; i++) {
      const parent = node;
      current = join(current, parts[i]!);
      const id = sim.nextId++;
      sim.logNs({ seq: sim.nsIssued, kind: 'mkdir', path: current, id }, [parent]);
      node = parent.children.get(parts[i]!) as DirNode;
    }
  }

  unlink(filePath: string): void {
    const sim = this.#sim;
    sim.checkAlive(filePath);
    const p = normalize(filePath);
    const node = lookup(sim.root, p);
    if (node === undefined) throw new FileIOError('ENOENT', filePath);
    if (node === 'ENOTDIR') throw new FileIOError('ENOTDIR', filePath);
    if (node.kind === 'dir') throw new FileIOError('EISDIR', filePath);
    const parent = sim.parentDir(p, filePath);
    sim.tick(filePath);
    sim.logNs({ seq: sim.nsIssued, kind: 'unlink', path: p }, [parent]);
  }

  rename(from: string, to: string): void {
    const sim = this.#sim;
    sim.checkAlive(from);
    const src = normalize(from);
    const dst = normalize(to);
    const node = lookup(sim.root, src);
    if (node === undefined) throw new FileIOError('ENOENT', from);
    if (node === 'ENOTDIR') throw new FileIOError('ENOTDIR', from);
    if (src === '/' || dst === '/') throw new FileIOError('EBUSY', from);
    const srcParent = sim.parentDir(src, from);
    const dstParent = sim.parentDir(dst, to);
    if (src === dst) {
      sim.tick(from);
      return;
    }
    const target = dstParent.children.get(path.posix.basename(dst));
    if (node.kind === 'dir') {
      if (dst.startsWith(src + '/')) throw new FileIOError('EINVAL', from, `EINVAL: cannot move ${from} into itself`);
      if (target !== undefined && target.kind !== 'dir') throw new FileIOError('ENOTDIR', to);
      if (target !== undefined && target.kind === 'dir' && target.children.size > 0) throw new FileIOError('ENOTEMPTY', to);
    } else if (target !== undefined && target.kind === 'dir') {
      throw new FileIOError('EISDIR', to);
    }
    sim.tick(from);
    sim.logNs({ seq: sim.nsIssued, kind: 'rename', from: src, to: dst }, [srcParent, dstParent]);
  }

  /** Locks live in this instance only: a crash image (a reboot) starts with none. */
  lock(filePath: string): FileLock | null {
    this.#sim.checkAlive(filePath);
    const p = normalize(filePath);
    if (this.#locks.has(p)) return null;
    this.#locks.add(p);
    return { release: () => void this.#locks.delete(p) };
  }

  readonly #locks = new Set<string>();

  rmrf(dir: string): void {
    const sim = this.#sim;
    sim.checkAlive(dir);
    const p = normalize(dir);
    if (p === '/') throw new FileIOError('EINVAL', dir, 'EINVAL: refusing to remove /');
    const node = lookup(sim.root, p);
    if (node === 'ENOTDIR') throw new FileIOError('ENOTDIR', dir);
    sim.tick(dir);
    if (node === undefined) return; // like rm -rf: a missing path is fine
    sim.logNs({ seq: sim.nsIssued, kind: 'rmrf', path: p }, [sim.parentDir(p, dir)]);
  }

  async syncDir(dir: string): Promise<void> {
    const sim = this.#sim;
    sim.checkAlive(dir);
    const node = lookup(sim.root, normalize(dir));
    if (node === undefined) throw new FileIOError('ENOENT', dir);
    if (node === 'ENOTDIR' || node.kind !== 'dir') throw new FileIOError('ENOTDIR', dir);
    sim.tick(dir);
    sim.syncCalls++;
    const upTo = sim.lastTouch.get(node.id) ?? -1;
    await sim.defer(() => sim.makeNsDurable(upTo));
  }

  /**
   * A new, healthy instance holding one possible disk state after a power cut
   * now (see the header for the model). Deterministic for a given rng sequence.
   * `options` apply to the new instance; by default it keeps syncLatencyMs and
   * has no crashAfterOps.
   */
  crashImage(rng: () => number, options: MemoryFileIOOptions = { syncLatencyMs: this.#sim.latency }): MemoryFileIO {
    const sim = this.#sim;
    const root = cloneTree(sim.durableRoot);
    const pendingNs = sim.nsPending.slice(sim.nsHead);
    const keep = Math.min(pendingNs.length, Math.floor(rng() * (pendingNs.length + 1)));
    for (let i = 0; i < keep; i++) applyNsOp(root, pendingNs[i]!);
    const rebuilt = new Map<Inode, Inode>();
    walkFiles(root, '/', (_p, file, parent, name) => {
      let inode = rebuilt.get(file.inode);
      if (inode === undefined) {
        inode = new Inode(imageBytes(file.inode, rng));
        rebuilt.set(file.inode, inode);
      }
      parent.children.set(name, { kind: 'file', inode });
    });
    const io = new MemoryFileIO(options);
    const next = io.#sim;
    next.root = root;
    next.durableRoot = cloneTree(root);
    next.nextId = sim.nextId;
    return io;
  }

  /** Volatile contents of every file, by normalised path (copies). */
  snapshot(): Map<string, Uint8Array> {
    const out = new Map<string, Uint8Array>();
    walkFiles(this.#sim.root, '/', (p, file) => out.set(p, file.inode.volatile.bytes()));
    return out;
  }

  /** What surely survives a crash: durable namespace with durable contents (copies). */
  durableSnapshot(): Map<string, Uint8Array> {
    const out = new Map<string, Uint8Array>();
    walkFiles(this.#sim.durableRoot, '/', (p, file) => out.set(p, file.inode.durable.bytes()));
    return out;
  }

  /** Every directory in the volatile namespace, sorted (including '/'). */
  directories(): string[] {
    const out: string[] = [];
    const visit = (dir: DirNode, p: string): void => {
      out.push(p);
      for (const [name, node] of dir.children) if (node.kind === 'dir') visit(node, join(p, name));
    };
    visit(this.#sim.root, '/');
    return out.sort();
  }
}

/** Durable bytes of `inode` plus a random selection of its pending ops, each dropped, torn or applied. */
function imageBytes(inode: Inode, rng: () => number): Bytes {
  const out = inode.durable.clone();
  for (const op of inode.pendingOps()) {
    const r = rng();
    if (op.kind === 'truncate') {
      if (r >= 0.5) out.truncate(op.size);
      continue;
    }
    const len = op.bytes.length;
    if (r < DROP_BELOW) continue;
    if (r >= TEAR_BELOW) {
      out.write(op.bytes, 0, len, op.position);
      continue;
    }
    let from: number;
    let to: number;
    if (rng() < 0.5) {
      // a prefix reached the disk
      from = 0;
      to = Math.floor(rng() * len);
    } else {
      // pages landed out of order: an arbitrary sub-range
      from = Math.floor(rng() * len);
      to = from + Math.floor(rng() * (len - from + 1));
    }
    out.write(op.bytes, from, to - from, op.position + from);
    if (rng() < 0.5) out.extendTo(op.position + len); // size landed, data did not
  }
  return out;
}
