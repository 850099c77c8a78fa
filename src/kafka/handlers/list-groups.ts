// ListGroups (key 16), v0-5: every group this node coordinates, including
// groups that only hold committed offsets. v4 filters by state (KIP-518), v5 by
// type (KIP-848: all ours are 'classic').

import type { ListGroupsRequest } from '../../protocol/kafka/generated/list-groups-request.ts';
import type { ListGroupsResponse } from '../../protocol/kafka/generated/list-groups-response.ts';
import type { Init } from '../../protocol/kafka/codec/index.ts';
import { kafkaGroupError } from '../error-codes.ts';
import type { Handler } from './types.ts';

export const listGroupsHandler: Handler<ListGroupsRequest, Init<ListGroupsResponse>> = {
  apiKey: 16,
  minVersion: 0,
  maxVersion: 5,
  handle(ctx, request) {
    const v = ctx.apiVersion;
    const result = ctx.broker.groups.listGroups({ statesFilter: v >= 4 ? request.statesFilter : [], typesFilter: v >= 5 ? request.typesFilter : [] });
    return {
      throttleTimeMs: 0,
      errorCode: kafkaGroupError(result.errorCode),
      groups: result.groups.map((g) => ({
        groupId: g.groupId,
        protocolType: g.protocolType,
        groupState: v >= 4 ? g.groupState : '',
        groupType: v >= 5 ? g.groupType : '',
      })),
    };
  },
};
