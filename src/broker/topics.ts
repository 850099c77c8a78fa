// Topics and their partitions, ids and config overrides. Every change is a
// record in the `__diglot_metadata` log (replayed at start), then applied to
// the in-memory registry and to storage.

import { randomUUID } from 'node:crypto';
import type { LogManager } from '../storage/log-manager.ts';
import type { PartitionLog } from '../storage/partition-log.ts';
import { BrokerError } from './errors.ts';
import { InternalLog, METADATA_TOPIC, OFFSETS_TOPIC, PROTOCOL_STATE_TOPIC } from './internal-log.ts';
import { logConfigFor, validateTopicConfig } from './topic-configs.ts';
import { DELAY_TOPIC } from '../delay/log-records.ts';

export interface Topic {
  readonly name: string;
  /** Canonical UUID text (Kafka topic id). */
  readonly id: string;
  partitions: number;
  /** Config overrides only; defaults come from the broker. */
  readonly configs: Map<string, string>;
  readonly internal: boolean;
  /**
   * Small number given at creation, never reused (-1 for internal topics):
   * RocketMQ message ids pack it (rocketmq message-id.ts) to find the topic again.
   */
  readonly ordinal: number;
}

interface TopicRecord {
  name: string;
  id: string;
  partitions: number;
  configs: Record<string, string>;
  /** Absent in records written before ordinals existed: those get one in replay order. */
  ordinal?: number;
}

/** Kafka's legal topic characters, plus RocketMQ's `%` and `|` (retry and DLQ topics). */
const TOPIC_NAME = /^[a-zA-Z0-9._\-%|]+$/;
export const TOPIC_NAME_MAX = 249;
export const PARTITIONS_MAX = 100_000;

export function validateTopicName(name: string): void {
  if (name.length === 0 || name.length > TOPIC_NAME_MAX || name === '.' || name === '..' || !TOPIC_NAME.test(name)) {
    throw new BrokerError('INVALID_TOPIC', `topic name ${JSON.stringify(name)} is not legal: 1-${TOPIC_NAME_MAX} characters of [a-zA-Z0-9._-], not . or ..`);
  }
}

export class TopicRegistry {
  readonly #byName = new Map<string, Topic>();
  readonly #byId = new Map<string, Topic>();
  #nextOrdinal = 0;
  readonly #logManager: LogManager;
  readonly #meta: InternalLog;
  /** Serialises metadata changes: each is validated against the state the previous one left. */
  #chain: Promise<unknown> = Promise.resolve();
  clusterId = '';

  private constructor(logManager: LogManager, meta: InternalLog) {
    this.#logManager = logManager;
    this.#meta = meta;
  }

