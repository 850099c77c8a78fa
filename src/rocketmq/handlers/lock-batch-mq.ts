// LOCK_BATCH_MQ (41) and UNLOCK_BATCH_MQ (42) — rocketmq-remoting.md §9.4:
// orderly consumers lock their queues per group; locks expire 60 s after the
// last renewal (locks.ts).

import { RequestCode, ResponseCode } from '../../protocol/rocketmq/index.ts';
import type { QueueRef } from '../locks.ts';
import { HeaderError, isObject, json, jsonObjectBody, type RocketmqHandler } from './types.ts';

interface LockBody {
  clientId?: string;
  consumerGroup?: string;
  mqSet?: Array<{ topic?: string; brokerName?: string; queueId?: number | string }>;
}

const QUEUES_PER_REQUEST_MAX = 100_000;

function parse(body: LockBody): { group: string; clientId: string; queues: QueueRef[] } {
  if (typeof body.consumerGroup !== 'string' || body.consumerGroup === '') throw new HeaderError('lock body needs consumerGroup');
  if (typeof body.clientId !== 'string' || body.clientId === '') throw new HeaderError('lock body needs clientId');
  const set = Array.isArray(body.mqSet) ? body.mqSet : [];
  if (set.length > QUEUES_PER_REQUEST_MAX) throw new HeaderError(`lock body names more than ${QUEUES_PER_REQUEST_MAX} queues`);
  const queues: QueueRef[] = [];
  for (const mq of set) {
    if (!isObject(mq)) throw new HeaderError('lock body mqSet entries need topic and queueId');
    const queueId = Number(mq.queueId);
    if (typeof mq.topic !== 'string' || !Number.isInteger(queueId)) throw new HeaderError('lock body mqSet entries need topic and queueId');
    queues.push({ topic: mq.topic, brokerName: String(mq.brokerName ?? ''), queueId });
  }
  return { group: body.consumerGroup, clientId: body.clientId, queues };
}

export const lockBatchMq: RocketmqHandler = {
  codes: [RequestCode.LOCK_BATCH_MQ],
  name: 'LOCK_BATCH_MQ',
  handle(ctx, request) {
    const { group, clientId, queues } = parse(jsonObjectBody<LockBody>(request, 'LOCK_BATCH_MQ'));
    const granted = ctx.state.locks.lock(group, clientId, queues);
    return { code: ResponseCode.SUCCESS, body: json({ lockOKMQSet: granted.map((q) => ({ brokerName: q.brokerName, queueId: q.queueId, topic: q.topic })) }) };
  },
};

export const unlockBatchMq: RocketmqHandler = {
  codes: [RequestCode.UNLOCK_BATCH_MQ],
  name: 'UNLOCK_BATCH_MQ',
  handle(ctx, request) {
    const { group, clientId, queues } = parse(jsonObjectBody<LockBody>(request, 'UNLOCK_BATCH_MQ'));
    ctx.state.locks.unlock(group, clientId, queues);
    return { code: ResponseCode.SUCCESS };
  },
};
