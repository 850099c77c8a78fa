// DeleteTopics (key 20), v1-6 (v0 removed by KIP-896; v4 flexible; v5 error
// messages (KIP-599); v6 names a topic by name or by id (KIP-516)). A topic is
// deleted with its partition logs, its producer state and every group's
// committed offsets for it (Broker.deleteTopic); the deletion is complete and
// durable when the response is sent, so timeoutMs is not needed.
// As Kafka's ControllerApis.deleteTopics answers: an unknown name is
// UNKNOWN_TOPIC_OR_PARTITION, an unknown id UNKNOWN_TOPIC_ID; a name or id
// given twice, both a name and an id in one entry, neither, or a name that maps
// to an id also given: INVALID_REQUEST with a message. Internal topics cannot
// be deleted (INVALID_TOPIC_EXCEPTION).

import type { DeleteTopicsRequest } from '../../protocol/kafka/generated/delete-topics-request.ts';
import type { DeletableTopicResult, DeleteTopicsResponse } from '../../protocol/kafka/generated/delete-topics-response.ts';
import { ZERO_UUID, type Init } from '../../protocol/kafka/codec/index.ts';
import { KAFKA_ERROR } from '../error-codes.ts';
import { apiErrorOf } from './admin-common.ts';
import type { Handler } from './types.ts';

export const deleteTopicsHandler: Handler<DeleteTopicsRequest, Init<DeleteTopicsResponse>> = {
  apiKey: 20,
  minVersion: 1,
  maxVersion: 6,
  async handle(ctx, request) {
    const { broker } = ctx;
    const responses: Init<DeletableTopicResult>[] = [];
    const answer = (name: string | null, topicId: string, errorCode: number, errorMessage: string | null): void => {
      responses.push({ name, topicId, errorCode, errorMessage });
    };
    const entries = ctx.apiVersion >= 6 ? request.topics : request.topicNames.map((name) => ({ name, topicId: ZERO_UUID }));
    const names = new Map<string, number>();
    const ids = new Map<string, number>();
    const byName: string[] = [];
    const byId: string[] = [];
    for (const e of entries) {
      const hasId = e.topicId !== ZERO_UUID;
      if (e.name !== null && hasId) {
        answer(e.name, e.topicId, KAFKA_ERROR.INVALID_REQUEST, 'You may not specify both topic name and topic id.');
      } else if (e.name !== null) {
        const n = (names.get(e.name) ?? 0) + 1;
        names.set(e.name, n);
        if (n === 1) byName.push(e.name);
      } else if (hasId) {
        const n = (ids.get(e.topicId) ?? 0) + 1;
        ids.set(e.topicId, n);
        if (n === 1) byId.push(e.topicId);
      } else {
        answer(null, ZERO_UUID, KAFKA_ERROR.INVALID_REQUEST, 'Neither topic name nor id were specified.');
      }
    }
    // The deletions to run: topic name → the id it was named by (or ZERO_UUID when named by name).
    const victims = new Map<string, string>();
    for (const id of byId) {
      if (ids.get(id)! > 1) {
        answer(null, id, KAFKA_ERROR.INVALID_REQUEST, 'Duplicate topic id.');
        continue;
      }
      const topic = broker.topics.byId(id);
      if (topic === undefined) answer(null, id, KAFKA_ERROR.UNKNOWN_TOPIC_ID, 'This server does not host this topic ID.');
      else victims.set(topic.name, id);
    }
    for (const name of byName) {
      if (names.get(name)! > 1) {
        answer(name, ZERO_UUID, KAFKA_ERROR.INVALID_REQUEST, 'Duplicate topic name.');
        continue;
      }
      const topic = broker.topics.get(name);
      if (topic === undefined) answer(name, ZERO_UUID, KAFKA_ERROR.UNKNOWN_TOPIC_OR_PARTITION, 'This server does not host this topic-partition.');
      else if (victims.has(name)) {
        victims.delete(name);
        answer(name, topic.id, KAFKA_ERROR.INVALID_REQUEST, 'The provided topic name maps to an ID that was already supplied.');
      } else victims.set(name, ZERO_UUID);
    }
    for (const name of victims.keys()) {
      const id = broker.topics.get(name)?.id ?? ZERO_UUID;
      try {
        await broker.deleteTopic(name);
        answer(name, id, 0, null);
      } catch (err) {
        const { errorCode, errorMessage } = apiErrorOf(err);
        answer(name, id, errorCode, errorMessage);
      }
    }
    return { throttleTimeMs: 0, responses };
  },
};
