// Subscription groups — rocketmq-remoting.md §3.4, §13 (mqadmin updateSubGroup,
// deleteSubGroup, getConsumerConfig; dashboards):
// UPDATE_AND_CREATE_SUBSCRIPTIONGROUP (200) stores the body's
// SubscriptionGroupConfig in `state.subscriptionGroups` (where the send and
// send-back handlers read retryMaxTimes); fields it omits keep their defaults,
// fields Diglot does not use (groupRetryPolicy, attributes...) are kept and
// shown back. GET_ALL_SUBSCRIPTIONGROUP_CONFIG (201) lists them (the Java
// SubscriptionGroupManager's JSON); GET_SUBSCRIPTIONGROUP_CONFIG (352) shows
// one — a group known only from live consumers or committed offsets gets its
// defaults, as a Java broker auto-creates it; an unknown one → 26
// SUBSCRIPTION_GROUP_NOT_EXIST. DELETE_SUBSCRIPTIONGROUP (207) forgets the
// config and, with cleanOffset=true, the group's committed offsets (shared
// with a Kafka group of the same name). Configs set here are stored durably
// (the broker's protocol state log) and survive restarts.

import { RequestCode, ResponseCode } from '../../protocol/rocketmq/index.ts';
import { dataVersion, fastjsonBody } from '../admin-bodies.ts';
import { defaultSubscriptionGroup, type RocketmqState, type SubscriptionGroupConfig } from '../state.ts';
import { jsonBody, optionalBool, requireString, type RocketmqHandler } from './types.ts';

/** Subscription groups held at most (each is a small object; heartbeats are bounded likewise). */
export const SUBSCRIPTION_GROUPS_MAX = 100_000;
const GROUP_NAME_MAX = 255;

const BOOLEAN_FIELDS = ['consumeEnable', 'consumeFromMinEnable', 'consumeBroadcastEnable', 'consumeMessageOrderly', 'notifyConsumerIdsChangedEnable'] as const;
const INTEGER_FIELDS = ['retryQueueNums', 'retryMaxTimes', 'brokerId', 'whichBrokerWhenConsumeSlowly', 'groupSysFlag', 'consumeTimeoutMinute'] as const;

/** The config as fastjson writes it: keys in alphabetical order. */
export function subscriptionGroupJson(config: SubscriptionGroupConfig): Record<string, unknown> {
  const withDefaults: Record<string, unknown> = { attributes: {}, groupRetryPolicy: { type: 'CUSTOMIZED' }, ...config };
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(withDefaults).sort()) out[key] = withDefaults[key];
  return out;
}

/** Builds a config from a request body, or a reason it is not acceptable. */
export function parseSubscriptionGroup(state: RocketmqState, raw: unknown): SubscriptionGroupConfig | string {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) return 'the body is not a SubscriptionGroupConfig object';
  const body = raw as Record<string, unknown>;
  const name = body['groupName'];
  if (typeof name !== 'string' || name.trim() === '') return 'the SubscriptionGroupConfig has no groupName';
  if (name.length > GROUP_NAME_MAX || !/^[%|a-zA-Z0-9_-]+$/.test(name)) return `the group name ${JSON.stringify(name)} is not legal: at most ${GROUP_NAME_MAX} characters of ^[%|a-zA-Z0-9_-]+$`;
  // Fields not understood are kept as sent (shown back by 201/352).
  const config: Record<string, unknown> = { ...defaultSubscriptionGroup(name, state.maxReconsumeTimes) };
  for (const [key, value] of Object.entries(body)) {
    if (key === 'groupName') continue;
    if ((BOOLEAN_FIELDS as readonly string[]).includes(key)) {
      if (typeof value !== 'boolean') return `${key} must be a boolean`;
      config[key] = value;
    } else if ((INTEGER_FIELDS as readonly string[]).includes(key)) {
      if (typeof value !== 'number' || !Number.isSafeInteger(value)) return `${key} must be an integer`;
      config[key] = value;
    } else if (value !== null && value !== undefined) {
      config[key] = value;
    }
  }
  const c = config as unknown as SubscriptionGroupConfig;
  if (c.retryQueueNums < 0 || c.retryQueueNums > 1024) return `retryQueueNums must be in [0, 1024], got ${c.retryQueueNums}`;
  if (c.retryMaxTimes < -1) return `retryMaxTimes must be >= -1, got ${c.retryMaxTimes}`;
  return c;
}

