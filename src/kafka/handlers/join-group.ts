// JoinGroup (key 11), v0-9: the classic group protocol's join phase, run by
// the broker's GroupCoordinator. v4+ two-step join (MEMBER_ID_REQUIRED, 79);
// v5+ static membership (KIP-345); v7+ protocolType/protocolName in the
// response; v9 skipAssignment (KIP-814). v0 has no rebalance timeout: the
// session timeout stands in, as Kafka does.

import type { JoinGroupRequest } from '../../protocol/kafka/generated/join-group-request.ts';
import type { JoinGroupResponse } from '../../protocol/kafka/generated/join-group-response.ts';
import type { Init } from '../../protocol/kafka/codec/index.ts';
import { kafkaGroupError } from '../error-codes.ts';
import type { Handler } from './types.ts';

export const joinGroupHandler: Handler<JoinGroupRequest, Init<JoinGroupResponse>> = {
  apiKey: 11,
  minVersion: 0,
  maxVersion: 9,
  async handle(ctx, request) {
    const v = ctx.apiVersion;
    const result = await ctx.broker.groups.join({
      groupId: request.groupId,
      memberId: request.memberId,
      groupInstanceId: v >= 5 ? request.groupInstanceId : null,
      clientId: ctx.clientId ?? '',
      clientHost: `/${ctx.clientHost}`,
      sessionTimeoutMs: request.sessionTimeoutMs,
      rebalanceTimeoutMs: v >= 1 ? request.rebalanceTimeoutMs : -1,
      protocolType: request.protocolType,
      protocols: request.protocols.map((p) => ({ name: p.name, metadata: p.metadata })),
      requireKnownMemberId: v >= 4,
      supportsSkipAssignment: v >= 9,
      reason: v >= 8 ? request.reason : null,
    });
    return {
      throttleTimeMs: 0,
      errorCode: kafkaGroupError(result.errorCode),
      generationId: result.generationId,
      protocolType: v >= 7 ? result.protocolType : null,
      // Below v7 the field is a non-nullable string.
      protocolName: v >= 7 ? result.protocolName : (result.protocolName ?? ''),
      leader: result.leader,
      skipAssignment: v >= 9 ? result.skipAssignment : false,
      memberId: result.memberId,
      members: result.members.map((m) => ({ memberId: m.memberId, groupInstanceId: v >= 5 ? m.groupInstanceId : null, metadata: m.metadata })),
    };
  },
};