  static async open(logManager: LogManager, nowMs: () => number): Promise<TopicRegistry> {
    const meta = new InternalLog(logManager, METADATA_TOPIC, nowMs);
    const registry = new TopicRegistry(logManager, meta);
    meta.replay((record) => registry.#apply(record.key, record.value));
    if (registry.clusterId === '') {
      const clusterId = randomUUID().replaceAll('-', '').slice(0, 22);
      await meta.append([{ key: 'cluster', value: { clusterId } }]);
      registry.clusterId = clusterId;
    }
    registry.#registerInternal(METADATA_TOPIC);
    registry.#registerInternal(OFFSETS_TOPIC);
    registry.#registerInternal(PROTOCOL_STATE_TOPIC);
    registry.#registerInternal(DELAY_TOPIC);
    // Recovered logs start with broker defaults; topic overrides live in the metadata log.
    for (const topic of registry.#byName.values()) if (!topic.internal) registry.#applyLogConfig(topic);
    return registry;
  }

  #registerInternal(name: string): void {
    if (this.#byName.has(name)) return;
    const topic: Topic = { name, id: randomUUID(), partitions: 1, configs: new Map(), internal: true, ordinal: -1 };
    this.#byName.set(name, topic);
    this.#byId.set(topic.id, topic);
  }

  #apply(key: string, value: unknown): void {
    if (key === 'cluster') {
      this.clusterId = (value as { clusterId: string }).clusterId;
      return;
    }
    if (!key.startsWith('topic:')) return;
    const name = key.slice('topic:'.length);
    const existing = this.#byName.get(name);
    if (existing !== undefined) {
      this.#byName.delete(name);
      this.#byId.delete(existing.id);
    }
    if (value === null) return; // deleted
    const r = value as TopicRecord;
    const ordinal = r.ordinal ?? existing?.ordinal ?? this.#nextOrdinal;
    this.#nextOrdinal = Math.max(this.#nextOrdinal, ordinal + 1);
    const topic: Topic = { name: r.name, id: r.id, partitions: r.partitions, configs: new Map(Object.entries(r.configs)), internal: false, ordinal };
    this.#byName.set(name, topic);
    this.#byId.set(topic.id, topic);
  }

  get(name: string): Topic | undefined {
    return this.#byName.get(name);
  }

  byId(id: string): Topic | undefined {
    return this.#byId.get(id);
  }

  /**
   * The newest live topic whose ordinal is `value` modulo 2^bits (message ids
   * hold the low bits of the ordinal). A scan: ids are looked up rarely (view,
   * send-back), never per message on the hot path.
   */
  byOrdinalLowBits(bits: number, value: number): Topic | undefined {
    const span = 2 ** bits;
    let best: Topic | undefined;
    for (const topic of this.#byName.values()) {
      if (topic.ordinal >= 0 && topic.ordinal % span === value && (best === undefined || topic.ordinal > best.ordinal)) best = topic;
    }
    return best;
  }

  list(): IterableIterator<Topic> {
    return this.#byName.values();
  }

  /**
   * The topics an "every topic" listing shows: user topics plus
   * __consumer_offsets, which Kafka lists too (isInternal = true; clients skip
   * it unless asked). The metadata log stays hidden, like Kafka's __cluster_metadata.
   */
  *listed(): IterableIterator<Topic> {
    for (const topic of this.#byName.values()) if (!topic.internal || topic.name === OFFSETS_TOPIC) yield topic;
  }

  /** The storage log of a partition, created on first use. */
  partitionLog(topic: Topic, partition: number): PartitionLog {
    const existing = this.#logManager.get(topic.name, partition);
    if (existing !== undefined) return existing;
    return this.#logManager.getOrCreate(topic.name, partition, logConfigFor(topic.configs));
  }

  #serial<T>(task: () => Promise<T>): Promise<T> {
    const run = this.#chain.then(task, task);
    this.#chain = run.catch(() => {});
    return run;
  }

  /** Creates a topic; `validateOnly` checks without changing anything. */
  create(name: string, partitions: number, configs: ReadonlyMap<string, string | null>, validateOnly = false): Promise<Topic> {
    return this.#serial(async () => {
      validateTopicName(name);
      if (name.startsWith('__')) throw new BrokerError('INVALID_TOPIC', `topic names starting with __ are reserved for internal topics: ${name}`);
      if (this.#byName.has(name)) throw new BrokerError('TOPIC_ALREADY_EXISTS', `topic ${name} already exists`);
      if (!Number.isInteger(partitions) || partitions < 1 || partitions > PARTITIONS_MAX) {
        throw new BrokerError('INVALID_PARTITIONS', `partition count ${partitions} must be in [1, ${PARTITIONS_MAX}]`);
      }
      const clean: Record<string, string> = {};
      for (const [key, value] of configs) {
        const v = validateTopicConfig(key, value);
        if (v !== null) clean[key] = v;
      }
      const record: TopicRecord = { name, id: randomUUID(), partitions, configs: clean, ordinal: this.#nextOrdinal };
      if (validateOnly) return { ...record, configs: new Map(Object.entries(clean)), internal: false, ordinal: -1 };
      await this.#meta.append([{ key: `topic:${name}`, value: record }]);
      this.#apply(`topic:${name}`, record);
      const topic = this.#byName.get(name)!;
      for (let p = 0; p < partitions; p++) this.partitionLog(topic, p);
      return topic;
    });
  }

  delete(name: string): Promise<void> {
    return this.#serial(async () => {
      const topic = this.#byName.get(name);
      if (topic === undefined) throw new BrokerError('UNKNOWN_TOPIC_OR_PARTITION', `topic ${name} does not exist`);
      if (topic.internal) throw new BrokerError('INVALID_TOPIC', `internal topic ${name} cannot be deleted`);
      await this.#meta.append([{ key: `topic:${name}`, value: null }]);
      this.#apply(`topic:${name}`, null);
      for (let p = 0; p < topic.partitions; p++) await this.#logManager.delete(name, p);
    });
  }

  /** Raises the partition count (never lowers it, as Kafka). */
  addPartitions(name: string, count: number, validateOnly = false): Promise<void> {
    return this.#serial(async () => {
      const topic = this.#byName.get(name);
      if (topic === undefined) throw new BrokerError('UNKNOWN_TOPIC_OR_PARTITION', `topic ${name} does not exist`);
      if (topic.internal) throw new BrokerError('INVALID_TOPIC', `internal topic ${name} cannot change partitions`);
      if (!Number.isInteger(count) || count <= topic.partitions || count > PARTITIONS_MAX) {
        throw new BrokerError('INVALID_PARTITIONS', `topic ${name} has ${topic.partitions} partitions; the new count must be larger and at most ${PARTITIONS_MAX}, got ${count}`);
      }
      if (validateOnly) return;
      const record: TopicRecord = { name, id: topic.id, partitions: count, configs: Object.fromEntries(topic.configs), ordinal: topic.ordinal };
      await this.#meta.append([{ key: `topic:${name}`, value: record }]);
      this.#apply(`topic:${name}`, record);
      const updated = this.#byName.get(name)!;
      for (let p = 0; p < count; p++) this.partitionLog(updated, p);
    });
  }

  /**
   * Changes config overrides: `set` values replace, null values (or `replaceAll`
   * for the legacy AlterConfigs) remove. Applied to the partitions' logs at once.
   */
  alterConfigs(name: string, changes: ReadonlyMap<string, string | null>, options: { replaceAll?: boolean; validateOnly?: boolean } = {}): Promise<void> {
    return this.#serial(async () => {
      const topic = this.#byName.get(name);
      if (topic === undefined) throw new BrokerError('UNKNOWN_TOPIC_OR_PARTITION', `topic ${name} does not exist`);
      if (topic.internal) throw new BrokerError('INVALID_TOPIC', `internal topic ${name} cannot be configured`);
      const next = options.replaceAll === true ? new Map<string, string>() : new Map(topic.configs);
      for (const [key, value] of changes) {
        const v = validateTopicConfig(key, value);
        if (v === null) next.delete(key);
        else next.set(key, v);
      }
      if (options.validateOnly === true) return;
      const record: TopicRecord = { name, id: topic.id, partitions: topic.partitions, configs: Object.fromEntries(next), ordinal: topic.ordinal };
      await this.#meta.append([{ key: `topic:${name}`, value: record }]);
      this.#apply(`topic:${name}`, record);
      this.#applyLogConfig(this.#byName.get(name)!);
    });
  }

  /** Pushes a topic's storage settings (defaults overridden by its configs) to its partition logs. */
  #applyLogConfig(topic: Topic): void {
    const c = this.#logManager.config;
    const settings = {
      retentionMs: c.retentionMs,
      retentionBytes: c.retentionBytes,
      segmentBytesMax: c.segmentBytesMax,
      segmentAgeMsMax: c.segmentAgeMsMax,
      indexIntervalBytes: c.indexIntervalBytes,
      ...logConfigFor(topic.configs),
    };
    for (let p = 0; p < topic.partitions; p++) {
      const log = this.#logManager.get(topic.name, p);
      if (log !== undefined) log.config = { ...log.config, ...settings };
    }
  }
}
