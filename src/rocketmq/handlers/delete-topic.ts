// DELETE_TOPIC_IN_BROKER (215) and DELETE_TOPIC_IN_NAMESRV (216) —
// rocketmq-remoting.md §3.1, §3.4 (mqadmin deleteTopic sends 215 to every
// master, then 216 to every name server). 215 deletes the topic with its
// queues and every group's committed offsets for it (broker.deleteTopic, as
// the Java broker's cleanOffsetByTopic); an unknown topic is fine (Java
// answers 0 too). Blank or system topics → 29. (mqadmin removes the topic's
// ORDER_TOPIC_CONFIG KV entry itself, with DELETE_KV_CONFIG.) 216 answers 0: the name server's route is this broker's own
// topic table, which 215 already changed.

import { BrokerError } from '../../broker/errors.ts';
import { RequestCode, ResponseCode } from '../../protocol/rocketmq/index.ts';
import { rocketmqCode } from '../error-codes.ts';
import { adminTopicProblem } from './update-topic.ts';
import { requireString, type RocketmqHandler } from './types.ts';

export const deleteTopicInBroker: RocketmqHandler = {
  codes: [RequestCode.DELETE_TOPIC_IN_BROKER],
  name: 'DELETE_TOPIC_IN_BROKER',
  async handle(ctx, request) {
    const topic = requireString(request, 'topic');
    const problem = adminTopicProblem(topic);
    if (problem !== null) return { code: ResponseCode.INVALID_PARAMETER, remark: problem };
    try {
      await ctx.state.broker.deleteTopic(topic);
      ctx.logger.info({ topic }, 'rocketmq admin deleted topic');
    } catch (err) {
      if (!(err instanceof BrokerError)) throw err;
      if (err.code !== 'UNKNOWN_TOPIC_OR_PARTITION') return { code: rocketmqCode(err.code), remark: err.message };
    }
    return { code: ResponseCode.SUCCESS };
  },
};

export const deleteTopicInNamesrv: RocketmqHandler = {
  codes: [RequestCode.DELETE_TOPIC_IN_NAMESRV],
  name: 'DELETE_TOPIC_IN_NAMESRV',
  handle(_ctx, request) {
    requireString(request, 'topic');
    return { code: ResponseCode.SUCCESS };
  },
};
