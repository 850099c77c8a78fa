// HEART_BEAT (34), UNREGISTER_CLIENT (35), GET_CONSUMER_LIST_BY_GROUP (38) and
// CHECK_CLIENT_CONFIG (46) — rocketmq-remoting.md §9, §12.2. A heartbeat
// registers the client's consumer and producer groups; clustering consumer
// groups get their `%RETRY%<group>` topic (1 queue) as a Java broker creates it.

import { RequestCode, ResponseCode } from '../../protocol/rocketmq/index.ts';
import type { HeartbeatData } from '../clients.ts';
import { RETRY_PREFIX } from '../state.ts';
import { compileFilter } from '../subscription.ts';
import { HeaderError, isObject, json, jsonObjectBody, optionalString, requireString, type RocketmqHandler } from './types.ts';

/** An optional list: absent (or null) or an array of JSON objects. */
function objectList(value: unknown, what: string): void {
  if (value === undefined || value === null) return;
  if (!Array.isArray(value) || !value.every(isObject)) throw new HeaderError(`HEART_BEAT ${what} is not a list of objects`);
}

function optionalText(value: unknown, what: string): void {
  if (value !== undefined && value !== null && typeof value !== 'string') throw new HeaderError(`HEART_BEAT ${what} is not a string`);
}

/** The heartbeat's shape, checked before anything is registered: what the registry reads is where it expects it. */
function checkHeartbeat(data: HeartbeatData): void {
  optionalText(data.clientID, 'clientID');
  objectList(data.consumerDataSet, 'consumerDataSet');
  objectList(data.producerDataSet, 'producerDataSet');
  for (const c of data.consumerDataSet ?? []) {
    objectList(c.subscriptionDataSet, 'subscriptionDataSet');
    for (const s of c.subscriptionDataSet ?? []) {
      optionalText(s.expressionType, 'expressionType');
      optionalText(s.subString, 'subString');
    }
  }
}

export const heartBeat: RocketmqHandler = {
  codes: [RequestCode.HEART_BEAT],
  name: 'HEART_BEAT',
  async handle(ctx, request) {
    const data = jsonObjectBody<HeartbeatData>(request, 'HEART_BEAT');
    checkHeartbeat(data);
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
    const body = jsonObjectBody<{ subscriptionData?: unknown }>(request, 'CHECK_CLIENT_CONFIG');
    const sub: unknown = body.subscriptionData;
    if (sub === undefined || sub === null) return { code: ResponseCode.SUCCESS };
    if (!isObject(sub)) throw new HeaderError('CHECK_CLIENT_CONFIG subscriptionData is not an object');
    const expressionType = sub['expressionType'] ?? undefined;
    const subString = sub['subString'] ?? undefined;
    if (!['string', 'undefined'].includes(typeof expressionType) || !['string', 'undefined'].includes(typeof subString)) {
      throw new HeaderError('CHECK_CLIENT_CONFIG subscriptionData expressionType and subString must be strings');
    }
    // Throws SubscriptionParseError → SUBSCRIPTION_PARSE_FAILED (23) with the reason.
    compileFilter(expressionType as string | undefined, subString as string | undefined);
    return { code: ResponseCode.SUCCESS };
  },
};
