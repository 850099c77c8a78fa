// HEART_BEAT (34), UNREGISTER_CLIENT (35), GET_CONSUMER_LIST_BY_GROUP (38) and
// CHECK_CLIENT_CONFIG (46) — rocketmq-remoting.md §9, §12.2. A heartbeat
// registers the client's consumer and producer groups; clustering consumer
// groups get their `%RETRY%<group>` topic (1 queue) as a Java broker creates it.

import { RequestCode, ResponseCode } from '../../protocol/rocketmq/index.ts';
import type { HeartbeatData } from '../clients.ts';
import { RETRY_PREFIX } from '../state.ts';
import { compileFilter } from '../subscription.ts';
import { json, jsonBody, optionalString, requireString, type RocketmqHandler } from './types.ts';

export const heartBeat: RocketmqHandler = {
  codes: [RequestCode.HEART_BEAT],
  name: 'HEART_BEAT',
  async handle(ctx, request) {
    const data = jsonBody<HeartbeatData>(request, 'HEART_BEAT');
    const groups = ctx.state.clients.heartbeat(ctx.connection, data, request.language, request.version);
    for (const group of groups) {
      ctx.state.subscriptionGroup(group.groupName);
      if (group.messageModel !== 'BROADCASTING') await ctx.state.ensureTopic(RETRY_PREFIX + group.groupName, 1, true);
    }
    // No IS_SUPPORT_HEART_BEAT_V2: clients keep sending full subscriptions.
    return { code: ResponseCode.SUCCESS, extFields: {} };
  },
};

export const unregisterClient: RocketmqHandler = {
  codes: [RequestCode.UNREGISTER_CLIENT],
  name: 'UNREGISTER_CLIENT',
  handle(ctx, request) {
    const clientId = requireString(request, 'clientID');
    ctx.state.clients.unregister(clientId, optionalString(request, 'producerGroup'), optionalString(request, 'consumerGroup'));
    return { code: ResponseCode.SUCCESS };
  },
};

export const getConsumerListByGroup: RocketmqHandler = {
  codes: [RequestCode.GET_CONSUMER_LIST_BY_GROUP],
  name: 'GET_CONSUMER_LIST_BY_GROUP',
  handle(ctx, request) {
    const group = requireString(request, 'consumerGroup');
    const ids = ctx.state.clients.consumerIds(group);
    if (ids.length === 0) return { code: ResponseCode.SYSTEM_ERROR, remark: `no consumer for this group, ${group}` };
    return { code: ResponseCode.SUCCESS, body: json({ consumerIdList: ids }) };
  },
};

export const checkClientConfig: RocketmqHandler = {
  codes: [RequestCode.CHECK_CLIENT_CONFIG],
  name: 'CHECK_CLIENT_CONFIG',
  handle(_ctx, request) {
    const body = jsonBody<{ subscriptionData?: { expressionType?: string; subString?: string } }>(request, 'CHECK_CLIENT_CONFIG');
    const sub = body.subscriptionData;
    // Throws SubscriptionParseError → SUBSCRIPTION_PARSE_FAILED (23) with the reason.
    if (sub !== undefined) compileFilter(sub.expressionType, sub.subString);
    return { code: ResponseCode.SUCCESS };
  },
};
