// Shared helpers of the Node drivers (kafkajs.ts, kcat.ts). A driver runs one scenario:
//   node conformance/kafka/node/<driver>.ts <scenario>   with BOOTSTRAP=host:port and RUN_ID set.
// Progress goes to stderr; control lines ({"control":"restart-broker"}, answered by "restarted" on stdin) and one
// final {"ok": bool, "detail": "..."} line go to stdout. See ../README.md for what each scenario checks.
import process from 'node:process';
import readline from 'node:readline';

export const BOOTSTRAP = process.env['BOOTSTRAP'] || '127.0.0.1:9092';
export const RUN_ID = process.env['RUN_ID'] || Date.now().toString(36);
let tag = 'node';

export class Fail extends Error {}
export class Skip extends Error {}

export function log(msg: string): void {
  process.stderr.write(`[${tag}] ${msg}\n`);
}

export function check(cond: unknown, msg: string | (() => string)): asserts cond {
  if (!cond) throw new Fail(typeof msg === 'function' ? msg() : msg);
}

function emit(obj: unknown): void {
  process.stdout.write(JSON.stringify(obj) + '\n');
}

export type Scenario = () => Promise<string>;

export async function main(name: string, scenarios: Record<string, Scenario>): Promise<void> {
  tag = name;
  const which = process.argv[2] ?? '';
  const fn = scenarios[which];
  if (!fn) {
    emit({ ok: false, detail: `unknown scenario ${which}` });
    process.exit(2);
  }
  try {
    const detail = await fn();
    emit({ ok: true, detail });
    process.exit(0);
  } catch (e) {
    if (e instanceof Skip) {
      emit({ ok: false, skip: e.message, detail: '' });
      process.exit(0);
    }
    if (!(e instanceof Fail)) process.stderr.write(`${e instanceof Error ? e.stack : String(e)}\n`);
    emit({ ok: false, detail: e instanceof Fail ? e.message : `${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}` });
    process.exit(1);
  }
}

let stdinLines: AsyncIterableIterator<string> | undefined;

export async function restartBroker(): Promise<void> {
  emit({ control: 'restart-broker' });
  stdinLines ??= readline.createInterface({ input: process.stdin })[Symbol.asyncIterator]();
  const next = await stdinLines.next();
  const line = next.done ? undefined : next.value.trim();
  check(line === 'restarted', `runner did not restart the broker: ${line}`);
  log('broker restarted');
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export async function waitFor(timeoutMs: number, what: string, cond: () => boolean | Promise<boolean>, state: () => string = () => ''): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    check(Date.now() < deadline, () => `timed out waiting for ${what}; ${state()}`);
    await sleep(50);
  }
}

export interface Spec {
  key: string | null;
  value: string | null;
  headers: Array<[string, string]>;
  ts: number | null;
}

/** The shared 20-record set of the roundtrip scenario (see README). */
export function specs(base: number): Spec[] {
  const out: Spec[] = [];
  for (let i = 0; i < 20; i++) {
    out.push({
      key: i % 5 === 4 ? null : `key-${i}`,
      value: i === 7 ? null : i === 10 ? 'big-' + '0123456789abcdef'.repeat(1250) : `value-${i}-\u00e9\u2713`,
      headers: i % 3 === 0 ? [] : [['h1', `v${i}`], ['h2', '\u00fcber'], ['h1', 'dup'], ['empty', '']],
      ts: i % 2 === 0 ? base + i : null,
    });
  }
  return out;
}

export interface Got {
  offset: number;
  key: string | null;
  value: string | null;
  headers: Array<[string, string]>;
  ts: number;
}

function short(s: string | null): string {
  if (s === null) return 'null';
  return JSON.stringify(s.length > 40 ? s.slice(0, 40) + '…' : s);
}

export function compareRoundtrip(codec: string, want: Spec[], got: Got[], before: number, after: number): void {
  check(got.length === want.length, `${codec}: consumed ${got.length} records, want ${want.length}`);
  want.forEach((w, i) => {
    const r = got[i]!;
    const where = `${codec} record ${i}: `;
    check(r.offset === i, `${where}offset ${r.offset}`);
    check(r.key === w.key, () => `${where}key ${short(r.key)} != ${short(w.key)}`);
    check(r.value === w.value, () => `${where}value ${short(r.value)} != ${short(w.value)}`);
    check(r.headers.length === w.headers.length, `${where}header count ${r.headers.length} != ${w.headers.length}`);
    r.headers.forEach((h, j) => {
      check(h[0] === w.headers[j]![0] && h[1] === w.headers[j]![1], () => `${where}header ${j} ${JSON.stringify(h)} != ${JSON.stringify(w.headers[j])}`);
    });
    if (w.ts !== null) check(r.ts === w.ts, `${where}timestamp ${r.ts} != ${w.ts}`);
    else check(r.ts >= before - 5000 && r.ts <= after + 5000, `${where}timestamp ${r.ts} outside [${before},${after}] ± 5 s`);
  });
}

