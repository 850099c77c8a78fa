// What the RocketMQ front end keeps beyond the broker seam: its names and
// address (routes advertise the one listener for both roles), the clients
// registered by heartbeats, orderly-consumption locks, the name server's KV
// config and subscription-group settings.

import type { Broker } from '../broker/broker.ts';
import { BrokerError } from '../broker/errors.ts';
import type { Topic } from '../broker/topics.ts';
import type { Logger } from '../logger.ts';
import { ClientRegistry } from './clients.ts';
import { QueueLocks } from './locks.ts';
import { PULL_READ_AHEAD_QUEUES, PULL_READ_STEP_BYTES, PullReadAhead } from './read-ahead.ts';

export const RETRY_PREFIX = '%RETRY%';
export const DLQ_PREFIX = '%DLQ%';
/** RocketMQ's AUTO_CREATE_TOPIC_KEY: producers route unknown topics through it (remoting §4.2). */
export const AUTO_CREATE_TOPIC = 'TBW102';
/** Topics a client may not send to (remoting §5.2). */
export const FORBIDDEN_SEND_TOPICS = new Set([
  'SCHEDULE_TOPIC_XXXX',
  'RMQ_SYS_TRANS_HALF_TOPIC',
  'RMQ_SYS_TRANS_OP_HALF_TOPIC',
  'TRANS_CHECK_MAX_TIME_TOPIC',
  'SELF_TEST_TOPIC',
  'OFFSET_MOVED_EVENT',
]);
/** Keys of the RocketMQ front end in the broker's protocol state store. */
const GROUP_KEY = 'rocketmq.group:';
const KV_KEY = 'rocketmq.kv:';
export const PERM_READ = 4;
export const PERM_WRITE = 2;
export const PERM_INHERIT = 1;

export interface SubscriptionGroupConfig {
  groupName: string;
  consumeEnable: boolean;
  consumeFromMinEnable: boolean;
  consumeBroadcastEnable: boolean;
  consumeMessageOrderly: boolean;
  retryQueueNums: number;
  retryMaxTimes: number;
  brokerId: number;
  whichBrokerWhenConsumeSlowly: number;
  notifyConsumerIdsChangedEnable: boolean;
  groupSysFlag: number;
  consumeTimeoutMinute: number;
}

export interface RocketmqStateOptions {
  broker: Broker;
  brokerName: string;
  clusterName: string;
  /** host:port clients connect to for both roles. */
  advertisedAddress: string;
  /** 8 bytes: IPv4 + port of the advertised address (STOREHOST, offsetMsgId). */
  storeHost: Buffer;
  defaultQueues: number;
  maxReconsumeTimes: number;
  logger: Logger;
  nowMs?: () => number;
}

export class RocketmqState {
  readonly broker: Broker;
  readonly brokerName: string;
  readonly clusterName: string;
  readonly advertisedAddress: string;
  readonly storeHost: Buffer;
  readonly defaultQueues: number;
  readonly maxReconsumeTimes: number;
  readonly clients: ClientRegistry;
  readonly locks: QueueLocks;
  /**
   * Name server KV config: namespace → key → value. Read here; change it with
   * putKv/deleteKv, which store it durably first (the broker's protocol state log).
   */
  readonly kv = new Map<string, Map<string, string>>();
  /**
   * Subscription-group settings. Groups set by admin requests (saveSubscriptionGroup)
   * survive restarts; others hold defaults created on first use.
   */
  readonly subscriptionGroups = new Map<string, SubscriptionGroupConfig>();
  readonly nowMs: () => number;
  readonly startedMs: number;
  /** Pulls read into its slabs and keep each queue's last read for the next pull. */
  readonly pullReadAhead = new PullReadAhead(PULL_READ_AHEAD_QUEUES, PULL_READ_STEP_BYTES);
  readonly #logger: Logger;

