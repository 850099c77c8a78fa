// Between stored records and RocketMQ's wire forms: pull/query/view bodies
// (stored-message records, rocketmq-remoting.md §6) built from decoded
// records, and message ids that pack (topic, queue, offset) (DESIGN.md §2).

import { recordWireProperties } from '../broker/rocketmq-mapping.ts';
import type { Topic } from '../broker/topics.ts';
import {
  offsetMsgId,
  packable,
  packLocation,
  PROPERTIES_BYTES_MAX,
  storedMessageSize,
  TOPIC_BYTES_MAX_V1,
  writeStoredMessage,
  type StoredMessage,
} from '../protocol/rocketmq/index.ts';
import type { DecodedRecord } from '../storage/records.ts';

const EMPTY = Buffer.alloc(0);

/** The commit-log offset words of a message; (0, 0) when the location does not fit the packing. */
export function physicalOffset(topic: Topic, queueId: number, queueOffset: number): { high: number; low: number } {
  if (topic.ordinal < 0 || !packable(queueId, queueOffset)) return { high: 0, low: 0 };
  return packLocation(topic.ordinal, queueId, queueOffset);
}

export function messageIdOf(storeHost: Buffer, topic: Topic, queueId: number, queueOffset: number): string {
  const { high, low } = physicalOffset(topic, queueId, queueOffset);
  return offsetMsgId(storeHost, high, low);
}

/** Encodes records of one queue as a concatenation of stored-message records. */
export function encodeMessages(storeHost: Buffer, topic: Topic, queueId: number, records: readonly DecodedRecord[], topicNameOverride?: string): Buffer {
  const topicBytes = Buffer.from(topicNameOverride ?? topic.name, 'utf8').subarray(0, TOPIC_BYTES_MAX_V1);
  const parts: StoredMessage[] = [];
  let total = 0;
  for (const record of records) {
    const m = recordWireProperties(record);
    let properties = m.properties;
    // An int16 length: properties beyond it (only possible for Kafka-produced headers) are cut at a pair boundary.
    if (properties.length > PROPERTIES_BYTES_MAX) properties = truncateProperties(properties);
    const { high, low } = physicalOffset(topic, queueId, record.offset);
    const stored: StoredMessage = {
      queueId,
      flag: m.flag,
      queueOffset: record.offset,
      physicalHigh: high,
      physicalLow: low,
      sysFlag: 0,
      bornTimestampMs: record.timestampMs,
      bornHost: storeHost,
      storeTimestampMs: record.timestampMs,
      storeHost,
      reconsumeTimes: m.reconsumeTimes,
      body: record.value ?? EMPTY,
      topic: topicBytes,
      properties,
    };
    parts.push(stored);
    total += storedMessageSize(stored.body.length, topicBytes.length, properties.length);
  }
  const out = Buffer.allocUnsafe(total);
  let pos = 0;
  for (const m of parts) pos = writeStoredMessage(out, pos, m);
  return out;
}

function truncateProperties(properties: Buffer): Buffer {
  let end = properties.lastIndexOf(2, PROPERTIES_BYTES_MAX - 1);
  if (end < 0) return properties.subarray(0, 0);
  return properties.subarray(0, end + 1);
}
