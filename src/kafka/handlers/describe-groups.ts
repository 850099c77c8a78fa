// DescribeGroups (key 15), v0-6: state, protocol and members of each group.
// An unknown group is 'Dead' with NONE below v6 and GROUP_ID_NOT_FOUND from v6
// (KIP-1043), as Kafka.

import type { DescribeGroupsRequest } from '../../protocol/kafka/generated/describe-groups-request.ts';
import type { DescribeGroupsResponse } from '../../protocol/kafka/generated/describe-groups-response.ts';
import type { Init } from '../../protocol/kafka/codec/index.ts';
import { kafkaGroupError } from '../error-codes.ts';
import { AUTHORIZED_OPERATIONS_OMITTED } from './admin-common.ts';
import type { Handler } from './types.ts';


export const describeGroupsHandler: Handler<DescribeGroupsRequest, Init<DescribeGroupsResponse>> = {
  apiKey: 15,
  minVersion: 0,
  maxVersion: 6,
  handle(ctx, request) {
    const v = ctx.apiVersion;
    return {
      throttleTimeMs: 0,
      groups: ctx.broker.groups.describeGroups(request.groups).map((g) => {
        const code = g.errorCode === 'GROUP_ID_NOT_FOUND' && v < 6 ? 'NONE' : g.errorCode;
        return {
          errorCode: kafkaGroupError(code),
          errorMessage: v >= 6 && code !== 'NONE' ? `group ${g.groupId} not found` : null,
          groupId: g.groupId,
          groupState: g.groupState === '' ? 'Dead' : g.groupState,
          protocolType: g.protocolType,
          protocolData: g.protocolData,
          members: g.members.map((m) => ({
            memberId: m.memberId,
            groupInstanceId: v >= 4 ? m.groupInstanceId : null,
            clientId: m.clientId,
            clientHost: m.clientHost,
            memberMetadata: m.memberMetadata,
            memberAssignment: m.memberAssignment,
          })),
          authorizedOperations: AUTHORIZED_OPERATIONS_OMITTED,
        };
      }),
    };
  },
};
