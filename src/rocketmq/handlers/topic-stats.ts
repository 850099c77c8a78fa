// GET_TOPIC_STATS_INFO (202) — rocketmq-remoting.md §3.4, §13 (mqadmin
// topicStatus). A TopicStatsTable whose offsetTable is keyed by MessageQueue
// objects (fastjson's object keys): per queue minOffset, maxOffset (the next
// offset to be written) and lastUpdateTimestamp = store time of the last
// message (0 when the queue holds none). topicPutTps is 0.0: Diglot keeps no
// per-topic rate. Unknown or internal topics → 17.

import { RequestCode, ResponseCode } from '../../protocol/rocketmq/index.ts';
import type { Topic } from '../../broker/topics.ts';
import { fastjsonBody, JavaDouble, messageQueue, ObjectKeyedMap } from '../admin-bodies.ts';
import { AUTO_CREATE_TOPIC, type RocketmqState } from '../state.ts';
import { timestampAt } from './queue-offsets.ts';
import { requireString, type RocketmqHandler } from './types.ts';

export interface QueueOffsets {
  minOffset: number;
  maxOffset: number;
  /** Store time of the message at maxOffset − 1, 0 when there is none. */
  lastUpdateTimestamp: number;
}

export function queueOffsets(state: RocketmqState, topic: Topic, queueId: number): QueueOffsets {
  const log = state.broker.topics.partitionLog(topic, queueId);
  const min = log.logStartOffset;
  const max = log.logEndOffset;
  const last = max > min ? (timestampAt(log, max - 1) ?? 0) : 0;
  return { minOffset: min, maxOffset: max, lastUpdateTimestamp: last };
}

export const getTopicStatsInfo: RocketmqHandler = {
  codes: [RequestCode.GET_TOPIC_STATS_INFO],
  name: 'GET_TOPIC_STATS_INFO',
  handle(ctx, request) {
    const name = requireString(request, 'topic');
    const { state } = ctx;
    const topic = state.broker.topics.get(name);
    const entries: Array<[object, unknown]> = [];
    if (topic !== undefined && !topic.internal) {
      for (let q = 0; q < topic.partitions; q++) {
        const o = queueOffsets(state, topic, q);
        // fastjson writes TopicOffset's fields alphabetically.
        entries.push([messageQueue(name, state.brokerName, q), { lastUpdateTimestamp: o.lastUpdateTimestamp, maxOffset: o.maxOffset, minOffset: o.minOffset }]);
      }
    } else if (name === AUTO_CREATE_TOPIC && state.broker.config.autoCreateTopics) {
      for (let q = 0; q < state.defaultQueues; q++) entries.push([messageQueue(name, state.brokerName, q), { lastUpdateTimestamp: 0, maxOffset: 0, minOffset: 0 }]);
    } else {
      return { code: ResponseCode.TOPIC_NOT_EXIST, remark: `topic[${name}] not exist` };
    }
    return { code: ResponseCode.SUCCESS, body: fastjsonBody({ offsetTable: new ObjectKeyedMap(entries), topicPutTps: new JavaDouble(0) }) };
  },
};
