// QUERY_TOPIC_CONSUME_BY_WHO (300) and QUERY_TOPICS_BY_CONSUMER (343) —
// rocketmq-remoting.md §3.4 (mqadmin topicStatus/queryMsgById message track,
// consumerProgress). 300: GroupList of the groups whose live consumers
// subscribe to the topic plus every group with committed offsets on it (Kafka
// groups included: one offset store). 343: TopicList of the topics the group
// has committed offsets for, with this broker's address, as Java's
// ConsumerOffsetManager.whichTopicByConsumer.

import { RequestCode, ResponseCode } from '../../protocol/rocketmq/index.ts';
import type { RocketmqState } from '../state.ts';
import { json, requireString, type RocketmqHandler } from './types.ts';

export function groupsConsumingTopic(state: RocketmqState, topic: string): string[] {
  const groups = new Set<string>();
  for (const group of state.clients.consumers.values()) {
    if (group.clients.size > 0 && group.subscriptions.has(topic)) groups.add(group.groupName);
  }
  for (const group of state.broker.offsets.groupsWithOffsets()) {
    if (state.broker.offsets.forGroup(group).has(topic)) groups.add(group);
  }
  return [...groups].sort();
}

export const queryTopicConsumeByWho: RocketmqHandler = {
  codes: [RequestCode.QUERY_TOPIC_CONSUME_BY_WHO],
  name: 'QUERY_TOPIC_CONSUME_BY_WHO',
  handle(ctx, request) {
    const topic = requireString(request, 'topic');
    return { code: ResponseCode.SUCCESS, body: json({ groupList: groupsConsumingTopic(ctx.state, topic) }) };
  },
};

export const queryTopicsByConsumer: RocketmqHandler = {
  codes: [RequestCode.QUERY_TOPICS_BY_CONSUMER],
  name: 'QUERY_TOPICS_BY_CONSUMER',
  handle(ctx, request) {
    const group = requireString(request, 'group');
    const topics = [...ctx.state.broker.offsets.forGroup(group).keys()].sort();
    return { code: ResponseCode.SUCCESS, body: json({ brokerAddr: ctx.state.advertisedAddress, topicList: topics }) };
  },
};
