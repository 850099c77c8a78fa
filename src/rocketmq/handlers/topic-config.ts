// GET_ALL_TOPIC_CONFIG (21) and GET_TOPIC_CONFIG (351) — rocketmq-remoting.md
// §3.4, §13. Every RocketMQ-visible topic (internal `__*` logs excluded;
// %RETRY%/%DLQ% topics included, as a Java broker lists them) as a TopicConfig
// (admin-bodies.ts topicConfigJson: queues = partitions, perm 6), plus TBW102
// with perm 7 while topics auto-create. 21 answers the 5.x
// TopicConfigAndMappingSerializeWrapper (no static-topic mappings); its
// paging headers (topicSeq, maxTopicNum) are ignored: one page holds all.
// 351 answers one TopicConfig, or 17 for an unknown topic.

import { RequestCode, ResponseCode } from '../../protocol/rocketmq/index.ts';
import { dataVersion, fastjsonBody, topicConfigJson, type TopicConfigJson } from '../admin-bodies.ts';
import { AUTO_CREATE_TOPIC, PERM_INHERIT, PERM_READ, PERM_WRITE, type RocketmqState } from '../state.ts';
import { requireString, type RocketmqHandler } from './types.ts';

/** The TopicConfig of a RocketMQ-visible topic, or undefined. */
export function findTopicConfig(state: RocketmqState, name: string): TopicConfigJson | undefined {
  const topic = state.broker.topics.get(name);
  if (topic !== undefined && !topic.internal) return topicConfigJson(state, topic);
  if (name === AUTO_CREATE_TOPIC && state.broker.config.autoCreateTopics) {
    return topicConfigJson(state, { name, partitions: state.defaultQueues }, PERM_READ | PERM_WRITE | PERM_INHERIT);
  }
  return undefined;
}

export function allTopicConfigs(state: RocketmqState): Record<string, TopicConfigJson> {
  const table: Record<string, TopicConfigJson> = {};
  const names: string[] = [];
  for (const topic of state.broker.topics.list()) if (!topic.internal) names.push(topic.name);
  if (state.broker.config.autoCreateTopics) names.push(AUTO_CREATE_TOPIC);
  for (const name of names.sort()) table[name] = findTopicConfig(state, name)!;
  return table;
}

export const getAllTopicConfig: RocketmqHandler = {
  codes: [RequestCode.GET_ALL_TOPIC_CONFIG],
  name: 'GET_ALL_TOPIC_CONFIG',
  handle(ctx) {
    const table = allTopicConfigs(ctx.state);
    return {
      code: ResponseCode.SUCCESS,
      body: fastjsonBody({
        dataVersion: dataVersion(ctx.state, Object.keys(table).length),
        mappingDataVersion: dataVersion(ctx.state, 0),
        topicConfigTable: table,
        topicQueueMappingDetailMap: {},
        topicQueueMappingInfoMap: {},
      }),
    };
  },
};

export const getTopicConfig: RocketmqHandler = {
  codes: [RequestCode.GET_TOPIC_CONFIG],
  name: 'GET_TOPIC_CONFIG',
  handle(ctx, request) {
    const name = requireString(request, 'topic');
    const config = findTopicConfig(ctx.state, name);
    if (config === undefined) return { code: ResponseCode.TOPIC_NOT_EXIST, remark: `No topic in this broker. topic: ${name}` };
    return { code: ResponseCode.SUCCESS, body: fastjsonBody(config) };
  },
};
