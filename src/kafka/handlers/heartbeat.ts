// Heartbeat (key 12), v0-4: keeps a member's session alive; during a
// rebalance it answers REBALANCE_IN_PROGRESS so the member rejoins.

import type { HeartbeatRequest } from '../../protocol/kafka/generated/heartbeat-request.ts';
import type { HeartbeatResponse } from '../../protocol/kafka/generated/heartbeat-response.ts';
import type { Init } from '../../protocol/kafka/codec/index.ts';
import { kafkaGroupError } from '../error-codes.ts';
import type { Handler } from './types.ts';

export const heartbeatHandler: Handler<HeartbeatRequest, Init<HeartbeatResponse>> = {
  apiKey: 12,
  minVersion: 0,
  maxVersion: 4,
  handle(ctx, request) {
    const result = ctx.broker.groups.heartbeat({
      groupId: request.groupId,
      generationId: request.generationId,
      memberId: request.memberId,
      groupInstanceId: ctx.apiVersion >= 3 ? request.groupInstanceId : null,
    });
    return { throttleTimeMs: 0, errorCode: kafkaGroupError(result.errorCode) };
  },
};
