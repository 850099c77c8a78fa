// Test helper (hand-written): loads every generated message module and builds
// deterministic sample values from the field metadata in specs.ts.
//
// A sample for version v fills every field present at v with a non-default
// value (tagged fields included, so they are written), makes nullable fields
// null on some seeds, and leaves absent fields at their defaults — which is
// exactly what decoding the encoded sample must give back.

import type { Init, Reader, Writer } from '../codec/index.ts';
import { MESSAGE_SPECS, type FieldSpecMeta, type MessageSpecMeta, type StructSpecMeta, type VersionRange } from './specs.ts';

type Obj = Record<string, unknown>;

export interface LoadedMessage {
  spec: MessageSpecMeta;
  decode: (r: Reader, v: number) => Obj;
  encode: (w: Writer, m: Init<Obj>, v: number) => void;
  module: Record<string, unknown>;
}

export async function loadMessages(): Promise<LoadedMessage[]> {
  const out: LoadedMessage[] = [];
  for (const spec of MESSAGE_SPECS) {
    const module = (await import(spec.module)) as Record<string, unknown>;
    const decode = module[`decode${spec.name}`] as LoadedMessage['decode'];
    const encode = module[`encode${spec.name}`] as LoadedMessage['encode'];
    if (typeof decode !== 'function' || typeof encode !== 'function') throw new Error(`${spec.name}: codecs missing`);
    out.push({ spec, decode, encode, module });
  }
  return out;
}

export function versionsOf(spec: MessageSpecMeta): number[] {
  const out: number[] = [];
  for (let v = spec.validVersions[0]; v <= spec.validVersions[1]; v++) out.push(v);
  return out;
}

const inRange = (r: VersionRange | null, v: number): boolean => r !== null && v >= r[0] && v <= r[1];

/** Deterministic pseudo-random source (mulberry32). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export class SampleBuilder {
  private readonly msg: LoadedMessage;
  private readonly structs: Map<string, StructSpecMeta>;
  private counter: number;
  /** Byte length of `records` values (≥ 1 KiB exercises the Writer's zero-copy path). */
  private readonly recordsSize: number;

  constructor(msg: LoadedMessage, seed: number, recordsSize = 1500) {
    this.msg = msg;
    this.structs = new Map(msg.spec.structs.map((s) => [s.name, s]));
    this.counter = seed;
    this.recordsSize = recordsSize;
  }

  private next(): number {
    return ++this.counter;
  }

  private defaults(structName: string): Obj {
    const fn = this.msg.module[`default${structName}`] as (() => Obj) | undefined;
    if (typeof fn !== 'function') throw new Error(`${this.msg.spec.name}: default${structName} missing`);
    return fn();
  }

  build(v: number): Obj {
    return this.struct(this.msg.spec.structs[0]!.name, v, 0);
  }

  struct(name: string, v: number, depth: number): Obj {
    const s = this.structs.get(name);
    if (s === undefined) throw new Error(`unknown struct ${name}`);
    const out = this.defaults(name);
    for (const f of s.fields) {
      if (!inRange(f.versions, v)) continue;
      out[f.camel] = this.value(f, v, depth, out[f.camel]);
    }
    return out;
  }

  private value(f: FieldSpecMeta, v: number, depth: number, dflt: unknown): unknown {
    const n = this.next();
    if (inRange(f.nullableVersions, v) && n % 3 === 0) {
      // null, unless null is the default of a tagged field (then it would not be written at all,
      // which is fine, but a non-null value covers more).
      if (!(dflt === null && f.tag !== null)) return null;
    }
    const t = f.type;
    if (t.startsWith('[]')) {
      const elem = t.slice(2);
      const count = depth >= 3 ? 1 : 2;
      const arr: unknown[] = [];
      for (let i = 0; i < count; i++) arr.push(this.scalar(elem, v, depth + 1, undefined));
      return arr;
    }
    return this.scalar(t, v, depth, dflt);
  }

  private scalar(t: string, v: number, depth: number, dflt: unknown): unknown {
    const n = this.next();
    let x: unknown;
    switch (t) {
      case 'bool':
        return dflt === true ? false : true;
      case 'int8':
        x = (n % 100) + 1;
        break;
      case 'int16':
        x = -1000 - (n % 1000);
        break;
      case 'uint16':
        x = 40000 + (n % 20000);
        break;
      case 'int32':
        x = n % 2 === 0 ? 100000 + n : -100000 - n;
        break;
      case 'uint32':
        x = 3000000000 + n;
        break;
      case 'int64':
        x = n % 2 === 0 ? 2 ** 40 + n : -(2 ** 35) - n;
        break;
      case 'float64':
        x = n + 0.25;
        break;
      case 'string':
        x = n % 4 === 0 ? `s${n}-héllo-✓` : `s${n}`;
        break;
      case 'uuid': {
        const h = (n * 2654435761 >>> 0).toString(16).padStart(8, '0');
        x = `${h}-${h.slice(0, 4)}-4${h.slice(1, 4)}-8${h.slice(5, 8)}-${h}${h.slice(0, 4)}`;
        break;
      }
      case 'bytes':
        x = Buffer.from(Array.from({ length: (n % 5) + 1 }, (_, i) => (n + i) & 0xff));
        break;
      case 'records':
        x = Buffer.alloc(this.recordsSize, n & 0xff);
        break;
      default:
        return this.struct(t, v, depth + 1);
    }
    if (x === dflt) x = typeof x === 'number' ? (x as number) + 1 : `${String(x)}!`;
    return x;
  }
}
