// INVOKE_BROKER_TO_RESET_OFFSET (222) — rocketmq-remoting.md §3.3, §3.4, §13
// (mqadmin resetOffsetByTime; a 5.x broker resets "server side" by default).
//
// For each queue of the topic (or only `queueId` when ≥ 0) the new offset is
// the `offset` header when given for that queue (must lie in [min, max]),
// else the first offset whose store time is ≥ `timestamp` (the end when none;
// timestamp < 0 means the end). With isForce=false a queue only moves back
// (the offset stays where the group already is if that is earlier), as the
// Java Broker2Client reset did; mqadmin sends isForce=true. The offsets are
// committed to the one offset store (Kafka groups of the same name follow),
// then every live consumer of the group gets RESET_CONSUMER_CLIENT_OFFSET
// (220, oneway; ext topic, group, timestamp, isForce; body ResetOffsetBody)
// so it drops its in-memory positions instead of committing them over the
// reset. Reply: ResetOffsetBody `{"offsetTable":{{mq}:offset}}` (object keys).
// Unknown topic → 17; a group nobody knows (no config, consumer or
// committed offset) → 26; bad queue or offset → 29.

import type { Topic } from '../../broker/topics.ts';
import { RequestCode, ResponseCode } from '../../protocol/rocketmq/index.ts';
import { fastjsonBody, messageQueue, ObjectKeyedMap } from '../admin-bodies.ts';
import { RocketmqConnection } from '../connection.ts';
import type { RocketmqState } from '../state.ts';
import { optionalBool, optionalInt, optionalString, requireLong, requireString, type Reply, type RocketmqHandler } from './types.ts';

/** Queue offset for a reset to `timestamp` ms: first stored at or after it, the end if none (or when timestamp < 0). */
export function offsetForResetTime(state: RocketmqState, topic: Topic, queueId: number, timestamp: number): number {
  const log = state.broker.topics.partitionLog(topic, queueId);
  if (timestamp < 0) return log.logEndOffset;
  const found = log.offsetForTimestamp(timestamp);
  return found === null ? log.logEndOffset : Math.max(found.offset, log.logStartOffset);
}

export function groupKnown(state: RocketmqState, group: string): boolean {
  return state.subscriptionGroups.has(group) || (state.clients.consumers.get(group)?.clients.size ?? 0) > 0 || state.broker.offsets.forGroup(group).size > 0;
}

export const invokeBrokerToResetOffset: RocketmqHandler = {
  codes: [RequestCode.INVOKE_BROKER_TO_RESET_OFFSET],
  name: 'INVOKE_BROKER_TO_RESET_OFFSET',
  async handle(ctx, request): Promise<Reply> {
    const { state } = ctx;
    const topicName = requireString(request, 'topic');
    const group = requireString(request, 'group');
    const timestamp = requireLong(request, 'timestamp');
    const isForce = optionalBool(request, 'isForce', true);
    const queueId = optionalInt(request, 'queueId', -1);
    const offsetText = optionalString(request, 'offset');
    const topic = state.broker.topics.get(topicName);
    if (topic === undefined || topic.internal) return { code: ResponseCode.TOPIC_NOT_EXIST, remark: `Topic ${topicName} does not exist` };
    if (!groupKnown(state, group)) return { code: ResponseCode.SUBSCRIPTION_GROUP_NOT_EXIST, remark: `Group ${group} does not exist` };
    if (queueId >= topic.partitions) return { code: ResponseCode.INVALID_PARAMETER, remark: `queueId ${queueId} is illegal: topic ${topicName} has ${topic.partitions} queues` };

    const targets = new Map<number, number>();
    if (queueId >= 0) {
      const explicit = offsetText === undefined || offsetText === '' ? -1 : Number(offsetText);
      if (!Number.isSafeInteger(explicit)) return { code: ResponseCode.INVALID_PARAMETER, remark: `offset ${JSON.stringify(offsetText)} is not a long` };
      if (explicit !== -1) {
        const log = state.broker.topics.partitionLog(topic, queueId);
        if (explicit < log.logStartOffset || explicit > log.logEndOffset) {
          return { code: ResponseCode.INVALID_PARAMETER, remark: `Target offset ${explicit} not in consume queue range [${log.logStartOffset}-${log.logEndOffset}]` };
        }
        targets.set(queueId, explicit);
      } else {
        targets.set(queueId, offsetForResetTime(state, topic, queueId, timestamp));
      }
    } else {
      for (let q = 0; q < topic.partitions; q++) targets.set(q, offsetForResetTime(state, topic, q, timestamp));
    }
    if (!isForce) {
      for (const [q, offset] of targets) {
        const current = state.broker.offsets.get(group, topicName, q)?.offset;
        if (current !== undefined && current < offset) targets.set(q, current);
      }
    }

    await state.broker.offsets.commit(
      group,
      [...targets].map(([partition, offset]) => ({ topic: topicName, partition, offset, leaderEpoch: -1, metadata: null })),
    );
    const table = new ObjectKeyedMap([...targets].sort((a, b) => a[0] - b[0]).map(([q, offset]) => [messageQueue(topicName, state.brokerName, q), offset] as const));
    const body = fastjsonBody({ offsetTable: table });
    let pushed = 0;
    for (const entry of state.clients.consumers.get(group)?.clients.values() ?? []) {
      if (entry.channel.closed || !(entry.channel instanceof RocketmqConnection)) continue;
      entry.channel.sendOneway(RequestCode.RESET_CONSUMER_CLIENT_OFFSET, { topic: topicName, group, timestamp: String(timestamp), isForce: String(isForce) }, body);
      pushed++;
    }
    ctx.logger.info({ topic: topicName, group, timestamp, queues: targets.size, consumersTold: pushed }, 'rocketmq admin reset offsets');
    return { code: ResponseCode.SUCCESS, body };
  },
};
