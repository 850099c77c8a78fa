// Clients registered by HEART_BEAT (rocketmq-remoting.md §9): consumer groups
// with their members, subscriptions and message model, and producer groups.
// A group whose member set changes gets NOTIFY_CONSUMER_IDS_CHANGED on every
// member connection so consumers rebalance at once. Registrations go when the
// connection closes, on UNREGISTER_CLIENT, or after 120 s without a heartbeat.

import type { Logger } from '../logger.ts';
import { RequestCode } from '../protocol/rocketmq/index.ts';
import { compileFilter, SubscriptionParseError, type MessageFilter } from './subscription.ts';

export const CLIENT_EXPIRY_MS = 120_000;
const SCAN_INTERVAL_MS = 10_000;
/** Bounds on what heartbeats can make the broker hold. */
export const GROUPS_MAX = 100_000;
export const CLIENTS_PER_GROUP_MAX = 10_000;
export const SUBSCRIPTIONS_PER_GROUP_MAX = 10_000;

/** What the registry needs of a connection. */
export interface ClientChannel {
  readonly remote: string;
  readonly closed: boolean;
  sendOneway(code: number, extFields: Record<string, string>): void;
}

export interface Subscription {
  topic: string;
  expressionType: string;
  subString: string;
  subVersion: number;
  tagsSet: string[];
  codeSet: number[];
  /** Compiled filter, or why it does not compile (pulls then answer SUBSCRIPTION_PARSE_FAILED). */
  filter: MessageFilter | SubscriptionParseError;
}

export interface ClientEntry {
  clientId: string;
  channel: ClientChannel;
  language: string;
  version: number;
  lastHeartbeatMs: number;
}

export interface ConsumerGroup {
  groupName: string;
  consumeType: string;
  messageModel: string;
  consumeFromWhere: string;
  clients: Map<string, ClientEntry>;
  subscriptions: Map<string, Subscription>;
}

export interface HeartbeatData {
  clientID?: string;
  consumerDataSet?: Array<{
    groupName?: string;
    consumeType?: string;
    messageModel?: string;
    consumeFromWhere?: string;
    subscriptionDataSet?: Array<{ topic?: string; subString?: string; expressionType?: string; subVersion?: number | string; tagsSet?: string[]; codeSet?: Array<number | string> }>;
    unitMode?: boolean;
  }>;
  producerDataSet?: Array<{ groupName?: string }>;
}

export class ClientRegistry {
  readonly consumers = new Map<string, ConsumerGroup>();
  readonly producers = new Map<string, Map<string, ClientEntry>>();
  readonly #nowMs: () => number;
  readonly #logger: Logger;
  readonly #timer: NodeJS.Timeout;

  constructor(options: { nowMs: () => number; logger: Logger }) {
    this.#nowMs = options.nowMs;
    this.#logger = options.logger;
    this.#timer = setInterval(() => this.expire(), SCAN_INTERVAL_MS);
    this.#timer.unref();
  }

  /** Registers what one heartbeat says; returns the consumer groups it names. */
  heartbeat(channel: ClientChannel, data: HeartbeatData, language: string, version: number): ConsumerGroup[] {
    const clientId = data.clientID ?? channel.remote;
    const now = this.#nowMs();
    const groups: ConsumerGroup[] = [];
    for (const c of data.consumerDataSet ?? []) {
      if (typeof c.groupName !== 'string' || c.groupName === '') continue;
      let group = this.consumers.get(c.groupName);
      if (group === undefined) {
        if (this.consumers.size >= GROUPS_MAX) continue;
        group = { groupName: c.groupName, consumeType: '', messageModel: '', consumeFromWhere: '', clients: new Map(), subscriptions: new Map() };
        this.consumers.set(c.groupName, group);
      }
      group.consumeType = c.consumeType ?? group.consumeType;
      group.messageModel = c.messageModel ?? group.messageModel;
      group.consumeFromWhere = c.consumeFromWhere ?? group.consumeFromWhere;
      const known = group.clients.get(clientId);
      const changed = known === undefined || known.channel !== channel;
      if (known === undefined && group.clients.size >= CLIENTS_PER_GROUP_MAX) continue;
      group.clients.set(clientId, { clientId, channel, language, version, lastHeartbeatMs: now });
      this.#updateSubscriptions(group, c.subscriptionDataSet ?? []);
      groups.push(group);
      if (changed) this.#notify(group);
    }
    for (const p of data.producerDataSet ?? []) {
      if (typeof p.groupName !== 'string' || p.groupName === '') continue;
      let members = this.producers.get(p.groupName);
      if (members === undefined) {
        if (this.producers.size >= GROUPS_MAX) continue;
        members = new Map();
        this.producers.set(p.groupName, members);
      }
      if (!members.has(clientId) && members.size >= CLIENTS_PER_GROUP_MAX) continue;
      members.set(clientId, { clientId, channel, language, version, lastHeartbeatMs: now });
    }
    return groups;
  }