export interface ORec {
  partition: number;
  offset: number;
  key: string;
  value: string;
}

export function checkOrder(recs: ORec[], n: number, parts: number): string {
  check(recs.length === n, `consumed ${recs.length} records, want ${n}`);
  const seen = new Uint8Array(n);
  const lastOff = new Map<number, number>();
  const lastVal = new Map<number, number>();
  const keyPart = new Map<string, number>();
  for (const r of recs) {
    const v = Number(r.value);
    check(Number.isInteger(v) && v >= 0 && v < n, `bad value ${r.value}`);
    check(!seen[v], `record ${v} consumed twice`);
    seen[v] = 1;
    check(r.key === `key-${v % 1000}`, `record ${v} has key ${r.key}`);
    const lo = lastOff.get(r.partition);
    if (lo !== undefined) {
      check(r.offset === lo + 1, `partition ${r.partition}: offset ${r.offset} after ${lo}`);
      check(v > lastVal.get(r.partition)!, `partition ${r.partition}: record ${v} after ${lastVal.get(r.partition)} (order broken)`);
    }
    lastOff.set(r.partition, r.offset);
    lastVal.set(r.partition, v);
    const kp = keyPart.get(r.key);
    check(kp === undefined || kp === r.partition, `key ${r.key} in partitions ${kp} and ${r.partition}`);
    keyPart.set(r.key, r.partition);
  }
  check(lastOff.size === parts, `records landed in ${lastOff.size} partitions, want ${parts}`);
  return `${n} records over ${parts} partitions, per-partition order and completeness ok`;
}

export function offsetsExactly(phase: string, byPart: Map<number, number[]>, parts: number, from: number, to: number): void {
  for (let p = 0; p < parts; p++) {
    const l = [...(byPart.get(p) ?? [])].sort((a, b) => a - b);
    const ok = l.length === to - from && l.every((o, i) => o === from + i);
    const desc = l.length ? `[${l.length} offsets, ${l[0]}..${l[l.length - 1]}]` : '[]';
    check(ok, `${phase}, partition ${p} consumed offsets ${desc}, want ${from}..${to - 1} once`);
  }
}

export function disjointCover(assignments: number[][], parts: number): boolean {
  if (assignments.some((a) => a.length === 0)) return false;
  const flat = assignments.flat();
  return flat.length === parts && new Set(flat).size === parts;
}

export function showAssign(names: string[], assignments: number[][]): string {
  return names.map((n, i) => `${n}=${[...assignments[i]!].sort((a, b) => a - b).join(',')}`).join(' ');
}

// ------------------------------------------------------------------ delay (README "delay")

export const DELAY_EARLY_MS = 50; // a delayed record may be seen this much before its due time
export const DELAY_LATE_MS = 5000; // ... and at most this long after it
export const IMMEDIATE_MS = 2000; // a record without delay headers: consumed within this long after the produce returned

export class DSpec {
  due = 0;
  offset: string | number | undefined;
  count = 0;
  at = 0;
  got: { partition: number; key: string | null; value: string | null; headers: Array<[string, string]> } | undefined;

  readonly name: string;
  readonly partition: number;
  readonly header: string | null;
  headerValue: string | null;
  /** Relative delay in ms; -1 for TIMER_DELIVER_MS (absolute, set at produce time). */
  readonly rel: number;

  constructor(name: string, partition: number, header: string | null, headerValue: string | null, rel: number) {
    this.name = name;
    this.partition = partition;
    this.header = header;
    this.headerValue = headerValue;
    this.rel = rel;
  }

  get key(): string {
    return `dk-${this.name}`;
  }
  get value(): string {
    return `${this.name}-\u00e9\u2713`;
  }
  get kind(): string {
    return this.header ?? 'none';
  }
  headers(): Array<[string, string]> {
    return [['kind', this.kind], ...(this.header ? [[this.header, this.headerValue!] as [string, string]] : []), ['u', '\u00fcber \u2713']];
  }
  /** Fixes the due time just before the record is handed to the producer. */
  setDue(sendStart: number): void {
    if (this.rel < 0) {
      this.due = Date.now() + 2500;
      this.headerValue = String(this.due);
    } else this.due = sendStart + this.rel;
  }
}

/** The shared record set in produce order: 2 each of TIMER_DELAY_MS=1500, TIMER_DELIVER_MS=now+2500, DELAY=1, and 4
 *  without delay headers, over partitions 0 and 1. */
