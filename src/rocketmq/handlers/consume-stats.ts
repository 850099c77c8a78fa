// GET_CONSUME_STATS (208) and GET_BROKER_CONSUME_STATS (317) —
// rocketmq-remoting.md §3.4, §13 (mqadmin consumerProgress, brokerConsumeStats).
//
// 208: a ConsumeStats for one group, offsetTable keyed by MessageQueue
// objects (fastjson). Topics: the `topicList` header (`;`-separated) when
// given; else the `topic` header; else every topic the group has committed
// offsets for (the one offset store, shared with Kafka groups) plus its
// %RETRY% topic. Without topicList, topics the group's live consumers do not
// subscribe to are dropped when it has any (as Java does). Per queue:
// brokerOffset = max offset, consumerOffset = committed offset (0 if none),
// pullOffset = consumerOffset (Diglot does not track pull positions: no
// in-flight count), lastTimestamp = store time of the message before
// consumerOffset (0 if none). consumeTps is 0.0: no rate is kept.
//
// 317: a ConsumeStatsList over every known group (subscription groups and
// groups with committed offsets), one ConsumeStats per consumed topic;
// `isOrder=true` keeps only order topics (ORDER_TOPIC_CONFIG KV).

import type { Topic } from '../../broker/topics.ts';
import { RequestCode, ResponseCode } from '../../protocol/rocketmq/index.ts';
import { fastjsonBody, JavaDouble, messageQueue, ObjectKeyedMap } from '../admin-bodies.ts';
import { RETRY_PREFIX, type RocketmqState } from '../state.ts';
import { timestampAt } from './queue-offsets.ts';
import { optionalBool, optionalString, requireString, type RocketmqHandler } from './types.ts';

export interface OffsetWrapper {
  brokerOffset: number;
  consumerOffset: number;
  lastTimestamp: number;
  pullOffset: number;
}

export function offsetWrapper(state: RocketmqState, group: string, topic: Topic, queueId: number): OffsetWrapper {
  const log = state.broker.topics.partitionLog(topic, queueId);
  const brokerOffset = log.logEndOffset;
  const consumerOffset = Math.max(0, state.broker.offsets.get(group, topic.name, queueId)?.offset ?? 0);
  const lastTimestamp = consumerOffset > 0 ? (timestampAt(log, consumerOffset - 1) ?? 0) : 0;
  return { brokerOffset, consumerOffset, lastTimestamp, pullOffset: consumerOffset };
}

/** Topics with committed offsets of the group, plus its retry topic when it exists. */
export function topicsOfGroup(state: RocketmqState, group: string): string[] {
  const topics = new Set(state.broker.offsets.forGroup(group).keys());
  if (state.broker.topics.get(RETRY_PREFIX + group) !== undefined) topics.add(RETRY_PREFIX + group);
  return [...topics].sort();
}

/** Drops topics the group's live consumers do not subscribe to, when they subscribe to any. */
function subscribedOnly(state: RocketmqState, group: string, topics: string[]): string[] {
  const live = state.clients.consumers.get(group);
  // A group whose last member left keeps its last subscriptions in the registry: they no longer count.
  if (live === undefined || live.clients.size === 0 || live.subscriptions.size === 0) return topics;
  const subscriptions = live.subscriptions;
  return topics.filter((t) => subscriptions.has(t));
}

function consumeStats(state: RocketmqState, group: string, topicNames: readonly string[]): { consumeTps: JavaDouble; offsetTable: ObjectKeyedMap; diff: number; queues: number } {
  const entries: Array<[object, unknown]> = [];
  let diff = 0;
  for (const name of topicNames) {
    const topic = state.broker.topics.get(name);
    if (topic === undefined || topic.internal) continue;
    for (let q = 0; q < topic.partitions; q++) {
      const w = offsetWrapper(state, group, topic, q);
      diff += Math.max(0, w.brokerOffset - w.consumerOffset);
      entries.push([messageQueue(name, state.brokerName, q), w]);
    }
  }
  return { consumeTps: new JavaDouble(0), offsetTable: new ObjectKeyedMap(entries), diff, queues: entries.length };
}

export const getConsumeStats: RocketmqHandler = {
  codes: [RequestCode.GET_CONSUME_STATS],
  name: 'GET_CONSUME_STATS',
  handle(ctx, request) {
    const group = requireString(request, 'consumerGroup');
    const topic = optionalString(request, 'topic');
    const topicList = (optionalString(request, 'topicList') ?? '').split(';').filter((t) => t !== '');
    let topics: string[];
    if (topicList.length > 0) topics = topicList;
    else topics = subscribedOnly(ctx.state, group, topic !== undefined && topic.trim() !== '' ? [topic] : topicsOfGroup(ctx.state, group));
    const stats = consumeStats(ctx.state, group, topics);
    return { code: ResponseCode.SUCCESS, body: fastjsonBody({ consumeTps: stats.consumeTps, offsetTable: stats.offsetTable }) };
  },
};

export const getBrokerConsumeStats: RocketmqHandler = {
  codes: [RequestCode.GET_BROKER_CONSUME_STATS],
  name: 'GET_BROKER_CONSUME_STATS',
  handle(ctx, request) {
    const { state } = ctx;
    const isOrder = optionalBool(request, 'isOrder', false);
    const orderTopics = state.kv.get('ORDER_TOPIC_CONFIG');
    const groups = new Set<string>(state.subscriptionGroups.keys());
    for (const g of state.broker.offsets.groupsWithOffsets()) groups.add(g);
    const list: Array<Record<string, unknown[]>> = [];
    let totalDiff = 0;
    for (const group of [...groups].sort()) {
      const perTopic: unknown[] = [];
      for (const topic of subscribedOnly(state, group, [...state.broker.offsets.forGroup(group).keys()].sort())) {
        if (isOrder && orderTopics?.has(topic) !== true) continue;
        const stats = consumeStats(state, group, [topic]);
        if (stats.queues === 0) continue;
        totalDiff += stats.diff;
        perTopic.push({ consumeTps: stats.consumeTps, offsetTable: stats.offsetTable });
      }
      list.push({ [group]: perTopic });
    }
    return {
      code: ResponseCode.SUCCESS,
      body: fastjsonBody({ brokerAddr: state.advertisedAddress, consumeStatsList: list, totalDiff, totalInflightDiff: 0 }),
    };
  },
};