  constructor(options: RocketmqStateOptions) {
    this.broker = options.broker;
    this.brokerName = options.brokerName;
    this.clusterName = options.clusterName;
    this.advertisedAddress = options.advertisedAddress;
    this.storeHost = options.storeHost;
    this.defaultQueues = options.defaultQueues;
    this.maxReconsumeTimes = options.maxReconsumeTimes;
    this.nowMs = options.nowMs ?? Date.now;
    this.startedMs = this.nowMs();
    this.#logger = options.logger;
    this.clients = new ClientRegistry({ nowMs: this.nowMs, logger: options.logger });
    this.locks = new QueueLocks(this.nowMs);
    const store = this.broker.protocolState;
    for (const [key, config] of store.entries<SubscriptionGroupConfig>(GROUP_KEY)) this.subscriptionGroups.set(key.slice(GROUP_KEY.length), config);
    for (const [key, value] of store.entries<string>(KV_KEY)) {
      const [namespace, name] = JSON.parse(key.slice(KV_KEY.length)) as [string, string];
      this.#kvSet(namespace, name, value);
    }
  }

  #kvSet(namespace: string, key: string, value: string): void {
    let table = this.kv.get(namespace);
    if (table === undefined) this.kv.set(namespace, (table = new Map()));
    table.set(key, value);
  }

  /** Stores a KV config entry durably, then shows it. */
  async putKv(namespace: string, key: string, value: string): Promise<void> {
    await this.broker.protocolState.set(KV_KEY + JSON.stringify([namespace, key]), value);
    this.#kvSet(namespace, key, value);
  }

  async deleteKv(namespace: string, key: string): Promise<void> {
    const table = this.kv.get(namespace);
    if (table?.has(key) !== true) return;
    await this.broker.protocolState.set(KV_KEY + JSON.stringify([namespace, key]), null);
    table.delete(key);
    if (table.size === 0) this.kv.delete(namespace);
  }

  /** Stores a subscription group's settings durably, then applies them. */
  async saveSubscriptionGroup(config: SubscriptionGroupConfig): Promise<void> {
    await this.broker.protocolState.set(GROUP_KEY + config.groupName, config);
    this.subscriptionGroups.set(config.groupName, config);
  }

  async deleteSubscriptionGroup(group: string): Promise<void> {
    if (this.broker.protocolState.get(GROUP_KEY + group) !== undefined) await this.broker.protocolState.set(GROUP_KEY + group, null);
    this.subscriptionGroups.delete(group);
  }

  /** The topic, created with `queues` queues when missing and auto-creation is on (or `force`). */
  async ensureTopic(name: string, queues: number, force = false): Promise<Topic | undefined> {
    const existing = this.broker.topics.get(name);
    if (existing !== undefined) return existing;
    if (!force && !this.broker.config.autoCreateTopics) return undefined;
    try {
      const topic = await this.broker.topics.create(name, Math.max(1, queues), new Map());
      this.#logger.info({ topic: name, queues: topic.partitions }, 'rocketmq created topic');
      return topic;
    } catch (err) {
      if (err instanceof BrokerError && err.code === 'TOPIC_ALREADY_EXISTS') return this.broker.topics.get(name);
      throw err;
    }
  }

  subscriptionGroup(group: string): SubscriptionGroupConfig {
    let config = this.subscriptionGroups.get(group);
    if (config === undefined) {
      config = defaultSubscriptionGroup(group, this.maxReconsumeTimes);
      this.subscriptionGroups.set(group, config);
    }
    return config;
  }

  close(): void {
    this.clients.close();
  }
}

export function defaultSubscriptionGroup(groupName: string, retryMaxTimes: number): SubscriptionGroupConfig {
  return {
    groupName,
    consumeEnable: true,
    consumeFromMinEnable: true,
    consumeBroadcastEnable: true,
    consumeMessageOrderly: false,
    retryQueueNums: 1,
    retryMaxTimes,
    brokerId: 0,
    whichBrokerWhenConsumeSlowly: 1,
    notifyConsumerIdsChangedEnable: true,
    groupSysFlag: 0,
    consumeTimeoutMinute: 15,
  };
}

/** RocketMQ topic names: `^[%|a-zA-Z0-9_-]+$`, ≤ 127 chars (255 for retry and DLQ topics). */
export function rocketmqTopicNameProblem(name: string): string | null {
  const max = name.startsWith(RETRY_PREFIX) || name.startsWith(DLQ_PREFIX) ? 255 : 127;
  if (name.length === 0) return 'the topic name is empty';
  if (name.length > max) return `the topic name is longer than ${max} characters`;
  if (!/^[%|a-zA-Z0-9_-]+$/.test(name)) return `the topic name ${JSON.stringify(name)} contains characters other than ^[%|a-zA-Z0-9_-]+$`;
  return null;
}
