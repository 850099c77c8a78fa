// GET_ROUTEINFO_BY_TOPIC (105, name server; rocketmq-remoting.md §4.1-4.3).
// One broker (this node, id 0 = master) serves every queue; queue counts are
// the partition count. TBW102 is served with perm 7 (inherit) while topics
// auto-create, so producers can send to new topics. Unknown topics get 17.

import { RequestCode, ResponseCode } from '../../protocol/rocketmq/index.ts';
import { AUTO_CREATE_TOPIC, PERM_INHERIT, PERM_READ, PERM_WRITE, type RocketmqState } from '../state.ts';
import { json, requireString, type RocketmqHandler } from './types.ts';

export const ORDER_TOPIC_NAMESPACE = 'ORDER_TOPIC_CONFIG';

export function brokerData(state: RocketmqState): object {
  return { brokerAddrs: { '0': state.advertisedAddress }, brokerName: state.brokerName, cluster: state.clusterName, enableActingMaster: false };
}

/** Queue count and perm of a topic as RocketMQ sees it, or undefined when it has no route. */
export function routeQueues(state: RocketmqState, topicName: string): { queues: number; perm: number } | undefined {
  const topic = state.broker.topics.get(topicName);
  if (topic !== undefined && !topic.internal) return { queues: topic.partitions, perm: PERM_READ | PERM_WRITE };
  if (topicName === AUTO_CREATE_TOPIC && state.broker.config.autoCreateTopics) return { queues: state.defaultQueues, perm: PERM_READ | PERM_WRITE | PERM_INHERIT };
  return undefined;
}

export const getRouteInfoByTopic: RocketmqHandler = {
  codes: [RequestCode.GET_ROUTEINFO_BY_TOPIC],
  name: 'GET_ROUTEINFO_BY_TOPIC',
  handle(ctx, request) {
    const topic = requireString(request, 'topic');
    const state = ctx.state;
    const route = routeQueues(state, topic);
    if (route === undefined) return { code: ResponseCode.TOPIC_NOT_EXIST, remark: `No topic route info in name server for the topic: ${topic}` };
    const orderConf = state.kv.get(ORDER_TOPIC_NAMESPACE)?.get(topic);
    return {
      code: ResponseCode.SUCCESS,
      body: json({
        brokerDatas: [brokerData(state)],
        filterServerTable: {},
        ...(orderConf !== undefined ? { orderTopicConf: orderConf } : {}),
        queueDatas: [{ brokerName: state.brokerName, perm: route.perm, readQueueNums: route.queues, topicSysFlag: 0, writeQueueNums: route.queues }],
      }),
    };
  },
};
