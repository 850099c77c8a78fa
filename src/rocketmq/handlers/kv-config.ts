// Name server KV config (rocketmq-remoting.md §3.1): PUT_KV_CONFIG (100),
// GET_KV_CONFIG (101), DELETE_KV_CONFIG (102), GET_KVLIST_BY_NAMESPACE (219).
// mqadmin `updateTopic -o true` stores ORDER_TOPIC_CONFIG here. Bounded; durable
// (the broker's protocol state log), as a name server's kvConfig.json.

import { RequestCode, ResponseCode } from '../../protocol/rocketmq/index.ts';
import { json, requireString, type RocketmqHandler } from './types.ts';

const ENTRIES_MAX = 100_000;

export const putKvConfig: RocketmqHandler = {
  codes: [RequestCode.PUT_KV_CONFIG],
  name: 'PUT_KV_CONFIG',
  async handle(ctx, request) {
    const namespace = requireString(request, 'namespace');
    const key = requireString(request, 'key');
    const value = requireString(request, 'value');
    const table = ctx.state.kv.get(namespace);
    let total = 0;
    for (const t of ctx.state.kv.values()) total += t.size;
    if (total >= ENTRIES_MAX && table?.has(key) !== true) return { code: ResponseCode.SYSTEM_ERROR, remark: `KV config holds ${ENTRIES_MAX} entries already` };
    await ctx.state.putKv(namespace, key, value);
    return { code: ResponseCode.SUCCESS };
  },
};

export const getKvConfig: RocketmqHandler = {
  codes: [RequestCode.GET_KV_CONFIG],
  name: 'GET_KV_CONFIG',
  handle(ctx, request) {
    const namespace = requireString(request, 'namespace');
    const key = requireString(request, 'key');
    const value = ctx.state.kv.get(namespace)?.get(key);
    if (value === undefined) return { code: ResponseCode.QUERY_NOT_FOUND, remark: `No config item, Namespace: ${namespace} Key: ${key}` };
    return { code: ResponseCode.SUCCESS, extFields: { value } };
  },
};

export const deleteKvConfig: RocketmqHandler = {
  codes: [RequestCode.DELETE_KV_CONFIG],
  name: 'DELETE_KV_CONFIG',
  async handle(ctx, request) {
    const namespace = requireString(request, 'namespace');
    const key = requireString(request, 'key');
    await ctx.state.deleteKv(namespace, key);
    return { code: ResponseCode.SUCCESS };
  },
};

export const getKvListByNamespace: RocketmqHandler = {
  codes: [RequestCode.GET_KVLIST_BY_NAMESPACE],
  name: 'GET_KVLIST_BY_NAMESPACE',
  handle(ctx, request) {
    const namespace = requireString(request, 'namespace');
    const table = ctx.state.kv.get(namespace);
    if (table === undefined || table.size === 0) return { code: ResponseCode.QUERY_NOT_FOUND, remark: `No config item, Namespace: ${namespace}` };
    return { code: ResponseCode.SUCCESS, body: json({ table: Object.fromEntries(table) }) };
  },
};
