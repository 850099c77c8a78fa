// AlterConfigs (key 33), v0-2 — the legacy, non-incremental API (KIP-133;
// deprecated by KIP-339 in favour of IncrementalAlterConfigs; v2 flexible).
// A TOPIC resource's override set is REPLACED by the configs given: keys not
// named go back to the broker default. Every key must be one Diglot honours
// with a valid value, else the whole resource fails with INVALID_CONFIG naming
// the key and nothing changes. Changes are durable in the metadata log and
// applied to the partition logs before the response. validateOnly checks only.
// As Kafka's ConfigAdminManager.preprocess: a resource named twice →
// INVALID_REQUEST for both; a key twice → INVALID_REQUEST; a null value →
// INVALID_REQUEST naming the keys. BROKER resources: Diglot's broker settings
// are static (config file, DIGLOT_* variables), so a change is refused with
// INVALID_REQUEST saying so (an empty change set is a no-op). Other resource
// types: INVALID_REQUEST.

import type { AlterConfigsRequest, AlterConfigsResource } from '../../protocol/kafka/generated/alter-configs-request.ts';
import type { AlterConfigsResourceResponse, AlterConfigsResponse } from '../../protocol/kafka/generated/alter-configs-response.ts';
import type { Init } from '../../protocol/kafka/codec/index.ts';
import { validateTopicName } from '../../broker/topics.ts';
import { KAFKA_ERROR } from '../error-codes.ts';
import { KafkaApiError, RESOURCE_TYPE, apiErrorOf, checkBrokerResourceName, unsupportedResourceType } from './admin-common.ts';
import type { Handler, RequestContext } from './types.ts';

/** Resources named more than once in one request (by type and name). */
export function duplicateResources(resources: ReadonlyArray<{ resourceType: number; resourceName: string }>): Set<string> {
  const seen = new Set<string>();
  const dup = new Set<string>();
  for (const r of resources) {
    const key = resourceKey(r);
    if (seen.has(key)) dup.add(key);
    seen.add(key);
  }
  return dup;
}

export function resourceKey(r: { resourceType: number; resourceName: string }): string {
  return `${r.resourceType}\u0000${r.resourceName}`;
}

/** Refuses a change to this node's static broker settings (after checking the name). */
export function refuseBrokerChange(ctx: RequestContext, resourceName: string, changeCount: number): void {
  checkBrokerResourceName(resourceName, ctx.listener.nodeId);
  if (changeCount === 0) return;
  throw new KafkaApiError(
    KAFKA_ERROR.INVALID_REQUEST,
    'Diglot has no dynamic broker configs: broker settings are read at start from the config file or DIGLOT_* environment variables; change them there and restart',
  );
}

async function alterResource(ctx: RequestContext, r: AlterConfigsResource, validateOnly: boolean): Promise<void> {
  const names = r.configs.map((c) => c.name);
  if (new Set(names).size !== names.length) throw new KafkaApiError(KAFKA_ERROR.INVALID_REQUEST, 'Error due to duplicate config keys');
  const nulls = r.configs.filter((c) => c.value === null).map((c) => c.name);
  if (nulls.length > 0) throw new KafkaApiError(KAFKA_ERROR.INVALID_REQUEST, `Null value not supported for : ${nulls.join(', ')}`);
  switch (r.resourceType) {
    case RESOURCE_TYPE.TOPIC: {
      validateTopicName(r.resourceName);
      const configs = new Map(r.configs.map((c) => [c.name, c.value] as const));
      await ctx.broker.topics.alterConfigs(r.resourceName, configs, { replaceAll: true, validateOnly });
      return;
    }
    case RESOURCE_TYPE.BROKER:
      refuseBrokerChange(ctx, r.resourceName, r.configs.length);
      return;
    default:
      throw unsupportedResourceType(r.resourceType);
  }
}

/**
 * Applies `alter` to each resource in order and answers per resource; a
 * resource named twice is refused (both copies), as Kafka's ConfigAdminManager.
 */
export async function alterEach<R extends { resourceType: number; resourceName: string }>(
  resources: readonly R[],
  alter: (resource: R) => Promise<void>,
): Promise<Init<AlterConfigsResourceResponse>[]> {
  const dup = duplicateResources(resources);
  const responses: Init<AlterConfigsResourceResponse>[] = [];
  for (const r of resources) {
    const base = { resourceType: r.resourceType, resourceName: r.resourceName };
    if (dup.has(resourceKey(r))) {
      responses.push({ ...base, errorCode: KAFKA_ERROR.INVALID_REQUEST, errorMessage: 'Each resource must appear at most once.' });
      continue;
    }
    try {
      await alter(r);
      responses.push({ ...base, errorCode: 0, errorMessage: null });
    } catch (err) {
      responses.push({ ...base, ...apiErrorOf(err) });
    }
  }
  return responses;
}

export const alterConfigsHandler: Handler<AlterConfigsRequest, Init<AlterConfigsResponse>> = {
  apiKey: 33,
  minVersion: 0,
  maxVersion: 2,
  async handle(ctx, request) {
    return { throttleTimeMs: 0, responses: await alterEach(request.resources, (r) => alterResource(ctx, r, request.validateOnly)) };
  },
};
