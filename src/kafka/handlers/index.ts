// The handler table: one file per API key. ApiVersions advertises exactly
// these keys and versions.

import { apiVersionsHandler, advertisedApis, type AdvertisedApi } from './api-versions.ts';
import { fetchHandler } from './fetch.ts';
import { findCoordinatorHandler } from './find-coordinator.ts';
import { initProducerIdHandler } from './init-producer-id.ts';
import { listOffsetsHandler } from './list-offsets.ts';
import { metadataHandler } from './metadata.ts';
import { produceHandler } from './produce.ts';
import { deleteGroupsHandler } from './delete-groups.ts';
import { describeGroupsHandler } from './describe-groups.ts';
import { heartbeatHandler } from './heartbeat.ts';
import { joinGroupHandler } from './join-group.ts';
import { leaveGroupHandler } from './leave-group.ts';
import { listGroupsHandler } from './list-groups.ts';
import { offsetCommitHandler } from './offset-commit.ts';
import { offsetDeleteHandler } from './offset-delete.ts';
import { offsetFetchHandler } from './offset-fetch.ts';
import { syncGroupHandler } from './sync-group.ts';
import { alterConfigsHandler } from './alter-configs.ts';
import { createPartitionsHandler } from './create-partitions.ts';
import { createTopicsHandler } from './create-topics.ts';
import { deleteRecordsHandler } from './delete-records.ts';
import { deleteTopicsHandler } from './delete-topics.ts';
import { describeClusterHandler } from './describe-cluster.ts';
import { describeConfigsHandler } from './describe-configs.ts';
import { describeTopicPartitionsHandler } from './describe-topic-partitions.ts';
import { incrementalAlterConfigsHandler } from './incremental-alter-configs.ts';
import { offsetForLeaderEpochHandler } from './offset-for-leader-epoch.ts';
import type { Handler } from './types.ts';

export function buildHandlerTable(extra: readonly Handler[] = []): { handlers: Map<number, Handler>; apiVersions: AdvertisedApi[] } {
  const handlers = new Map<number, Handler>();
  let table: AdvertisedApi[] = [];
  const all: Handler[] = [
    apiVersionsHandler(() => table),
    produceHandler,
    fetchHandler,
    listOffsetsHandler,
    metadataHandler,
    findCoordinatorHandler,
    initProducerIdHandler,
    joinGroupHandler,
    syncGroupHandler,
    heartbeatHandler,
    leaveGroupHandler,
    offsetCommitHandler,
    offsetFetchHandler,
    listGroupsHandler,
    describeGroupsHandler,
    deleteGroupsHandler,
    offsetDeleteHandler,
    createTopicsHandler,
    deleteTopicsHandler,
    createPartitionsHandler,
    deleteRecordsHandler,
    describeConfigsHandler,
    alterConfigsHandler,
    incrementalAlterConfigsHandler,
    describeClusterHandler,
    offsetForLeaderEpochHandler,
    describeTopicPartitionsHandler,
    ...extra,
  ];
  for (const handler of all) {
    if (handlers.has(handler.apiKey)) throw new Error(`two handlers for API key ${handler.apiKey}`);
    handlers.set(handler.apiKey, handler);
  }
  table = advertisedApis(handlers.values());
  return { handlers, apiVersions: table };
}
