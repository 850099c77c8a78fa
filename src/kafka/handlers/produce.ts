// Produce (key 0): serves v3-13, advertises v0 as Kafka 4 does (KAFKA-18659:
// old librdkafka checks features against single versions) and closes the
// connection on v0-2. Each partition must carry exactly one RecordBatch v2
// (ProduceRequest.validateRecords); the batch is stored as received — never
// decompressed or recompressed — with baseOffset patched in place.
// acks=0 gets no response; acks=1 answers once the batch is in the log (the
// connection commits staged writes first); acks=-1 waits until it is durable.
// Delay topics (config diglot.delay.enable): records with delay headers are
// held by the broker's delay service; such a partition answers base offset -1.

import type { ProduceRequest } from '../../protocol/kafka/generated/produce-request.ts';
import type { PartitionProduceResponse, ProduceResponse, TopicProduceResponse } from '../../protocol/kafka/generated/produce-response.ts';
import type { Init } from '../../protocol/kafka/codec/index.ts';
import type { PartitionLog } from '../../storage/partition-log.ts';
import { ATTRIBUTES, ATTR_COMPRESSION_MASK, ATTR_CONTROL, ATTR_TRANSACTIONAL, BATCH_HEADER_BYTES, LOG_OVERHEAD, MAGIC, readInt16, readInt32 } from '../../storage/record-batch.ts';
import { KAFKA_ERROR, kafkaError } from '../error-codes.ts';
import { NO_RESPONSE, type Handler } from './types.ts';

const ZSTD = 4;

function partitionError(index: number, errorCode: number, errorMessage: string): Init<PartitionProduceResponse> {
  return { index, errorCode, baseOffset: -1, logAppendTimeMs: -1, logStartOffset: -1, errorMessage };
}

/** Why a partition's records cannot be appended, or null. */
function checkRecords(records: Buffer | null, apiVersion: number): { code: number; message: string } | null {
  if (records === null || records.length < BATCH_HEADER_BYTES) {
    return { code: KAFKA_ERROR.INVALID_RECORD, message: 'a produce request must carry one record batch per partition' };
  }
  if (LOG_OVERHEAD + readInt32(records, 8) !== records.length) {
    return { code: KAFKA_ERROR.INVALID_RECORD, message: 'a produce request must carry exactly one record batch per partition (v3+)' };
  }
  if (records[MAGIC] !== 2) return { code: KAFKA_ERROR.INVALID_RECORD, message: `record batch magic ${records[MAGIC]}; produce v3+ requires magic 2` };
  const attributes = readInt16(records, ATTRIBUTES);
  const codec = attributes & ATTR_COMPRESSION_MASK;
  if (codec > ZSTD) return { code: KAFKA_ERROR.INVALID_RECORD, message: `unknown compression codec ${codec}` };
  if (codec === ZSTD && apiVersion < 7) {
    return { code: KAFKA_ERROR.UNSUPPORTED_COMPRESSION_TYPE, message: 'zstd batches need produce v7 or later' };
  }
  if ((attributes & ATTR_CONTROL) !== 0) return { code: KAFKA_ERROR.INVALID_RECORD, message: 'clients may not produce control batches' };
  if ((attributes & ATTR_TRANSACTIONAL) !== 0) {
    return { code: KAFKA_ERROR.INVALID_RECORD, message: 'transactional batches are not supported yet (transactions come in a later release)' };
  }
  return null;
}

export const produceHandler: Handler<ProduceRequest, Init<ProduceResponse>> = {
  apiKey: 0,
  minVersion: 3,
  maxVersion: 13,
  advertisedMinVersion: 0,
  handle(ctx, request) {
    const { broker } = ctx;
    const acks = request.acks;
    const responses: Init<TopicProduceResponse>[] = [];
    const toSync: PartitionLog[] = [];
    let heldFlush: (() => Promise<void>) | null = null;
    for (const topicData of request.topicData) {
      const byId = ctx.apiVersion >= 13;
      const topic = byId ? broker.topics.byId(topicData.topicId) : broker.topics.get(topicData.name);
      const partitionResponses: Init<PartitionProduceResponse>[] = [];
      for (const data of topicData.partitionData) {
        if (acks !== 0 && acks !== 1 && acks !== -1) {
          partitionResponses.push(partitionError(data.index, KAFKA_ERROR.INVALID_REQUIRED_ACKS, `acks must be 0, 1 or -1, got ${acks}`));
          continue;
        }
        if (request.transactionalId !== null) {
          partitionResponses.push(partitionError(data.index, KAFKA_ERROR.INVALID_REQUEST, 'transactional produce is not supported yet'));
          continue;
        }
        if (topic === undefined || topic.internal) {
          const code = byId ? KAFKA_ERROR.UNKNOWN_TOPIC_ID : KAFKA_ERROR.UNKNOWN_TOPIC_OR_PARTITION;
          partitionResponses.push(partitionError(data.index, code, 'this server does not host this topic-partition'));
          continue;
        }
        const invalid = checkRecords(data.records, ctx.apiVersion);
        if (invalid !== null) {
          partitionResponses.push(partitionError(data.index, invalid.code, invalid.message));
          continue;
        }
        const outcome = broker.appendBatch(topic, data.index, data.records!);
        if (outcome.errorCode !== 'NONE') {
          partitionResponses.push(partitionError(data.index, kafkaError(outcome.errorCode), outcome.errorMessage ?? outcome.errorCode));
          continue;
        }
        if (acks === -1 && outcome.log !== null && !toSync.includes(outcome.log)) toSync.push(outcome.log);
        if (acks === -1 && outcome.held !== undefined) heldFlush = outcome.held; // delay topics: records held in __delay
        partitionResponses.push({
          index: data.index,
          errorCode: 0,
          baseOffset: outcome.baseOffset,
          logAppendTimeMs: outcome.logAppendTimeMs,
          logStartOffset: outcome.logStartOffset,
          errorMessage: null,
        });
      }
      responses.push({ name: topicData.name, topicId: topicData.topicId, partitionResponses });
    }
    if (acks === 0) return NO_RESPONSE;
    const response: Init<ProduceResponse> = { responses, throttleTimeMs: 0 };
    if (toSync.length === 0) return response;
    const flushes = toSync.map((log) => log.flush());
    if (heldFlush !== null) flushes.push(heldFlush());
    return Promise.all(flushes).then(
      () => response,
      (err: Error) => {
        ctx.logger.error({ err }, 'produce: durability failed');
        for (const t of responses) {
          for (const p of t.partitionResponses ?? []) {
            const pr = p as Init<PartitionProduceResponse>;
            if (pr.errorCode === 0) Object.assign(pr, partitionError(pr.index ?? 0, KAFKA_ERROR.KAFKA_STORAGE_ERROR, err.message));
          }
        }
        return response;
      },
    );
  },
};
