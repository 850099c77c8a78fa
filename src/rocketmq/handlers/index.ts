// The RocketMQ handler table: every request code served, one entry per code.
// Codes not listed are answered REQUEST_CODE_NOT_SUPPORTED by the connection.

import { addWritePermOfBroker, getBrokerConfig, getBrokerRuntimeInfo, updateBrokerConfig, wipeWritePermOfBroker } from './broker-info.ts';
import { getBrokerClusterInfo } from './cluster-info.ts';
import { getConsumerConnectionList, getProducerConnectionList } from './connections.ts';
import { queryTopicConsumeByWho, queryTopicsByConsumer } from './consumed-by.ts';
import { getBrokerConsumeStats, getConsumeStats } from './consume-stats.ts';
import { queryConsumerOffset, updateConsumerOffset } from './consumer-offsets.ts';
import { consumerSendMsgBack } from './consumer-send-msg-back.ts';
import { deleteTopicInBroker, deleteTopicInNamesrv } from './delete-topic.ts';
import { checkClientConfig, getConsumerListByGroup, heartBeat, unregisterClient } from './heartbeat.ts';
import { deleteKvConfig, getKvConfig, getKvListByNamespace, putKvConfig } from './kv-config.ts';
import { lockBatchMq, unlockBatchMq } from './lock-batch-mq.ts';
import { pullMessage } from './pull-message.ts';
import { queryMessage } from './query-message.ts';
import { getEarliestMsgStoretime, getMaxOffset, getMinOffset, searchOffsetByTimestamp } from './queue-offsets.ts';
import { invokeBrokerToResetOffset } from './reset-offset.ts';
import { getRouteInfoByTopic } from './route.ts';
import { sendMessage } from './send-message.ts';
import { deleteSubscriptionGroup, getAllSubscriptionGroupConfig, getSubscriptionGroupConfig, updateAndCreateSubscriptionGroup } from './subscription-groups.ts';
import { getAllTopicConfig, getTopicConfig } from './topic-config.ts';
import { getAllTopicList, getSystemTopicList, getTopicsByCluster } from './topic-lists.ts';
import { getTopicStatsInfo } from './topic-stats.ts';
import type { RocketmqHandler } from './types.ts';
import { updateAndCreateTopic, updateAndCreateTopicList } from './update-topic.ts';
import { viewMessageById } from './view-message.ts';

export const HANDLERS: readonly RocketmqHandler[] = [
  // name server
  getRouteInfoByTopic,
  getBrokerClusterInfo,
  getAllTopicList,
  getTopicsByCluster,
  getSystemTopicList,
  putKvConfig,
  getKvConfig,
  deleteKvConfig,
  getKvListByNamespace,
  // broker: produce and consume
  sendMessage,
  pullMessage,
  heartBeat,
  unregisterClient,
  getConsumerListByGroup,
  checkClientConfig,
  queryConsumerOffset,
  updateConsumerOffset,
  getMaxOffset,
  getMinOffset,
  searchOffsetByTimestamp,
  getEarliestMsgStoretime,
  lockBatchMq,
  unlockBatchMq,
  consumerSendMsgBack,
  viewMessageById,
  queryMessage,
  // admin (mqadmin, dashboards): topics
  updateAndCreateTopic,
  updateAndCreateTopicList,
  deleteTopicInBroker,
  deleteTopicInNamesrv,
  getAllTopicConfig,
  getTopicConfig,
  getTopicStatsInfo,
  // admin: consumers, producers and groups
  getConsumeStats,
  getBrokerConsumeStats,
  getConsumerConnectionList,
  getProducerConnectionList,
  updateAndCreateSubscriptionGroup,
  getAllSubscriptionGroupConfig,
  getSubscriptionGroupConfig,
  deleteSubscriptionGroup,
  queryTopicConsumeByWho,
  queryTopicsByConsumer,
  invokeBrokerToResetOffset,
  // admin: broker
  getBrokerRuntimeInfo,
  getBrokerConfig,
  updateBrokerConfig,
  wipeWritePermOfBroker,
  addWritePermOfBroker,
];

export function buildHandlerTable(extra: readonly RocketmqHandler[] = []): Map<number, RocketmqHandler> {
  const table = new Map<number, RocketmqHandler>();
  for (const handler of [...HANDLERS, ...extra]) {
    for (const code of handler.codes) {
      if (table.has(code)) throw new Error(`request code ${code} served twice (${table.get(code)!.name}, ${handler.name})`);
      table.set(code, handler);
    }
  }
  return table;
}
