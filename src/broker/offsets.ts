// Committed consumer offsets, keyed by (group, topic, partition) and shared by
// both protocols: a Kafka group and a RocketMQ group of the same name share
// progress (DESIGN.md §2). Persisted in `__consumer_offsets`, replayed at start.

import type { LogManager } from '../storage/log-manager.ts';
import { InternalLog, OFFSETS_TOPIC } from './internal-log.ts';

export interface CommittedOffset {
  offset: number;
  leaderEpoch: number;
  metadata: string | null;
  commitTimestampMs: number;
}

export interface OffsetCommit {
  topic: string;
  partition: number;
  offset: number;
  leaderEpoch: number;
  metadata: string | null;
}

type TopicOffsets = Map<number, CommittedOffset>;
type GroupOffsets = Map<string, TopicOffsets>;

/** How long a deferred commit may wait for its write (see commitDeferred). */
export const DEFERRED_FLUSH_MS = 1000;

function recordKey(group: string, topic: string, partition: number): string {
  return JSON.stringify([group, topic, partition]);
}

export class OffsetStore {
  readonly #groups = new Map<string, GroupOffsets>();
  readonly #log: InternalLog;
  readonly #nowMs: () => number;
  /** Deferred commits not yet in the log, by record key. */
  readonly #pending = new Map<string, CommittedOffset>();
  #flushTimer: NodeJS.Timeout | null = null;

  private constructor(log: InternalLog, nowMs: () => number) {
    this.#log = log;
    this.#nowMs = nowMs;
  }

  static open(logManager: LogManager, nowMs: () => number): OffsetStore {
    const store = new OffsetStore(new InternalLog(logManager, OFFSETS_TOPIC, nowMs), nowMs);
    store.#log.replay((record) => {
      const [group, topic, partition] = JSON.parse(record.key) as [string, string, number];
      if (record.value === null) store.#remove(group, topic, partition);
      else store.#set(group, topic, partition, record.value as CommittedOffset);
    });
    return store;
  }

  #set(group: string, topic: string, partition: number, value: CommittedOffset): void {
    let offsets = this.#groups.get(group);
    if (offsets === undefined) this.#groups.set(group, (offsets = new Map()));
    let partitions = offsets.get(topic);
    if (partitions === undefined) offsets.set(topic, (partitions = new Map()));
    partitions.set(partition, value);
  }

  #remove(group: string, topic: string, partition: number): void {
    const offsets = this.#groups.get(group);
    const partitions = offsets?.get(topic);
    if (partitions === undefined) return;
    partitions.delete(partition);
    if (partitions.size === 0) offsets!.delete(topic);
    if (offsets!.size === 0) this.#groups.delete(group);
  }

  /** Stores the commits durably (one batch), then makes them visible. */
  async commit(group: string, commits: readonly OffsetCommit[]): Promise<void> {
    if (commits.length === 0) return;
    const now = this.#nowMs();
    const values = commits.map((c) => ({ offset: c.offset, leaderEpoch: c.leaderEpoch, metadata: c.metadata, commitTimestampMs: now }));
    // A durable commit supersedes a deferred one of the same key (which would otherwise land later).
    for (const c of commits) this.#pending.delete(recordKey(group, c.topic, c.partition));
    await this.#log.append(commits.map((c, i) => ({ key: recordKey(group, c.topic, c.partition), value: values[i] })));
    commits.forEach((c, i) => this.#set(group, c.topic, c.partition, values[i]!));
  }

  /**
   * Makes commits visible at once and stores them with the next deferred
   * flush (at most DEFERRED_FLUSH_MS later, one batch for all pending keys;
   * a key committed again before then is written once). For RocketMQ pulls,
   * which carry the consumer's offset on every request: a durable append per
   * pull would grow the log by one record per pull. A crash loses at most the
   * last interval, which means redelivery, as a Java broker's 5 s offset
   * persistence does.
   */
  commitDeferred(group: string, commits: readonly OffsetCommit[]): void {
    const now = this.#nowMs();
    for (const c of commits) {
      const value = { offset: c.offset, leaderEpoch: c.leaderEpoch, metadata: c.metadata, commitTimestampMs: now };
      const current = this.get(group, c.topic, c.partition);
      this.#set(group, c.topic, c.partition, value);
      if (current !== undefined && current.offset === c.offset && !this.#pending.has(recordKey(group, c.topic, c.partition))) continue;
      this.#pending.set(recordKey(group, c.topic, c.partition), value);
    }
    if (this.#pending.size > 0 && this.#flushTimer === null) {
      this.#flushTimer = setTimeout(() => {
        this.#flushTimer = null;
        this.flushDeferred().catch(() => {});
      }, DEFERRED_FLUSH_MS);
      this.#flushTimer.unref();
    }
  }

  /** Writes pending deferred commits now (the timer, and shutdown). */
  async flushDeferred(): Promise<void> {
    if (this.#flushTimer !== null) {
      clearTimeout(this.#flushTimer);
      this.#flushTimer = null;
    }
    if (this.#pending.size === 0) return;
    const records = [...this.#pending].map(([key, value]) => ({ key, value }));
    this.#pending.clear();
    await this.#log.append(records);
  }

  get(group: string, topic: string, partition: number): CommittedOffset | undefined {
    return this.#groups.get(group)?.get(topic)?.get(partition);
  }

  /** Every committed offset of a group, by topic. */
  forGroup(group: string): ReadonlyMap<string, ReadonlyMap<number, CommittedOffset>> {
    return this.#groups.get(group) ?? new Map();
  }

  groupsWithOffsets(): IterableIterator<string> {
    return this.#groups.keys();
  }

  /** Removes offsets (OffsetDelete, DeleteGroups); `partitions` undefined = the whole topic. */
  async delete(group: string, topic: string | null, partitions?: readonly number[]): Promise<void> {
    const offsets = this.#groups.get(group);
    if (offsets === undefined) return;
    const victims: Array<[string, number]> = [];
    for (const [t, byPartition] of offsets) {
      if (topic !== null && t !== topic) continue;
      for (const p of byPartition.keys()) if (partitions === undefined || partitions.includes(p)) victims.push([t, p]);
    }
    if (victims.length === 0) return;
    for (const [t, p] of victims) this.#pending.delete(recordKey(group, t, p));
    await this.#log.append(victims.map(([t, p]) => ({ key: recordKey(group, t, p), value: null })));
    for (const [t, p] of victims) this.#remove(group, t, p);
  }

  /** Drops every group's offsets of a deleted topic. */
  async deleteTopic(topic: string): Promise<void> {
    for (const group of [...this.#groups.keys()]) await this.delete(group, topic);
  }
}
