// Per-topic configuration: the Kafka topic config names Diglot honours, how each
// is validated, and how it maps onto the storage log's settings. Anything else
// is refused with INVALID_CONFIG naming the key, so a client never believes a
// setting took effect when it did not.

import type { LogConfig } from '../storage/types.ts';
import { BrokerError } from './errors.ts';

export interface BrokerTopicDefaults {
  retentionMs: number;
  retentionBytes: number;
  segmentBytesMax: number;
  segmentAgeMsMax: number;
  indexIntervalBytes: number;
  maxMessageBytes: number;
}

interface ConfigDef {
  /** The broker-wide default as a string, as DescribeConfigs shows it. */
  defaultValue: (d: BrokerTopicDefaults) => string;
  /** Throws INVALID_CONFIG with the reason; returns the canonical string. */
  validate: (value: string) => string;
  doc: string;
}

function integer(min: number, max = Number.MAX_SAFE_INTEGER) {
  return (value: string): string => {
    const n = Number(value);
    if (!/^-?\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < min || n > max) {
      throw new Error(`must be an integer in [${min}, ${max}]`);
    }
    return String(n);
  };
}

function oneOf(...allowed: string[]) {
  return (value: string): string => {
    if (!allowed.includes(value)) throw new Error(`must be one of ${allowed.join(', ')}`);
    return value;
  };
}

export const TOPIC_CONFIGS: Readonly<Record<string, ConfigDef>> = {
  'retention.ms': { defaultValue: (d) => String(d.retentionMs), validate: integer(-1), doc: 'delete whole segments older than this; -1 keeps forever' },
  'retention.bytes': { defaultValue: (d) => String(d.retentionBytes), validate: integer(-1), doc: 'delete the oldest segments while a partition is larger; -1 unbounded' },
  'segment.bytes': { defaultValue: (d) => String(d.segmentBytesMax), validate: integer(1024, 0x7fff_ffff), doc: 'roll the active segment at this size' },
  'segment.ms': { defaultValue: (d) => String(d.segmentAgeMsMax), validate: integer(1), doc: 'roll the active segment at this age' },
  'segment.index.bytes': { defaultValue: () => String(10 * 1024 * 1024), validate: integer(4096), doc: 'accepted for compatibility; indexes are sized by the segment' },
  'index.interval.bytes': { defaultValue: (d) => String(d.indexIntervalBytes), validate: integer(1), doc: 'bytes between two sparse index entries' },
  'max.message.bytes': { defaultValue: (d) => String(d.maxMessageBytes), validate: integer(0, 0x7fff_ffff), doc: 'largest record batch accepted' },
  'message.timestamp.type': { defaultValue: () => 'CreateTime', validate: oneOf('CreateTime', 'LogAppendTime'), doc: 'producer time or broker append time' },
  'cleanup.policy': { defaultValue: () => 'delete', validate: oneOf('delete'), doc: 'only delete is supported (no compaction yet)' },
  'compression.type': { defaultValue: () => 'producer', validate: oneOf('producer'), doc: 'batches are stored as produced, never recompressed' },
  'diglot.delay.enable': { defaultValue: () => 'false', validate: oneOf('true', 'false'), doc: 'records with a TIMER_DELIVER_MS, TIMER_DELAY_MS, TIMER_DELAY_SEC or DELAY header are held until due (src/delay)' },
  'min.insync.replicas': { defaultValue: () => '1', validate: integer(1), doc: 'accepted; a single node is its own ISR' },
};

/** Validates one key/value; throws BrokerError INVALID_CONFIG naming the key. */
export function validateTopicConfig(key: string, value: string | null): string | null {
  const def = TOPIC_CONFIGS[key];
  if (def === undefined) {
    throw new BrokerError('INVALID_CONFIG', `unknown or unsupported topic config ${key}; supported: ${Object.keys(TOPIC_CONFIGS).join(', ')}`);
  }
  if (value === null) return null;
  try {
    return def.validate(value);
  } catch (err) {
    throw new BrokerError('INVALID_CONFIG', `invalid value ${JSON.stringify(value)} for topic config ${key}: ${(err as Error).message}`);
  }
}

/** The storage settings of a topic: broker defaults overridden by its configs. */
export function logConfigFor(overrides: ReadonlyMap<string, string>): Partial<LogConfig> {
  const out: Partial<LogConfig> = {};
  const num = (key: string): number | undefined => {
    const v = overrides.get(key);
    return v === undefined ? undefined : Number(v);
  };
  const set = <K extends keyof LogConfig>(k: K, v: LogConfig[K] | undefined): void => {
    if (v !== undefined) out[k] = v;
  };
  set('retentionMs', num('retention.ms'));
  set('retentionBytes', num('retention.bytes'));
  set('segmentBytesMax', num('segment.bytes'));
  set('segmentAgeMsMax', num('segment.ms'));
  set('indexIntervalBytes', num('index.interval.bytes'));
  return out;
}
