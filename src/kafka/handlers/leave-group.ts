// LeaveGroup (key 13), v0-5: v0-2 one member (top-level error), v3+ a batch
// of members with per-member errors (KIP-345), v5 reasons (KIP-800).

import type { LeaveGroupRequest } from '../../protocol/kafka/generated/leave-group-request.ts';
import type { LeaveGroupResponse } from '../../protocol/kafka/generated/leave-group-response.ts';
import type { Init } from '../../protocol/kafka/codec/index.ts';
import { kafkaGroupError } from '../error-codes.ts';
import type { Handler } from './types.ts';

export const leaveGroupHandler: Handler<LeaveGroupRequest, Init<LeaveGroupResponse>> = {
  apiKey: 13,
  minVersion: 0,
  maxVersion: 5,
  handle(ctx, request) {
    const v = ctx.apiVersion;
    if (v < 3) {
      const result = ctx.broker.groups.leave({ groupId: request.groupId, members: [{ memberId: request.memberId, groupInstanceId: null }] });
      const code = result.errorCode !== 'NONE' ? result.errorCode : (result.members[0]?.errorCode ?? 'NONE');
      return { throttleTimeMs: 0, errorCode: kafkaGroupError(code) };
    }
    const result = ctx.broker.groups.leave({
      groupId: request.groupId,
      members: request.members.map((m) => ({ memberId: m.memberId, groupInstanceId: m.groupInstanceId, reason: v >= 5 ? m.reason : null })),
    });
    return {
      throttleTimeMs: 0,
      errorCode: kafkaGroupError(result.errorCode),
      members: result.members.map((m) => ({ memberId: m.memberId, groupInstanceId: m.groupInstanceId, errorCode: kafkaGroupError(m.errorCode) })),
    };
  },
};