  #updateSubscriptions(group: ConsumerGroup, set: NonNullable<NonNullable<HeartbeatData['consumerDataSet']>[number]['subscriptionDataSet']>): void {
    // The latest heartbeat states the group's subscriptions (Java ConsumerGroupInfo.updateSubscription).
    const seen = new Set<string>();
    for (const s of set) {
      if (typeof s.topic !== 'string' || s.topic === '') continue;
      seen.add(s.topic);
      const subVersion = Number(s.subVersion ?? 0);
      const previous = group.subscriptions.get(s.topic);
      const expressionType = (s.expressionType ?? 'TAG').toUpperCase();
      const subString = s.subString ?? '*';
      if (previous !== undefined && previous.subString === subString && previous.expressionType === expressionType) {
        previous.subVersion = Math.max(previous.subVersion, subVersion);
        continue;
      }
      if (previous === undefined && group.subscriptions.size >= SUBSCRIPTIONS_PER_GROUP_MAX) continue;
      let filter: MessageFilter | SubscriptionParseError;
      try {
        filter = compileFilter(expressionType, subString);
      } catch (err) {
        if (!(err instanceof SubscriptionParseError)) throw err;
        filter = err;
      }
      group.subscriptions.set(s.topic, {
        topic: s.topic,
        expressionType,
        subString,
        subVersion,
        tagsSet: Array.isArray(s.tagsSet) ? s.tagsSet.map(String) : [],
        codeSet: Array.isArray(s.codeSet) ? s.codeSet.map(Number) : [],
        filter,
      });
    }
    for (const topic of [...group.subscriptions.keys()]) if (!seen.has(topic)) group.subscriptions.delete(topic);
  }

  unregister(clientId: string, producerGroup: string | undefined, consumerGroup: string | undefined): void {
    if (producerGroup !== undefined) {
      const members = this.producers.get(producerGroup);
      members?.delete(clientId);
      if (members?.size === 0) this.producers.delete(producerGroup);
    }
    if (consumerGroup !== undefined) {
      const group = this.consumers.get(consumerGroup);
      if (group !== undefined && group.clients.delete(clientId)) this.#notify(group);
    }
  }

  /** Drops every registration made over a closed connection. */
  channelClosed(channel: ClientChannel): void {
    this.#drop((entry) => entry.channel === channel);
  }

  /** Drops clients silent for CLIENT_EXPIRY_MS (the Java broker scans every 10 s). */
  expire(): void {
    const cutoff = this.#nowMs() - CLIENT_EXPIRY_MS;
    this.#drop((entry) => entry.lastHeartbeatMs < cutoff || entry.channel.closed);
  }

  #drop(gone: (entry: ClientEntry) => boolean): void {
    for (const group of this.consumers.values()) {
      let changed = false;
      for (const [id, entry] of group.clients) {
        if (gone(entry)) {
          group.clients.delete(id);
          changed = true;
        }
      }
      if (changed) {
        this.#logger.debug({ group: group.groupName, members: group.clients.size }, 'rocketmq consumer group members changed');
        this.#notify(group);
      }
    }
    for (const [name, members] of this.producers) {
      for (const [id, entry] of members) if (gone(entry)) members.delete(id);
      if (members.size === 0) this.producers.delete(name);
    }
  }

  /** NOTIFY_CONSUMER_IDS_CHANGED, oneway, to every member (remoting §9.1). */
  #notify(group: ConsumerGroup): void {
    for (const entry of group.clients.values()) {
      if (!entry.channel.closed) entry.channel.sendOneway(RequestCode.NOTIFY_CONSUMER_IDS_CHANGED, { consumerGroup: group.groupName });
    }
  }

  /** Member client ids of a group (GET_CONSUMER_LIST_BY_GROUP). */
  consumerIds(group: string): string[] {
    return [...(this.consumers.get(group)?.clients.keys() ?? [])];
  }

  close(): void {
    clearInterval(this.#timer);
  }
}
