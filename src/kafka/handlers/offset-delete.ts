// OffsetDelete (key 47), v0 (KIP-496): deletes a group's committed offsets for
// some partitions. Refused per partition with GROUP_SUBSCRIBED_TO_TOPIC while a
// live member of the group subscribes to the topic.

import type { OffsetDeleteRequest } from '../../protocol/kafka/generated/offset-delete-request.ts';
import type { OffsetDeleteResponse, OffsetDeleteResponseTopic } from '../../protocol/kafka/generated/offset-delete-response.ts';
import type { Init } from '../../protocol/kafka/codec/index.ts';
import { KAFKA_ERROR } from '../error-codes.ts';
import type { Handler } from './types.ts';

/**
 * Topics named in a ConsumerProtocolSubscription (version i16, topics
 * [int32 count, int16-length strings], ...). null when it cannot be read, in
 * which case the caller assumes every topic is subscribed.
 */
export function subscribedTopics(metadata: Buffer): string[] | null {
  try {
    if (metadata.length < 6) return null;
    let pos = 2;
    const count = metadata.readInt32BE(pos);
    pos += 4;
    if (count < 0 || count > metadata.length) return null;
    const topics: string[] = [];
    for (let i = 0; i < count; i++) {
      const len = metadata.readInt16BE(pos);
      pos += 2;
      if (len < 0 || pos + len > metadata.length) return null;
      topics.push(metadata.toString('utf8', pos, pos + len));
      pos += len;
    }
    return topics;
  } catch {
    return null;
  }
}

export const offsetDeleteHandler: Handler<OffsetDeleteRequest, Init<OffsetDeleteResponse>> = {
  apiKey: 47,
  minVersion: 0,
  maxVersion: 0,
  async handle(ctx, request) {
    const { broker } = ctx;
    const snapshot = broker.groups.groupState(request.groupId);
    if (snapshot === undefined && broker.offsets.forGroup(request.groupId).size === 0) {
      return { errorCode: KAFKA_ERROR.GROUP_ID_NOT_FOUND, throttleTimeMs: 0, topics: [] };
    }
    const subscribed = new Set<string>();
    let everything = false;
    if (snapshot !== undefined && snapshot.state !== 'Empty' && snapshot.state !== 'Dead' && snapshot.protocolType === 'consumer') {
      for (const member of snapshot.members) {
        const protocol = member.protocols.find((p) => p.name === snapshot.protocolName) ?? member.protocols[0];
        const topics = protocol === undefined ? null : subscribedTopics(protocol.metadata);
        if (topics === null) everything = true;
        else for (const t of topics) subscribed.add(t);
      }
    }
    const topics: Init<OffsetDeleteResponseTopic>[] = [];
    for (const t of request.topics) {
      const blocked = everything || subscribed.has(t.name);
      const partitions = t.partitions.map((p) => ({ partitionIndex: p.partitionIndex, errorCode: blocked ? KAFKA_ERROR.GROUP_SUBSCRIBED_TO_TOPIC : 0 }));
      if (!blocked) await broker.offsets.delete(request.groupId, t.name, t.partitions.map((p) => p.partitionIndex));
      topics.push({ name: t.name, partitions });
    }
    return { errorCode: 0, throttleTimeMs: 0, topics };
  },
};
