// DeleteGroups (key 42), v0-2: removes Empty groups and their committed
// offsets; a group with members is NON_EMPTY_GROUP, an unknown one
// GROUP_ID_NOT_FOUND.

import type { DeleteGroupsRequest } from '../../protocol/kafka/generated/delete-groups-request.ts';
import type { DeleteGroupsResponse } from '../../protocol/kafka/generated/delete-groups-response.ts';
import type { Init } from '../../protocol/kafka/codec/index.ts';
import { kafkaGroupError } from '../error-codes.ts';
import type { Handler } from './types.ts';

export const deleteGroupsHandler: Handler<DeleteGroupsRequest, Init<DeleteGroupsResponse>> = {
  apiKey: 42,
  minVersion: 0,
  maxVersion: 2,
  async handle(ctx, request) {
    const results = await ctx.broker.groups.deleteGroups(request.groupsNames);
    return { throttleTimeMs: 0, results: results.map((r) => ({ groupId: r.groupId, errorCode: kafkaGroupError(r.errorCode) })) };
  },
};