export const updateAndCreateSubscriptionGroup: RocketmqHandler = {
  codes: [RequestCode.UPDATE_AND_CREATE_SUBSCRIPTIONGROUP],
  name: 'UPDATE_AND_CREATE_SUBSCRIPTIONGROUP',
  async handle(ctx, request) {
    const parsed = parseSubscriptionGroup(ctx.state, jsonBody<unknown>(request, 'UPDATE_AND_CREATE_SUBSCRIPTIONGROUP'));
    if (typeof parsed === 'string') return { code: ResponseCode.INVALID_PARAMETER, remark: parsed };
    const groups = ctx.state.subscriptionGroups;
    if (!groups.has(parsed.groupName) && groups.size >= SUBSCRIPTION_GROUPS_MAX) {
      return { code: ResponseCode.SYSTEM_ERROR, remark: `${SUBSCRIPTION_GROUPS_MAX} subscription groups exist already` };
    }
    await ctx.state.saveSubscriptionGroup(parsed);
    ctx.logger.info({ group: parsed.groupName, retryMaxTimes: parsed.retryMaxTimes }, 'rocketmq admin updated subscription group');
    return { code: ResponseCode.SUCCESS };
  },
};

export const getAllSubscriptionGroupConfig: RocketmqHandler = {
  codes: [RequestCode.GET_ALL_SUBSCRIPTIONGROUP_CONFIG],
  name: 'GET_ALL_SUBSCRIPTIONGROUP_CONFIG',
  handle(ctx) {
    const groups = ctx.state.subscriptionGroups;
    const table: Record<string, unknown> = {};
    for (const name of [...groups.keys()].sort()) table[name] = subscriptionGroupJson(groups.get(name)!);
    return {
      code: ResponseCode.SUCCESS,
      body: fastjsonBody({ dataVersion: dataVersion(ctx.state, groups.size), forbiddenTable: {}, subscriptionGroupTable: table }),
    };
  },
};

/** Whether anything but a stored config knows the group: live consumers or committed offsets. */
function groupInUse(state: RocketmqState, group: string): boolean {
  if ((state.clients.consumers.get(group)?.clients.size ?? 0) > 0) return true;
  return state.broker.offsets.forGroup(group).size > 0;
}

export const getSubscriptionGroupConfig: RocketmqHandler = {
  codes: [RequestCode.GET_SUBSCRIPTIONGROUP_CONFIG],
  name: 'GET_SUBSCRIPTIONGROUP_CONFIG',
  handle(ctx, request) {
    const group = requireString(request, 'group');
    let config = ctx.state.subscriptionGroups.get(group);
    if (config === undefined && groupInUse(ctx.state, group)) config = ctx.state.subscriptionGroup(group);
    if (config === undefined) return { code: ResponseCode.SUBSCRIPTION_GROUP_NOT_EXIST, remark: 'No group in this broker' };
    return { code: ResponseCode.SUCCESS, body: fastjsonBody(subscriptionGroupJson(config)) };
  },
};

export const deleteSubscriptionGroup: RocketmqHandler = {
  codes: [RequestCode.DELETE_SUBSCRIPTIONGROUP],
  name: 'DELETE_SUBSCRIPTIONGROUP',
  async handle(ctx, request) {
    const group = requireString(request, 'groupName');
    const cleanOffset = optionalBool(request, 'cleanOffset', false);
    await ctx.state.deleteSubscriptionGroup(group);
    if (cleanOffset) await ctx.state.broker.offsets.delete(group, null);
    ctx.logger.info({ group, cleanOffset }, 'rocketmq admin deleted subscription group');
    return { code: ResponseCode.SUCCESS };
  },
};
