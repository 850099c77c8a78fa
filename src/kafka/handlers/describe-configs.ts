// DescribeConfigs (key 32), v1-4 (v0 was removed by KIP-896; v1 adds synonyms
// and config sources (KIP-226), v3 config types and documentation (KIP-569),
// v4 is flexible).
//
// TOPIC resources list every topic config Diglot honours (broker/topic-configs.ts)
// with its effective value: an override has source DYNAMIC_TOPIC_CONFIG (1),
// anything else the broker-wide default, source DEFAULT_CONFIG (5). Nothing is
// read-only or sensitive. With includeSynonyms the list is, as in Kafka's
// ConfigHelper, the override (if any) followed by the broker config it falls
// back to (e.g. retention.ms → log.retention.ms). configurationKeys filters by
// name (unknown names are left out, not errors). An unknown topic answers
// UNKNOWN_TOPIC_OR_PARTITION, an illegal name INVALID_TOPIC_EXCEPTION.
//
// BROKER resources: the name must be empty or this node's id, else
// INVALID_REQUEST. This node's id lists the broker settings that map honestly
// onto Diglot's configuration (node id, num.partitions, auto-create,
// message.max.bytes, the log.* defaults of the topic configs, flushing), all
// read-only: Diglot reads them at start and has no dynamic broker configs —
// which is also why the empty name (cluster-wide dynamic defaults) lists none.
// Other resource types answer INVALID_REQUEST with a message.

import type { DescribeConfigsRequest } from '../../protocol/kafka/generated/describe-configs-request.ts';
import type { DescribeConfigsResourceResult, DescribeConfigsResponse, DescribeConfigsResult, DescribeConfigsSynonym } from '../../protocol/kafka/generated/describe-configs-response.ts';
import type { Init } from '../../protocol/kafka/codec/index.ts';
import type { Broker } from '../../broker/broker.ts';
import { TOPIC_CONFIGS } from '../../broker/topic-configs.ts';
import { validateTopicName } from '../../broker/topics.ts';
import { KAFKA_ERROR } from '../error-codes.ts';
import { CONFIG_SOURCE, KafkaApiError, RESOURCE_TYPE, apiErrorOf, checkBrokerResourceName, unsupportedResourceType } from './admin-common.ts';
import type { Handler, RequestContext } from './types.ts';

/** DescribeConfigsResponse.ConfigType ids. */
const TYPE = { UNKNOWN: 0, BOOLEAN: 1, STRING: 2, INT: 3, SHORT: 4, LONG: 5, DOUBLE: 6, LIST: 7 } as const;

/** Kafka's type of each topic config and the broker config it falls back to (ServerTopicConfigSynonyms). */
const TOPIC_CONFIG_KAFKA: Readonly<Record<string, { type: number; brokerSynonym: string }>> = {
  'retention.ms': { type: TYPE.LONG, brokerSynonym: 'log.retention.ms' },
  'retention.bytes': { type: TYPE.LONG, brokerSynonym: 'log.retention.bytes' },
  'segment.bytes': { type: TYPE.INT, brokerSynonym: 'log.segment.bytes' },
  'segment.ms': { type: TYPE.LONG, brokerSynonym: 'log.roll.ms' },
  'segment.index.bytes': { type: TYPE.INT, brokerSynonym: 'log.index.size.max.bytes' },
  'index.interval.bytes': { type: TYPE.INT, brokerSynonym: 'log.index.interval.bytes' },
  'max.message.bytes': { type: TYPE.INT, brokerSynonym: 'message.max.bytes' },
  'message.timestamp.type': { type: TYPE.STRING, brokerSynonym: 'log.message.timestamp.type' },
  'cleanup.policy': { type: TYPE.LIST, brokerSynonym: 'log.cleanup.policy' },
  'compression.type': { type: TYPE.STRING, brokerSynonym: 'compression.type' },
  'min.insync.replicas': { type: TYPE.INT, brokerSynonym: 'min.insync.replicas' },
};

/** True when a topic config is a comma-separated list (IncrementalAlterConfigs APPEND/SUBTRACT). */
export function isListTopicConfig(name: string): boolean {
  return TOPIC_CONFIG_KAFKA[name]?.type === TYPE.LIST;
}

export interface ConfigEntry {
  name: string;
  value: string | null;
  source: number;
  readOnly: boolean;
  type: number;
  doc: string;
  synonyms: Array<{ name: string; value: string | null; source: number }>;
}

/** Every supported topic config with its effective value, sorted by name. */
export function topicConfigEntries(broker: Broker, overrides: ReadonlyMap<string, string>): ConfigEntry[] {
  return Object.keys(TOPIC_CONFIGS)
    .sort()
    .map((name) => {
      const kafka = TOPIC_CONFIG_KAFKA[name];
      const fallback = broker.topicConfigDefault(name);
      const override = overrides.get(name);
      const synonyms: ConfigEntry['synonyms'] = [];
      if (override !== undefined) synonyms.push({ name, value: override, source: CONFIG_SOURCE.DYNAMIC_TOPIC_CONFIG });
      if (kafka !== undefined) synonyms.push({ name: kafka.brokerSynonym, value: fallback, source: CONFIG_SOURCE.DEFAULT_CONFIG });
      return {
        name,
        value: override ?? fallback,
        source: override !== undefined ? CONFIG_SOURCE.DYNAMIC_TOPIC_CONFIG : CONFIG_SOURCE.DEFAULT_CONFIG,
        readOnly: false,
        type: kafka?.type ?? TYPE.UNKNOWN,
        doc: TOPIC_CONFIGS[name]!.doc,
        synonyms,
      };
    });
}

