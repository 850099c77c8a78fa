// The broker seam (DESIGN.md §4): the one interface both protocol front ends
// call. It owns topics, committed offsets, producer state and the wake-ups of
// long polls, and reaches storage only through the LogManager. Errors come back
// as neutral codes (errors.ts); each front end maps them in one table.

import type { LogManager } from '../storage/log-manager.ts';
import type { PartitionLog } from '../storage/partition-log.ts';
import { StorageError } from '../storage/errors.ts';
import {
  PRODUCER_EPOCH,
  PRODUCER_ID,
  BASE_SEQUENCE,
  RECORD_COUNT,
  readInt16,
  readInt32,
  readInt64,
} from '../storage/record-batch.ts';
import type { LogConfig, ReadResult } from '../storage/types.ts';
import { BrokerError, fromStorageCode, type BrokerErrorCode } from './errors.ts';
import { GroupCoordinator } from './groups/index.ts';
import { PROTOCOL_STATE_TOPIC } from './internal-log.ts';
import { OffsetStore } from './offsets.ts';
import { StateStore } from './state-store.ts';
import { ProducerStates } from './producers.ts';
import { TopicRegistry, type Topic } from './topics.ts';
import { TOPIC_CONFIGS } from './topic-configs.ts';
import { join } from 'node:path';
import { LmdbDelayIndex, MemoryDelayIndex } from '../delay/index-store.ts';
import { DEFAULT_DELAY_LEVELS, parseDelayLevels } from '../delay/levels.ts';
import { DELAY_TOPIC } from '../delay/log-records.ts';
import { DelayError, DelayService, type DelayTargets, type ScheduleRequest } from '../delay/service.ts';
import { deliverAtOf, DelayPropertyError, DELAY_PROPERTIES } from '../delay/properties.ts';
import { buildRecordBatch, readRecords, type DecodedRecord, type RecordInput } from '../storage/records.ts';

export interface BrokerConfig {
  /** This node's id in metadata responses. */
  nodeId: number;
  /** Create unknown topics on first produce or metadata request (Kafka auto.create.topics.enable). */
  autoCreateTopics: boolean;
  /** Partitions of auto-created topics and of CreateTopics with -1 (Kafka num.partitions). */
  defaultPartitions: number;
  /** Largest record batch accepted by default (Kafka message.max.bytes). */
  maxMessageBytes: number;
  /** group.initial.rebalance.delay.ms (Kafka default 3000; tests use 0). */
  groupInitialRebalanceDelayMs?: number;
  /** RocketMQ delay level table (`1s 5s ...`). */
  delayLevels?: string;
  /** Latest delivery time accepted for a delay message, from now (default one year). */
  delayHorizonMs?: number;
  /** Where the delay index lives: LMDB under the data directory (default) or memory (tests on MemoryFileIO). */
  delayIndex?: 'lmdb' | 'memory';
  /** Background failures of the delay service (dispatch, index update, trim); the server logs them. */
  onDelayError?: (err: unknown, context: string) => void;
}

/** Topic config that makes a Kafka topic a delay topic (src/delay/README.md). */
export const DELAY_ENABLE_CONFIG = 'diglot.delay.enable';
/** Segments of `__delay`: trimming frees whole segments. */
const DELAY_SEGMENT_BYTES_MAX = 64 * 1024 * 1024;
/** Firing reads one SCHEDULE record (a small batch) at a time: a denser offset index makes that a short read. */
const DELAY_INDEX_INTERVAL_BYTES = 512;
/**
 * How `__delay` differs from the manager's defaults: held until delivered, then trimmed by the
 * delay service (segments small enough for that to free space); a denser offset index.
 */
export function delayLogOverrides(base: Readonly<LogConfig>): Partial<LogConfig> {
  return {
    retentionMs: -1,
    retentionBytes: -1,
    segmentBytesMax: Math.min(base.segmentBytesMax, DELAY_SEGMENT_BYTES_MAX),
    indexIntervalBytes: Math.min(base.indexIntervalBytes, DELAY_INDEX_INTERVAL_BYTES),
  };
}
export const DEFAULT_DELAY_HORIZON_MS = 365 * 24 * 3600 * 1000;
/** Directory of the delay index under the data directory (not a log: no `-<partition>` suffix). */
export const DELAY_INDEX_DIR = 'delay-index';