export function delaySpecs(): DSpec[] {
  return [
    new DSpec('now-0', 0, null, null, 0), new DSpec('ms-0', 0, 'TIMER_DELAY_MS', '1500', 1500),
    new DSpec('at-1', 1, 'TIMER_DELIVER_MS', null, -1), new DSpec('lvl-0', 0, 'DELAY', '1', 1000),
    new DSpec('now-1', 1, null, null, 0), new DSpec('ms-1', 1, 'TIMER_DELAY_MS', '1500', 1500),
    new DSpec('at-0', 0, 'TIMER_DELIVER_MS', null, -1), new DSpec('lvl-1', 1, 'DELAY', '1', 1000),
    new DSpec('now-2', 0, null, null, 0), new DSpec('now-3', 1, null, null, 0),
  ];
}

export class DelayCollector {
  readonly warm = new Set<string>();
  readonly strays: string[] = [];
  readonly specs: DSpec[];
  private readonly byValue: Map<string, DSpec>;
  constructor(specs: DSpec[]) {
    this.specs = specs;
    this.byValue = new Map(specs.map((d) => [d.value, d]));
  }
  add(at: number, partition: number, offset: string | number, key: string | null, value: string | null, headers: Array<[string, string]>): void {
    if (value?.startsWith('warm-up-')) {
      this.warm.add(value);
      return;
    }
    const d = value === null ? undefined : this.byValue.get(value);
    if (!d) {
      this.strays.push(`${partition}@${offset} ${value}`);
      return;
    }
    if (++d.count === 1) {
      d.at = at;
      d.got = { partition, key, value, headers };
    }
  }
  complete(): boolean {
    return this.specs.every((d) => d.count > 0);
  }
  /** Waits until every record came (then 1.5 s more for duplicates) or 30 s after the last due time. */
  async await(): Promise<void> {
    const last = Math.max(...this.specs.map((d) => d.due));
    while (Date.now() < last + 30_000 && !this.complete()) await sleep(20);
    await sleep(1500);
  }
  check(sendStart: number, sendEnd: number): string {
    const missing = this.specs.filter((d) => d.count === 0).map((d) => d.name);
    check(missing.length === 0, `never consumed (30 s after the last due time): ${missing}`);
    check(this.strays.length === 0, `unexpected records consumed: ${this.strays}`);
    const ids = new Set<string>();
    const timings: string[] = [];
    let maxImmediate = 0;
    for (const d of this.specs) {
      const what = `${d.name} (${d.kind})`;
      const g = d.got!;
      check(d.count === 1, `${what}: consumed ${d.count} times`);
      check(g.partition === d.partition, `${what}: produced to partition ${d.partition}, consumed from ${g.partition}`);
      check(g.key === d.key && g.value === d.value, `${what}: key/value ${g.key} / ${g.value}`);
      const user = g.headers.filter(([k]) => k !== '__delay.id' && k !== '__delay.fire');
      const idH = g.headers.filter(([k]) => k === '__delay.id').map(([, v]) => v);
      const fireH = g.headers.filter(([k]) => k === '__delay.fire').map(([, v]) => v);
      check(JSON.stringify(user) === JSON.stringify(d.headers()), () => `${what}: headers ${JSON.stringify(g.headers)}, produced ${JSON.stringify(d.headers())} (+ __delay.id/__delay.fire when delayed)`);
      if (d.header === null) {
        check(idH.length === 0 && fireH.length === 0, `${what}: a record without delay headers came back with __delay.id ${idH} / __delay.fire ${fireH}`);
        const lat = d.at - sendEnd;
        check(lat <= IMMEDIATE_MS, `${what}: consumed ${lat} ms after the produce returned (no delay headers: at once, within ${IMMEDIATE_MS} ms)`);
        maxImmediate = Math.max(maxImmediate, lat);
        continue;
      }
      const early = d.due - d.at;
      check(early <= DELAY_EARLY_MS, `${what}: consumed ${early} ms BEFORE its due time (produce started at ${sendStart}, due ${d.due}, consumed ${d.at}; tolerance ${DELAY_EARLY_MS} ms)`);
      const late = d.at - d.due;
      check(late <= DELAY_LATE_MS, `${what}: consumed ${late} ms after its due time (tolerance ${DELAY_LATE_MS} ms)`);
      check(idH.length === 1 && /^[0-9]+$/.test(idH[0]!), `${what}: __delay.id headers ${JSON.stringify(idH)} (want one, decimal)`);
      check(!ids.has(idH[0]!), `${what}: __delay.id ${idH[0]} also on another record`);
      ids.add(idH[0]!);
      check(fireH.length === 1 && fireH[0] === '1', `${what}: __delay.fire headers ${JSON.stringify(fireH)} (want one, 1)`);
      timings.push(`${d.name} ${late >= 0 ? '+' : ''}${late}`);
    }
    const offs = this.specs.map((d) => `${d.name}@${d.offset}`).join(' ');
    return `6 delayed records (TIMER_DELAY_MS=1500, TIMER_DELIVER_MS=+2500, DELAY=1; 2 each) consumed once, none early, ms after due: ${timings.join(', ')}; with key/value/headers + __delay.id/__delay.fire; 4 without delay headers within ${maxImmediate} ms; produce offsets ${offs}`;
  }
}
