// VIEW_MESSAGE_BY_ID (33) — rocketmq-remoting.md §3.3, §7: the `offset`
// header is the commit-log offset decoded from an offsetMsgId; Diglot's packs
// (topic, queue, offset), so the message is read straight from its queue.

import { RequestCode, ResponseCode } from '../../protocol/rocketmq/index.ts';
import { findByCommitLogOffset } from '../lookup.ts';
import { encodeMessages } from '../messages.ts';
import { requireString, type RocketmqHandler } from './types.ts';

export const viewMessageById: RocketmqHandler = {
  codes: [RequestCode.VIEW_MESSAGE_BY_ID],
  name: 'VIEW_MESSAGE_BY_ID',
  handle(ctx, request) {
    const offset = requireString(request, 'offset');
    const found = findByCommitLogOffset(ctx.state, offset);
    if (found === undefined) return { code: ResponseCode.SYSTEM_ERROR, remark: `can not find message by the offset, ${offset}` };
    return { code: ResponseCode.SUCCESS, body: encodeMessages(ctx.state.storeHost, found.topic, found.queueId, [found.record]) };
  },
};