export interface AppendOutcome {
  errorCode: BrokerErrorCode;
  errorMessage: string | null;
  baseOffset: number;
  /** LogAppendTime when the topic uses it, else -1. */
  logAppendTimeMs: number;
  logStartOffset: number;
  /** The log appended to (for durability waits); null on error or duplicate. */
  log: PartitionLog | null;
  /** Offset after the append, for durable(). */
  nextOffset: number;
  /** Delay topics: records were held in the delay service; acks=all also waits for this (a flush of `__delay`). */
  held?: () => Promise<void>;
}

export interface ReadOutcome {
  errorCode: BrokerErrorCode;
  result: ReadResult | null;
  highWatermark: number;
  logStartOffset: number;
}

interface DataWaiter {
  logs: readonly PartitionLog[];
  wake: () => void;
}

/** Long polls waiting at once; more is a leak upstream (connections bound their in-flight requests). */
const DATA_WAITERS_MAX = 100_000;

export class Broker {
  readonly config: BrokerConfig;
  readonly logManager: LogManager;
  readonly topics: TopicRegistry;
  readonly offsets: OffsetStore;
  readonly producers: ProducerStates;
  /** Classic consumer groups (Kafka JoinGroup/SyncGroup...); offsets live in `offsets`. */
  readonly groups: GroupCoordinator;
  /** Durable key → JSON state of the protocol front ends (RocketMQ subscription groups, KV config). */
  readonly protocolState: StateStore;
  readonly nowMs: () => number;
  /** Scheduled messages (src/delay): RocketMQ delay levels and timers, Kafka delay topics, REST. */
  readonly delays: DelayService;
  /** The RocketMQ delay level table in ms (level 1 = index 0). */
  readonly delayLevelsMs: readonly number[];
  readonly #waiters = new Map<PartitionLog, Set<DataWaiter>>();
  #waiterCount = 0;

  private constructor(logManager: LogManager, config: BrokerConfig, topics: TopicRegistry, offsets: OffsetStore, protocolState: StateStore, nowMs: () => number) {
    this.logManager = logManager;
    this.protocolState = protocolState;
    this.config = config;
    this.topics = topics;
    this.offsets = offsets;
    this.producers = new ProducerStates(nowMs);
    this.nowMs = nowMs;
    this.groups = new GroupCoordinator({
      ...(config.groupInitialRebalanceDelayMs === undefined ? {} : { initialRebalanceDelayMs: config.groupInitialRebalanceDelayMs }),
      onGroupDeleted: (groupId) => offsets.delete(groupId, null),
    });
    // Groups that only have committed offsets (simple consumers, RocketMQ, a restart) are listed too.
    for (const groupId of offsets.groupsWithOffsets()) this.groups.ensureGroup(groupId);
    this.delayLevelsMs = parseDelayLevels(config.delayLevels ?? DEFAULT_DELAY_LEVELS);
    const delayLogConfig = delayLogOverrides(logManager.config);
    const delayLog = logManager.getOrCreate(DELAY_TOPIC, 0, delayLogConfig);
    delayLog.config = { ...delayLog.config, ...delayLogConfig }; // an existing log: its new segments
    this.delays = DelayService.open({
      log: delayLog,
      index: config.delayIndex === 'memory' ? new MemoryDelayIndex() : LmdbDelayIndex.open(join(logManager.dir, DELAY_INDEX_DIR)),
      targets: this.#delayTargets(),
      nowMs,
      horizonMs: config.delayHorizonMs ?? DEFAULT_DELAY_HORIZON_MS,
      advanceLogStart: (offset) => logManager.advanceLogStart(delayLog, offset),
      ...(config.onDelayError === undefined ? {} : { onError: config.onDelayError }),
    });
  }

