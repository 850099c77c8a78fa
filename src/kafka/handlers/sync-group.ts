// SyncGroup (key 14), v0-5: the leader hands in the assignment, every member
// receives its own. v5+ carry protocolType/protocolName, checked against the
// group's (INCONSISTENT_GROUP_PROTOCOL).

import type { SyncGroupRequest } from '../../protocol/kafka/generated/sync-group-request.ts';
import type { SyncGroupResponse } from '../../protocol/kafka/generated/sync-group-response.ts';
import type { Init } from '../../protocol/kafka/codec/index.ts';
import { kafkaGroupError } from '../error-codes.ts';
import type { Handler } from './types.ts';

export const syncGroupHandler: Handler<SyncGroupRequest, Init<SyncGroupResponse>> = {
  apiKey: 14,
  minVersion: 0,
  maxVersion: 5,
  async handle(ctx, request) {
    const v = ctx.apiVersion;
    const result = await ctx.broker.groups.sync({
      groupId: request.groupId,
      generationId: request.generationId,
      memberId: request.memberId,
      groupInstanceId: v >= 3 ? request.groupInstanceId : null,
      protocolType: v >= 5 ? request.protocolType : null,
      protocolName: v >= 5 ? request.protocolName : null,
      assignments: request.assignments.map((a) => ({ memberId: a.memberId, assignment: a.assignment })),
    });
    return {
      throttleTimeMs: 0,
      errorCode: kafkaGroupError(result.errorCode),
      protocolType: v >= 5 ? result.protocolType : null,
      protocolName: v >= 5 ? result.protocolName : null,
      assignment: result.assignment,
    };
  },
};
