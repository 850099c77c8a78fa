// The RocketMQ handler table: every request code served, one entry per code.
// Codes not listed are answered REQUEST_CODE_NOT_SUPPORTED by the connection.

import { getBrokerClusterInfo } from './cluster-info.ts';
import { queryConsumerOffset, updateConsumerOffset } from './consumer-offsets.ts';
import { consumerSendMsgBack } from './consumer-send-msg-back.ts';
import { checkClientConfig, getConsumerListByGroup, heartBeat, unregisterClient } from './heartbeat.ts';
import { deleteKvConfig, getKvConfig, getKvListByNamespace, putKvConfig } from './kv-config.ts';
import { lockBatchMq, unlockBatchMq } from './lock-batch-mq.ts';
import { pullMessage } from './pull-message.ts';
import { getEarliestMsgStoretime, getMaxOffset, getMinOffset, searchOffsetByTimestamp } from './queue-offsets.ts';
import { getRouteInfoByTopic } from './route.ts';
import { sendMessage } from './send-message.ts';
import { getAllTopicList, getSystemTopicList, getTopicsByCluster } from './topic-lists.ts';
import type { RocketmqHandler } from './types.ts';
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