  /** How the delay service reaches user topics: through the broker, so long polls wake. */
  #delayTargets(): DelayTargets {
    return {
      partitionCount: (name) => {
        const topic = this.topics.get(name);
        return topic === undefined || topic.internal ? undefined : topic.partitions;
      },
      endOffset: (name, partition) => this.topics.partitionLog(this.topics.get(name)!, partition).logEndOffset,
      append: (name, partition, batch) => {
        const topic = this.topics.get(name)!;
        const log = this.topics.partitionLog(topic, partition);
        const logAppendTime = this.topicConfig(topic, 'message.timestamp.type') === 'LogAppendTime';
        log.append(batch, logAppendTime ? { logAppendTimeMs: this.nowMs(), leaderEpoch: 0 } : { leaderEpoch: 0 });
        this.#notify(log);
      },
      commit: () => this.logManager.commitStaged(),
      read: (name, partition, offset, maxBytes) => {
        const topic = this.topics.get(name);
        return topic === undefined ? null : this.topics.partitionLog(topic, partition).read(offset, maxBytes);
      },
    };
  }

  static async open(logManager: LogManager, config: BrokerConfig, nowMs: () => number = Date.now): Promise<Broker> {
    const topics = await TopicRegistry.open(logManager, nowMs);
    const offsets = OffsetStore.open(logManager, nowMs);
    const protocolState = StateStore.open(logManager, PROTOCOL_STATE_TOPIC, nowMs);
    return new Broker(logManager, config, topics, offsets, protocolState, nowMs);
  }

  get clusterId(): string {
    return this.topics.clusterId;
  }

  /** The topic, auto-created when allowed; undefined when it does not exist. */
  async topicOrCreate(name: string, allowAutoCreate: boolean): Promise<Topic | undefined> {
    const topic = this.topics.get(name);
    if (topic !== undefined || !allowAutoCreate || !this.config.autoCreateTopics) return topic;
    try {
      return await this.topics.create(name, this.config.defaultPartitions, new Map());
    } catch (err) {
      if (err instanceof BrokerError && err.code === 'TOPIC_ALREADY_EXISTS') return this.topics.get(name);
      throw err;
    }
  }

  /** The effective value of a topic config (override or broker default). */
  topicConfig(topic: Topic, key: string): string {
    return topic.configs.get(key) ?? this.topicConfigDefault(key);
  }

  /** The broker-wide default of a topic config (what a topic without an override gets). */
  topicConfigDefault(key: string): string {
    const c = this.logManager.config;
    return TOPIC_CONFIGS[key]!.defaultValue({
      retentionMs: c.retentionMs,
      retentionBytes: c.retentionBytes,
      segmentBytesMax: c.segmentBytesMax,
      segmentAgeMsMax: c.segmentAgeMsMax,
      indexIntervalBytes: c.indexIntervalBytes,
      maxMessageBytes: this.config.maxMessageBytes,
    });
  }

  /**
   * Appends one produced record batch (already known to be a single v2 batch)
   * with the idempotence check. Synchronous: the offset is assigned at once;
   * durability is awaited separately through `log.durable(nextOffset)`.
   */
  appendBatch(topic: Topic, partition: number, batch: Buffer): AppendOutcome {
    if (partition < 0 || partition >= topic.partitions) {
      return failure('UNKNOWN_TOPIC_OR_PARTITION', `partition ${partition} of ${topic.name} does not exist`);
    }
    const maxBytes = Number(this.topicConfig(topic, 'max.message.bytes'));
    if (batch.length > maxBytes) {
      return failure('MESSAGE_TOO_LARGE', `record batch of ${batch.length} bytes exceeds max.message.bytes ${maxBytes} of ${topic.name}`);
    }
    const log = this.topics.partitionLog(topic, partition);
    const producerId = readInt64(batch, PRODUCER_ID);
    const epoch = readInt16(batch, PRODUCER_EPOCH);
    const firstSequence = readInt32(batch, BASE_SEQUENCE);
    const count = readInt32(batch, RECORD_COUNT);
    if (producerId >= 0) {
      const check = this.producers.check(log.name, producerId, epoch, firstSequence, count);
      if (check.kind === 'error') return failure(check.code, check.message);
      if (check.kind === 'duplicate') {
        return { errorCode: 'NONE', errorMessage: null, baseOffset: check.baseOffset, logAppendTimeMs: -1, logStartOffset: log.logStartOffset, log: null, nextOffset: check.lastOffset + 1 };
      }
    }
    // Delay topics (src/delay/README.md): only their batches are decoded; every other topic keeps the zero-copy path.
    if (topic.configs.get(DELAY_ENABLE_CONFIG) === 'true') {
      const held = this.#holdDelayed(topic, partition, log, batch);
      if (held !== null) {
        if (held.errorCode === 'NONE' && producerId >= 0) this.producers.record(log.name, producerId, epoch, firstSequence, count, held.baseOffset);
        return held;
      }
    }
    const logAppendTime = this.topicConfig(topic, 'message.timestamp.type') === 'LogAppendTime';
    try {
      const info = log.append(batch, logAppendTime ? { logAppendTimeMs: this.nowMs(), leaderEpoch: 0 } : { leaderEpoch: 0 });
      if (producerId >= 0) this.producers.record(log.name, producerId, epoch, firstSequence, count, info.baseOffset);
      this.#notify(log);
      return { errorCode: 'NONE', errorMessage: null, baseOffset: info.baseOffset, logAppendTimeMs: info.logAppendTimeMs, logStartOffset: log.logStartOffset, log, nextOffset: info.nextOffset };
    } catch (err) {
      if (err instanceof StorageError) return failure(fromStorageCode(err.code), err.message);
      throw err;
    }
  }

  /**
   * A produced batch of a delay topic: records with a delay header go to the
   * delay service, the others are appended at once (re-encoded, uncompressed).
   * null when no record asks for a delay (the batch is appended as received).
   * With any record held, the answer's base offset is -1: held records have no
   * offset until they are delivered.
   */
  #holdDelayed(topic: Topic, partition: number, log: PartitionLog, batch: Buffer): AppendOutcome | null {
    let records: DecodedRecord[];
    try {
      records = readRecords(batch);
    } catch (err) {
      if (err instanceof StorageError) return failure(fromStorageCode(err.code), err.message);
      throw err;
    }
    const now = this.nowMs();
    const requests: ScheduleRequest[] = [];
    const immediate: RecordInput[] = [];
    try {
      for (const r of records) {
        let at: number | null = null;
        for (const h of r.headers) {
          if (DELAY_PROPERTIES.has(h.key)) {
            at = deliverAtOf((name) => r.headers.find((x) => x.key === name)?.value?.toString('latin1'), now, this.delayLevelsMs);
            break;
          }
        }
        if (at === null) immediate.push({ key: r.key, value: r.value, headers: r.headers, timestampMs: r.timestampMs });
        else requests.push({ topic: topic.name, partition, key: r.key, value: r.value, headers: r.headers, timestampMs: r.timestampMs, deliverAtMs: at, repeat: null });
      }
      if (requests.length === 0) return null;
      // schedule() checks every request before it stores any, and nothing is appended before it: a refusal stores nothing.
      this.delays.schedule(requests); // acks=all flushes through `held`; acks=1 answers once written out, like any append
    } catch (err) {
      if (err instanceof DelayPropertyError || err instanceof DelayError) return failure('INVALID_RECORD', `delay topic ${topic.name}: ${err.message}`);
      if (err instanceof StorageError) return failure(fromStorageCode(err.code), err.message);
      throw err;
    }
    try {
      let nextOffset = log.logEndOffset;
      if (immediate.length > 0) {
        const logAppendTime = this.topicConfig(topic, 'message.timestamp.type') === 'LogAppendTime';
        nextOffset = log.append(buildRecordBatch(immediate), logAppendTime ? { logAppendTimeMs: now, leaderEpoch: 0 } : { leaderEpoch: 0 }).nextOffset;
        this.#notify(log);
      }
      return { errorCode: 'NONE', errorMessage: null, baseOffset: -1, logAppendTimeMs: -1, logStartOffset: log.logStartOffset, log, nextOffset, held: () => this.delays.flush() };
    } catch (err) {
      if (err instanceof StorageError) return failure(fromStorageCode(err.code), err.message);
      throw err;
    }
  }

  /** Writes every staged append to the page cache; front ends call it before acknowledging. */
  commitStaged(): void {
    try {
      this.logManager.commitStaged();
    } catch {
      // the failed log is marked failed; its producers see STORAGE_ERROR on the next append
    }
  }

  /** Reads whole batches of a partition from `offset` (at most `maxBytes`, at least one batch). */
  read(topic: Topic, partition: number, offset: number, maxBytes: number, alloc?: (size: number) => Buffer): ReadOutcome {
    if (partition < 0 || partition >= topic.partitions) {
      return { errorCode: 'UNKNOWN_TOPIC_OR_PARTITION', result: null, highWatermark: -1, logStartOffset: -1 };
    }
    const log = this.topics.partitionLog(topic, partition);
    const highWatermark = log.logEndOffset;
    try {
      return { errorCode: 'NONE', result: log.read(offset, maxBytes, log.logEndOffset, alloc), highWatermark, logStartOffset: log.logStartOffset };
    } catch (err) {
      if (err instanceof StorageError) return { errorCode: fromStorageCode(err.code), result: null, highWatermark, logStartOffset: log.logStartOffset };
      throw err;
    }
  }

  /**
   * Resolves when any of `logs` gets new data, or after `timeoutMs`, or when
   * cancelled. Used by long polls (Kafka Fetch max_wait, RocketMQ PULL_MESSAGE).
   */
  waitForData(logs: readonly PartitionLog[], timeoutMs: number): { promise: Promise<void>; cancel: () => void } {
    let done = false;
    let timer: NodeJS.Timeout | null = null;
    let resolvePromise!: () => void;
    const promise = new Promise<void>((resolve) => (resolvePromise = resolve));
    const waiter: DataWaiter = {
      logs,
      wake: () => {
        if (done) return;
        done = true;
        if (timer !== null) clearTimeout(timer);
        for (const log of logs) {
          const set = this.#waiters.get(log);
          set?.delete(waiter);
          if (set?.size === 0) this.#waiters.delete(log);
        }
        this.#waiterCount--;
        resolvePromise();
      },
    };
    if (this.#waiterCount >= DATA_WAITERS_MAX) {
      queueMicrotask(resolvePromise); // answer at once rather than grow without bound
      return { promise, cancel: () => {} };
    }
    this.#waiterCount++;
    for (const log of logs) {
      let set = this.#waiters.get(log);
      if (set === undefined) this.#waiters.set(log, (set = new Set()));
      set.add(waiter);
    }
    timer = setTimeout(waiter.wake, Math.max(0, timeoutMs));
    return { promise, cancel: waiter.wake };
  }

  #notify(log: PartitionLog): void {
    const set = this.#waiters.get(log);
    if (set === undefined) return;
    for (const waiter of [...set]) waiter.wake();
  }

  /** Wakes every long poll (shutdown). */
  wakeAll(): void {
    for (const set of [...this.#waiters.values()]) for (const waiter of [...set]) waiter.wake();
  }

  /** Stops the group coordinator's timers and answers parked joins; storage is closed by its owner. */
  close(): void {
    this.groups.close();
    this.wakeAll();
    void this.delays.close();
  }

  /** Deletes a topic with its logs and every group's offsets for it. */
  async deleteTopic(name: string): Promise<void> {
    const topic = this.topics.get(name);
    await this.topics.delete(name);
    if (topic !== undefined) {
      for (let p = 0; p < topic.partitions; p++) this.producers.forget(`${name}-${p}`);
      await this.offsets.deleteTopic(name);
    }
  }
}

function failure(errorCode: BrokerErrorCode, errorMessage: string): AppendOutcome {
  return { errorCode, errorMessage, baseOffset: -1, logAppendTimeMs: -1, logStartOffset: -1, log: null, nextOffset: -1 };
}

