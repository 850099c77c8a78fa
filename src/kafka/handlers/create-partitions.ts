// CreatePartitions (key 37), v0-3 (KIP-195; v2 flexible; v3 adds nothing on
// the wire, KIP-599 quotas). Raises a topic's partition count; the new
// partitions' logs exist when the response is sent. As Kafka's controller
// (ReplicationControlManager.createPartitions) answers: a topic named twice →
// INVALID_REQUEST "Duplicate topic name."; unknown topic →
// UNKNOWN_TOPIC_OR_PARTITION; a count equal to or below the current one →
// INVALID_PARTITIONS with Kafka's messages; manual assignments must give one
// replica list per new partition, each exactly [this node]
// (INVALID_REPLICA_ASSIGNMENT otherwise). validateOnly checks and changes nothing.

import type { CreatePartitionsRequest, CreatePartitionsTopic } from '../../protocol/kafka/generated/create-partitions-request.ts';
import type { CreatePartitionsResponse, CreatePartitionsTopicResult } from '../../protocol/kafka/generated/create-partitions-response.ts';
import type { Init } from '../../protocol/kafka/codec/index.ts';
import { KAFKA_ERROR } from '../error-codes.ts';
import { KafkaApiError, apiErrorOf, checkReplicaAssignment } from './admin-common.ts';
import type { Handler, RequestContext } from './types.ts';

async function addPartitions(ctx: RequestContext, t: CreatePartitionsTopic, validateOnly: boolean): Promise<void> {
  const topic = ctx.broker.topics.get(t.name);
  if (topic === undefined) throw new KafkaApiError(KAFKA_ERROR.UNKNOWN_TOPIC_OR_PARTITION, `Topic ${t.name} does not exist.`);
  const current = topic.partitions;
  if (t.count === current) throw new KafkaApiError(KAFKA_ERROR.INVALID_PARTITIONS, `Topic already has ${current} partition(s).`);
  if (t.count < current) {
    throw new KafkaApiError(KAFKA_ERROR.INVALID_PARTITIONS, `The topic ${t.name} currently has ${current} partition(s); ${t.count} would not be an increase.`);
  }
  if (t.assignments !== null) {
    const additional = t.count - current;
    if (t.assignments.length !== additional) {
      throw new KafkaApiError(KAFKA_ERROR.INVALID_REPLICA_ASSIGNMENT, `Attempted to add ${additional} additional partition(s), but only ${t.assignments.length} assignment(s) were specified.`);
    }
    for (const a of t.assignments) checkReplicaAssignment(a.brokerIds, ctx.listener.nodeId);
  }
  await ctx.broker.topics.addPartitions(t.name, t.count, validateOnly);
}

export const createPartitionsHandler: Handler<CreatePartitionsRequest, Init<CreatePartitionsResponse>> = {
  apiKey: 37,
  minVersion: 0,
  maxVersion: 3,
  async handle(ctx, request) {
    const counts = new Map<string, number>();
    for (const t of request.topics) counts.set(t.name, (counts.get(t.name) ?? 0) + 1);
    const results: Init<CreatePartitionsTopicResult>[] = [];
    for (const [name, n] of counts) if (n > 1) results.push({ name, errorCode: KAFKA_ERROR.INVALID_REQUEST, errorMessage: 'Duplicate topic name.' });
    for (const t of request.topics) {
      if (counts.get(t.name)! > 1) continue;
      try {
        await addPartitions(ctx, t, request.validateOnly);
        results.push({ name: t.name, errorCode: 0, errorMessage: null });
      } catch (err) {
        results.push({ name: t.name, ...apiErrorOf(err) });
      }
    }
    return { throttleTimeMs: 0, results };
  },
};
