// Topic listings (rocketmq-remoting.md §3.1, §3.4): GET_ALL_TOPIC_LIST_FROM_NAMESERVER
// (206), GET_TOPICS_BY_CLUSTER (224), and the system topic lists (304 name
// server, 305 broker). Internal logs (`__*`) are not RocketMQ topics.

import { RequestCode, ResponseCode } from '../../protocol/rocketmq/index.ts';
import { AUTO_CREATE_TOPIC, type RocketmqState } from '../state.ts';
import { json, requireString, type RocketmqHandler } from './types.ts';

export function rocketmqTopicNames(state: RocketmqState): string[] {
  const names: string[] = [];
  for (const topic of state.broker.topics.list()) if (!topic.internal) names.push(topic.name);
  if (state.broker.config.autoCreateTopics) names.push(AUTO_CREATE_TOPIC);
  return names.sort();
}

export const getAllTopicList: RocketmqHandler = {
  codes: [RequestCode.GET_ALL_TOPIC_LIST_FROM_NAMESERVER],
  name: 'GET_ALL_TOPIC_LIST_FROM_NAMESERVER',
  handle(ctx) {
    return { code: ResponseCode.SUCCESS, body: json({ topicList: rocketmqTopicNames(ctx.state) }) };
  },
};

export const getTopicsByCluster: RocketmqHandler = {
  codes: [RequestCode.GET_TOPICS_BY_CLUSTER],
  name: 'GET_TOPICS_BY_CLUSTER',
  handle(ctx, request) {
    const cluster = requireString(request, 'cluster');
    const topics = cluster === ctx.state.clusterName ? rocketmqTopicNames(ctx.state) : [];
    return { code: ResponseCode.SUCCESS, body: json({ topicList: topics }) };
  },
};

export const getSystemTopicList: RocketmqHandler = {
  codes: [RequestCode.GET_SYSTEM_TOPIC_LIST_FROM_NS, RequestCode.GET_SYSTEM_TOPIC_LIST_FROM_BROKER],
  name: 'GET_SYSTEM_TOPIC_LIST',
  handle(ctx) {
    // The cluster and broker names count as system topics in RocketMQ's listing.
    const topicList = [ctx.state.clusterName, ctx.state.brokerName];
    if (ctx.state.broker.config.autoCreateTopics) topicList.push(AUTO_CREATE_TOPIC);
    return { code: ResponseCode.SUCCESS, body: json({ topicList, brokerAddr: ctx.state.advertisedAddress }) };
  },
};
