// OffsetFetch (key 9), v1-10: committed offsets of a group (v0-7) or of
// several groups (v8+, KIP-709); null topics mean every committed partition.
// A partition without a commit answers offset -1. requireStable (v7+) needs no
// wait: there are no pending transactional commits yet. v10 names topics by id.

import type { OffsetFetchRequest } from '../../protocol/kafka/generated/offset-fetch-request.ts';
import type { OffsetFetchResponse, OffsetFetchResponseGroup, OffsetFetchResponsePartition, OffsetFetchResponseTopic } from '../../protocol/kafka/generated/offset-fetch-response.ts';
import type { Init } from '../../protocol/kafka/codec/index.ts';
import type { Broker } from '../../broker/broker.ts';
import { KAFKA_ERROR } from '../error-codes.ts';
import type { Handler } from './types.ts';

interface WantedTopic {
  name: string;
  topicId: string;
  partitions: readonly number[];
}

function fetchGroup(broker: Broker, groupId: string, wanted: readonly WantedTopic[] | null, byId: boolean): Array<{ name: string; topicId: string; partitions: Init<OffsetFetchResponsePartition>[] }> {
  const offsets = broker.offsets.forGroup(groupId);
  const answer = (topic: string, partition: number): Init<OffsetFetchResponsePartition> => {
    const c = broker.offsets.get(groupId, topic, partition);
    return c === undefined
      ? { partitionIndex: partition, committedOffset: -1, committedLeaderEpoch: -1, metadata: '', errorCode: 0 }
      : { partitionIndex: partition, committedOffset: c.offset, committedLeaderEpoch: c.leaderEpoch, metadata: c.metadata ?? '', errorCode: 0 };
  };
  if (wanted === null) {
    return [...offsets].map(([name, byPartition]) => ({ name, topicId: broker.topics.get(name)?.id ?? '00000000-0000-0000-0000-000000000000', partitions: [...byPartition.keys()].sort((a, b) => a - b).map((p) => answer(name, p)) }));
  }
  return wanted.map((t) => {
    const name = byId ? broker.topics.byId(t.topicId)?.name : t.name;
    if (name === undefined) {
      return { name: t.name, topicId: t.topicId, partitions: t.partitions.map((p) => ({ partitionIndex: p, committedOffset: -1, committedLeaderEpoch: -1, metadata: '', errorCode: KAFKA_ERROR.UNKNOWN_TOPIC_ID })) };
    }
    return { name, topicId: t.topicId, partitions: t.partitions.map((p) => answer(name, p)) };
  });
}

export const offsetFetchHandler: Handler<OffsetFetchRequest, Init<OffsetFetchResponse>> = {
  apiKey: 9,
  minVersion: 1,
  maxVersion: 10,
  handle(ctx, request) {
    const v = ctx.apiVersion;
    if (v >= 8) {
      const groups: Init<OffsetFetchResponseGroup>[] = request.groups.map((g) => {
        const wanted = g.topics === null ? null : g.topics.map((t) => ({ name: t.name, topicId: t.topicId, partitions: t.partitionIndexes }));
        return { groupId: g.groupId, errorCode: 0, topics: fetchGroup(ctx.broker, g.groupId, wanted, v >= 10) };
      });
      return { throttleTimeMs: 0, groups };
    }
    const wanted = request.topics === null ? null : request.topics.map((t) => ({ name: t.name, topicId: '', partitions: t.partitionIndexes }));
    const topics: Init<OffsetFetchResponseTopic>[] = fetchGroup(ctx.broker, request.groupId, wanted, false).map((t) => ({ name: t.name, partitions: t.partitions }));
    return { throttleTimeMs: 0, topics, errorCode: 0 };
  },
};
