// GET_CONSUMER_CONNECTION_LIST (203) and GET_PRODUCER_CONNECTION_LIST (204) —
// rocketmq-remoting.md §3.4, §13 (mqadmin consumerConnection,
// producerConnection, consumerProgress, queryMsgById's message track). From
// the clients registered by heartbeats (clients.ts): per member its socket
// address (clientAddr), clientId, language and version; for consumers also
// the group's consumeType, messageModel, consumeFromWhere and subscriptions
// (SubscriptionData by topic). A consumer group with no live member → 206
// CONSUMER_NOT_ONLINE; an unknown producer group → 1, as the Java broker.

import { RequestCode, ResponseCode } from '../../protocol/rocketmq/index.ts';
import type { ClientEntry, Subscription } from '../clients.ts';
import { fastjsonBody } from '../admin-bodies.ts';
import { requireString, type RocketmqHandler } from './types.ts';

/** Connection as fastjson writes it (fields alphabetical). */
export function connectionJson(entry: ClientEntry): object {
  return { clientAddr: entry.channel.remote, clientId: entry.clientId, language: entry.language, version: entry.version };
}

/** SubscriptionData as fastjson writes it. */
export function subscriptionJson(s: Subscription): object {
  return {
    classFilterMode: false,
    codeSet: s.codeSet,
    expressionType: s.expressionType,
    subString: s.subString,
    subVersion: s.subVersion,
    tagsSet: s.tagsSet,
    topic: s.topic,
  };
}

/** An enum-valued field: omitted when a heartbeat did not say (Java would write null). */
function enumValue(value: string): string | undefined {
  return value === '' ? undefined : value;
}

export const getConsumerConnectionList: RocketmqHandler = {
  codes: [RequestCode.GET_CONSUMER_CONNECTION_LIST],
  name: 'GET_CONSUMER_CONNECTION_LIST',
  handle(ctx, request) {
    const groupName = requireString(request, 'consumerGroup');
    const group = ctx.state.clients.consumers.get(groupName);
    const members = [...(group?.clients.values() ?? [])].filter((e) => !e.channel.closed);
    if (group === undefined || members.length === 0) return { code: ResponseCode.CONSUMER_NOT_ONLINE, remark: `the consumer group[${groupName}] not online` };
    const subscriptionTable: Record<string, object> = {};
    for (const s of [...group.subscriptions.values()].sort((a, b) => (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : 0))) subscriptionTable[s.topic] = subscriptionJson(s);
    return {
      code: ResponseCode.SUCCESS,
      body: fastjsonBody({
        connectionSet: members.map(connectionJson),
        consumeFromWhere: enumValue(group.consumeFromWhere),
        consumeType: enumValue(group.consumeType),
        messageModel: enumValue(group.messageModel),
        subscriptionTable,
      }),
    };
  },
};

export const getProducerConnectionList: RocketmqHandler = {
  codes: [RequestCode.GET_PRODUCER_CONNECTION_LIST],
  name: 'GET_PRODUCER_CONNECTION_LIST',
  handle(ctx, request) {
    const groupName = requireString(request, 'producerGroup');
    const members = ctx.state.clients.producers.get(groupName);
    if (members === undefined) return { code: ResponseCode.SYSTEM_ERROR, remark: `the producer group[${groupName}] not exist` };
    return { code: ResponseCode.SUCCESS, body: fastjsonBody({ connectionSet: [...members.values()].filter((e) => !e.channel.closed).map(connectionJson) }) };
  },
};
