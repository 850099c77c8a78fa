// QUERY_CONSUMER_OFFSET (14) and UPDATE_CONSUMER_OFFSET (15) —
// rocketmq-remoting.md §9.3. Offsets live in the broker's one offset store,
// keyed by (group, topic, queue = partition): a Kafka group of the same name
// shares them (DESIGN.md §2).

import { RequestCode, ResponseCode } from '../../protocol/rocketmq/index.ts';
import { optionalBool, requireInt, requireLong, requireString, type RocketmqHandler } from './types.ts';

export const queryConsumerOffset: RocketmqHandler = {
  codes: [RequestCode.QUERY_CONSUMER_OFFSET],
  name: 'QUERY_CONSUMER_OFFSET',
  handle(ctx, request) {
    const group = requireString(request, 'consumerGroup');
    const topicName = requireString(request, 'topic');
    const queueId = requireInt(request, 'queueId');
    const committed = ctx.state.broker.offsets.get(group, topicName, queueId);
    if (committed !== undefined) return { code: ResponseCode.SUCCESS, extFields: { offset: String(committed.offset) } };
    // Nothing stored: a queue that still holds its first message starts at 0 (the Java
    // broker's "minOffset <= 0 and not swapped out" rule), unless the client said not to.
    const topic = ctx.state.broker.topics.get(topicName);
    if (optionalBool(request, 'setZeroIfNotFound', true) && topic !== undefined && queueId >= 0 && queueId < topic.partitions) {
      if (ctx.state.broker.topics.partitionLog(topic, queueId).logStartOffset === 0) return { code: ResponseCode.SUCCESS, extFields: { offset: '0' } };
    }
    return { code: ResponseCode.QUERY_NOT_FOUND, remark: 'Not found, V3_0_6_SNAPSHOT maybe this group consumer boot first' };
  },
};

export const updateConsumerOffset: RocketmqHandler = {
  codes: [RequestCode.UPDATE_CONSUMER_OFFSET],
  name: 'UPDATE_CONSUMER_OFFSET',
  async handle(ctx, request) {
    const group = requireString(request, 'consumerGroup');
    const topic = requireString(request, 'topic');
    const queueId = requireInt(request, 'queueId');
    const offset = requireLong(request, 'commitOffset');
    if (offset < 0) return { code: ResponseCode.INVALID_PARAMETER, remark: `commitOffset ${offset} is negative` };
    // Offsets only for queues that exist: a client must not grow the offset store with made-up ones.
    const known = ctx.state.broker.topics.get(topic);
    if (known === undefined || known.internal) return { code: ResponseCode.TOPIC_NOT_EXIST, remark: `topic[${topic}] not exist, apply first please!` };
    if (queueId < 0 || queueId >= known.partitions) return { code: ResponseCode.INVALID_PARAMETER, remark: `queueId[${queueId}] is illegal, topic ${topic} has ${known.partitions} queues` };
    await ctx.state.broker.offsets.commit(group, [{ topic, partition: queueId, offset, leaderEpoch: -1, metadata: null }]);
    return { code: ResponseCode.SUCCESS };
  },
};