/** The broker settings that map onto Diglot's own configuration; read-only (static). */
function brokerConfigEntries(ctx: RequestContext): ConfigEntry[] {
  const { broker } = ctx;
  const c = broker.logManager.config;
  const entries: Array<[string, string | null, number, string]> = [
    ['node.id', String(ctx.listener.nodeId), TYPE.INT, 'this node\'s id'],
    ['broker.id', String(ctx.listener.nodeId), TYPE.INT, 'this node\'s id (same as node.id)'],
    ['num.partitions', String(broker.config.defaultPartitions), TYPE.INT, 'partitions of auto-created topics and of CreateTopics with -1 (Diglot defaultPartitions)'],
    ['auto.create.topics.enable', String(broker.config.autoCreateTopics), TYPE.BOOLEAN, 'create unknown topics on first produce or metadata request (Diglot autoCreateTopics)'],
    ['default.replication.factor', '1', TYPE.INT, 'a single node: every partition has one replica'],
    ['delete.topic.enable', 'true', TYPE.BOOLEAN, 'DeleteTopics is always allowed'],
    ['log.dirs', broker.logManager.dir, TYPE.STRING, 'the data directory (Diglot dataDir)'],
    ['log.flush.interval.ms', c.flushMode === 'interval' ? String(c.flushIntervalMs) : null, TYPE.LONG, 'fdatasync interval in flush mode interval (Diglot flushIntervalMs)'],
    ['log.flush.interval.messages', c.flushMode === 'interval' ? '9223372036854775807' : '1', TYPE.LONG, 'flush mode always syncs every append (group commit)'],
  ];
  const out: ConfigEntry[] = entries.map(([name, value, type, doc]) => ({ name, value, type, doc, source: CONFIG_SOURCE.DEFAULT_CONFIG, readOnly: true, synonyms: [] }));
  // The broker-wide defaults of the topic configs, under their broker names.
  for (const name of Object.keys(TOPIC_CONFIGS)) {
    const kafka = TOPIC_CONFIG_KAFKA[name];
    if (kafka === undefined || out.some((e) => e.name === kafka.brokerSynonym)) continue;
    out.push({ name: kafka.brokerSynonym, value: broker.topicConfigDefault(name), type: kafka.type, doc: TOPIC_CONFIGS[name]!.doc, source: CONFIG_SOURCE.DEFAULT_CONFIG, readOnly: true, synonyms: [] });
  }
  for (const e of out) e.synonyms.push({ name: e.name, value: e.value, source: e.source });
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

function toResult(ctx: RequestContext, entries: ConfigEntry[], keys: readonly string[] | null, includeSynonyms: boolean, includeDocumentation: boolean): Init<DescribeConfigsResourceResult>[] {
  const wanted = keys === null || keys.length === 0 ? null : new Set(keys);
  return entries
    .filter((e) => wanted === null || wanted.has(e.name))
    .map((e) => {
      const r: Init<DescribeConfigsResourceResult> = {
        name: e.name,
        value: e.value,
        readOnly: e.readOnly,
        configSource: e.source,
        isSensitive: false,
        synonyms: includeSynonyms ? e.synonyms.map((s): Init<DescribeConfigsSynonym> => ({ name: s.name, value: s.value, source: s.source })) : [],
      };
      if (ctx.apiVersion >= 3) {
        r.configType = e.type;
        r.documentation = includeDocumentation ? e.doc : null;
      }
      return r;
    });
}

function describeResource(ctx: RequestContext, resourceType: number, resourceName: string, keys: string[] | null, includeSynonyms: boolean, includeDocumentation: boolean): Init<DescribeConfigsResourceResult>[] {
  switch (resourceType) {
    case RESOURCE_TYPE.TOPIC: {
      validateTopicName(resourceName);
      const topic = ctx.broker.topics.get(resourceName);
      if (topic === undefined) throw new KafkaApiError(KAFKA_ERROR.UNKNOWN_TOPIC_OR_PARTITION, `Topic ${resourceName} does not exist.`);
      return toResult(ctx, topicConfigEntries(ctx.broker, topic.configs), keys, includeSynonyms, includeDocumentation);
    }
    case RESOURCE_TYPE.BROKER:
      // The empty name asks for the cluster-wide dynamic defaults: Diglot has none.
      if (!checkBrokerResourceName(resourceName, ctx.listener.nodeId)) return [];
      return toResult(ctx, brokerConfigEntries(ctx), keys, includeSynonyms, includeDocumentation);
    default:
      throw unsupportedResourceType(resourceType);
  }
}

export const describeConfigsHandler: Handler<DescribeConfigsRequest, Init<DescribeConfigsResponse>> = {
  apiKey: 32,
  minVersion: 1,
  maxVersion: 4,
  handle(ctx, request) {
    const results: Init<DescribeConfigsResult>[] = request.resources.map((resource) => {
      const base = { resourceType: resource.resourceType, resourceName: resource.resourceName };
      try {
        const configs = describeResource(ctx, resource.resourceType, resource.resourceName, resource.configurationKeys, request.includeSynonyms, request.includeDocumentation);
        return { ...base, errorCode: 0, errorMessage: null, configs };
      } catch (err) {
        return { ...base, ...apiErrorOf(err), configs: [] };
      }
    });
    return { throttleTimeMs: 0, results };
  },
};
