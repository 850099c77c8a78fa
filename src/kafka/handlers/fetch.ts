// Fetch (key 1), v4-18, sessionless (KIP-227 sessions are optional: answering
// sessionId 0 keeps clients on full fetches). Returns stored batches unchanged
// (zero copy into the response): the first may start before fetchOffset and,
// per KIP-74, the first batch goes out whole even beyond the size limits.
// Long poll: while fewer than minBytes are ready, wait up to maxWaitMs for an
// append to any requested partition. v13+ name topics by id.

import type { FetchRequest } from '../../protocol/kafka/generated/fetch-request.ts';
import type { FetchResponse, FetchableTopicResponse, PartitionData } from '../../protocol/kafka/generated/fetch-response.ts';
import type { Init } from '../../protocol/kafka/codec/index.ts';
import type { PartitionLog } from '../../storage/partition-log.ts';
import type { Topic } from '../../broker/topics.ts';
import { KAFKA_ERROR, kafkaError } from '../error-codes.ts';
import type { Handler, RequestContext } from './types.ts';

const EMPTY = Buffer.alloc(0);
/** Cap on a single fetch wait; clients use 500 ms by default. */
const MAX_WAIT_MS = 30_000;

interface Pass {
  topics: Init<FetchableTopicResponse>[];
  bytes: number;
  logs: PartitionLog[];
  errors: number;
  /** Pooled slabs the records point into; back to the pool once unused. */
  slabs: Buffer[];
}

function errorPartition(partitionIndex: number, errorCode: number): Init<PartitionData> {
  return { partitionIndex, errorCode, highWatermark: -1, lastStableOffset: -1, logStartOffset: -1, abortedTransactions: null, preferredReadReplica: -1, records: EMPTY };
}

function readPass(ctx: RequestContext, request: FetchRequest): Pass {
  const { broker } = ctx;
  const byId = ctx.apiVersion >= 13;
  let budget = request.maxBytes > 0 ? request.maxBytes : 0x7fff_ffff;
  const pass: Pass = { topics: [], bytes: 0, logs: [], errors: 0, slabs: [] };
  const alloc = (size: number): Buffer => {
    const slab = ctx.pool.take(size);
    pass.slabs.push(slab);
    return slab;
  };
  for (const wanted of request.topics) {
    const topic: Topic | undefined = byId ? broker.topics.byId(wanted.topicId) : broker.topics.get(wanted.topic);
    const partitions: Init<PartitionData>[] = [];
    for (const p of wanted.partitions) {
      if (topic === undefined) {
        partitions.push(errorPartition(p.partition, byId ? KAFKA_ERROR.UNKNOWN_TOPIC_ID : KAFKA_ERROR.UNKNOWN_TOPIC_OR_PARTITION));
        pass.errors++;
        continue;
      }
      // Once the response is full, later partitions answer with no records (not an error).
      const limit = Math.min(p.partitionMaxBytes, budget);
      if (limit <= 0 && pass.bytes > 0) {
        const log = broker.topics.partitionLog(topic, p.partition);
        partitions.push({ partitionIndex: p.partition, errorCode: 0, highWatermark: log.logEndOffset, lastStableOffset: log.logEndOffset, logStartOffset: log.logStartOffset, abortedTransactions: request.isolationLevel === 1 ? [] : null, preferredReadReplica: -1, records: EMPTY });
        continue;
      }
      const outcome = broker.read(topic, p.partition, p.fetchOffset, Math.max(limit, 1), alloc);
      if (outcome.errorCode !== 'NONE' || outcome.result === null) {
        pass.errors++;
        partitions.push({ ...errorPartition(p.partition, kafkaError(outcome.errorCode)), highWatermark: outcome.highWatermark, lastStableOffset: outcome.highWatermark, logStartOffset: outcome.logStartOffset });
        continue;
      }
      const result = outcome.result;
      pass.logs.push(broker.topics.partitionLog(topic, p.partition));
      pass.bytes += result.bytes.length;
      budget -= result.bytes.length;
      partitions.push({
        partitionIndex: p.partition,
        errorCode: 0,
        highWatermark: outcome.highWatermark,
        // No transactions yet: everything is stable.
        lastStableOffset: outcome.highWatermark,
        logStartOffset: result.logStartOffset,
        abortedTransactions: request.isolationLevel === 1 ? [] : null,
        preferredReadReplica: -1,
        records: result.bytes,
      });
    }
    pass.topics.push({ topic: wanted.topic, topicId: wanted.topicId, partitions });
  }
  return pass;
}

export const fetchHandler: Handler<FetchRequest, Init<FetchResponse>> = {
  apiKey: 1,
  minVersion: 4,
  maxVersion: 18,
  async handle(ctx, request) {
    let pass = readPass(ctx, request);
    const minBytes = Math.max(request.minBytes, 1);
    const waitMs = Math.min(Math.max(request.maxWaitMs, 0), MAX_WAIT_MS);
    if (pass.bytes < minBytes && pass.errors === 0 && waitMs > 0 && pass.logs.length > 0) {
      const deadline = Date.now() + waitMs;
      // Wake on each append until enough bytes are ready or the wait is over.
      for (let rounds = 0; rounds < 1000 && pass.bytes < minBytes; rounds++) {
        const remaining = deadline - Date.now();
        if (remaining <= 0) break;
        await ctx.broker.waitForData(pass.logs, remaining).promise;
        for (const slab of pass.slabs) ctx.pool.give(slab);
        pass = readPass(ctx, request);
        if (pass.errors > 0) break;
      }
    }
    const slabs = pass.slabs;
    ctx.afterResponseWritten(() => {
      for (const slab of slabs) ctx.pool.give(slab);
    });
    return { throttleTimeMs: 0, errorCode: 0, sessionId: 0, responses: pass.topics };
  },
};
