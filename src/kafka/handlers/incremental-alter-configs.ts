// IncrementalAlterConfigs (key 44), v0-1 (KIP-339; v1 flexible) — what the
// Java Admin and kafka-configs use. Per TOPIC resource, each config names an
// operation: SET (0) overrides the key, DELETE (1) removes the override (back
// to the broker default), APPEND (2) / SUBTRACT (3) add or remove items of a
// list config (cleanup.policy) starting from its effective value; on any other
// config they are INVALID_CONFIG ("... because its type is not LIST"), as in
// Kafka's ConfigurationControlManager. Keys Diglot does not honour, or invalid
// values, fail the resource with INVALID_CONFIG naming the key; nothing of a
// failed resource changes. Changes are durable in the metadata log and applied
// to the partition logs before the response; validateOnly checks only.
// Preprocessing as Kafka's ConfigAdminManager: a resource twice →
// INVALID_REQUEST for both; a key twice → INVALID_REQUEST; a null value for a
// non-DELETE operation → INVALID_REQUEST; an unknown operation →
// INVALID_REQUEST. BROKER resources are refused with INVALID_REQUEST and a
// message for now (Diglot's broker settings are static); BROKER_LOGGER and the
// other types too.

import type { AlterConfigsResource, IncrementalAlterConfigsRequest } from '../../protocol/kafka/generated/incremental-alter-configs-request.ts';
import type { IncrementalAlterConfigsResponse } from '../../protocol/kafka/generated/incremental-alter-configs-response.ts';
import type { Init } from '../../protocol/kafka/codec/index.ts';
import { validateTopicName } from '../../broker/topics.ts';
import { KAFKA_ERROR } from '../error-codes.ts';
import { KafkaApiError, RESOURCE_TYPE, apiErrorOf, unsupportedResourceType } from './admin-common.ts';
import { alterEach, refuseBrokerChange } from './alter-configs.ts';
import { isListTopicConfig } from './describe-configs.ts';
import type { Handler, RequestContext } from './types.ts';

const SET = 0;
const DELETE = 1;
const APPEND = 2;
const SUBTRACT = 3;
const OP_NAMES = ['SET', 'DELETE', 'APPEND', 'SUBTRACT'];

async function alterTopic(ctx: RequestContext, r: AlterConfigsResource, validateOnly: boolean): Promise<void> {
  const { broker } = ctx;
  validateTopicName(r.resourceName);
  const topic = broker.topics.get(r.resourceName);
  if (topic === undefined) throw new KafkaApiError(KAFKA_ERROR.UNKNOWN_TOPIC_OR_PARTITION, `Topic ${r.resourceName} does not exist.`);
  const changes = new Map<string, string | null>();
  for (const c of r.configs) {
    switch (c.configOperation) {
      case SET:
        changes.set(c.name, c.value);
        break;
      case DELETE:
        changes.set(c.name, null);
        break;
      case APPEND:
      case SUBTRACT: {
        if (!isListTopicConfig(c.name)) {
          throw new KafkaApiError(KAFKA_ERROR.INVALID_CONFIG, `Can't ${OP_NAMES[c.configOperation]} to key ${c.name} because its type is not LIST.`);
        }
        const items = broker.topicConfig(topic, c.name).split(',').filter((s) => s !== '');
        for (const item of c.value!.split(',')) {
          const at = items.indexOf(item);
          if (c.configOperation === APPEND && at < 0) items.push(item);
          if (c.configOperation === SUBTRACT && at >= 0) items.splice(at, 1);
        }
        changes.set(c.name, items.join(','));
        break;
      }
    }
  }
  await broker.topics.alterConfigs(r.resourceName, changes, { validateOnly });
}

async function alterResource(ctx: RequestContext, r: AlterConfigsResource, validateOnly: boolean): Promise<void> {
  const names = r.configs.map((c) => c.name);
  if (new Set(names).size !== names.length) throw new KafkaApiError(KAFKA_ERROR.INVALID_REQUEST, 'Error due to duplicate config keys');
  const nulls = r.configs.filter((c) => c.configOperation !== DELETE && c.value === null).map((c) => c.name);
  if (nulls.length > 0) throw new KafkaApiError(KAFKA_ERROR.INVALID_REQUEST, `Null value not supported for : ${nulls.join(', ')}`);
  const unknownOp = r.configs.find((c) => c.configOperation < SET || c.configOperation > SUBTRACT);
  if (unknownOp !== undefined) throw new KafkaApiError(KAFKA_ERROR.INVALID_REQUEST, `Unknown operations type ${unknownOp.configOperation}`);
  switch (r.resourceType) {
    case RESOURCE_TYPE.TOPIC:
      await alterTopic(ctx, r, validateOnly);
      return;
    case RESOURCE_TYPE.BROKER:
      refuseBrokerChange(ctx, r.resourceName, r.configs.length);
      return;
    default:
      throw unsupportedResourceType(r.resourceType);
  }
}

export const incrementalAlterConfigsHandler: Handler<IncrementalAlterConfigsRequest, Init<IncrementalAlterConfigsResponse>> = {
  apiKey: 44,
  minVersion: 0,
  maxVersion: 1,
  async handle(ctx, request) {
    return { throttleTimeMs: 0, responses: await alterEach(request.resources, (r) => alterResource(ctx, r, request.validateOnly)) };
  },
};
