// Idempotent producers: producer id allocation (InitProducerId) and the
// per-(producer, partition) sequence check that turns retries into no-ops.
// Rules as Kafka's ProducerAppendInfo: the epoch plus the last 5 batches are
// kept; a duplicate of one of them is answered with its original offset.
//
// State is in memory: after a restart a producer has no state and its next
// sequence is accepted as is (Kafka's rule for an unknown producer), so a retry
// that straddles a restart can be appended twice. Producer ids stay unique
// across restarts because they start from the wall clock in microseconds.

import type { BrokerErrorCode } from './errors.ts';

/** Kafka ProducerStateEntry.NUM_BATCHES_TO_RETAIN: why clients cap in-flight requests at 5. */
export const BATCHES_RETAINED = 5;
/** Producers tracked per partition; the least recently used beyond this are forgotten. */
const PRODUCERS_PER_PARTITION_MAX = 10_000;
const INT32_MAX = 0x7fff_ffff;

interface RetainedBatch {
  firstSequence: number;
  lastSequence: number;
  baseOffset: number;
  lastOffset: number;
}

interface ProducerEntry {
  epoch: number;
  batches: RetainedBatch[];
}

export type SequenceCheck =
  | { kind: 'append' }
  | { kind: 'duplicate'; baseOffset: number; lastOffset: number }
  | { kind: 'error'; code: BrokerErrorCode; message: string };

const APPEND: SequenceCheck = { kind: 'append' };

export class ProducerStates {
  readonly #byPartition = new Map<string, Map<number, ProducerEntry>>();
  #nextProducerId: number;

  constructor(nowMs: () => number) {
    this.#nextProducerId = nowMs() * 1000;
  }

  /** A fresh producer id with epoch 0 (InitProducerId without a transactional id). */
  allocate(): { producerId: number; producerEpoch: number } {
    const producerId = this.#nextProducerId++;
    return { producerId, producerEpoch: 0 };
  }

  /** Whether a batch from an idempotent producer may be appended to `partitionKey`. */
  check(partitionKey: string, producerId: number, epoch: number, firstSequence: number, recordCount: number): SequenceCheck {
    if (producerId < 0) return APPEND;
    if (firstSequence < 0) return { kind: 'error', code: 'INVALID_RECORD', message: `producer ${producerId} sent baseSequence ${firstSequence}` };
    const entry = this.#byPartition.get(partitionKey)?.get(producerId);
    if (entry === undefined) return APPEND;
    if (epoch < entry.epoch) {
      return { kind: 'error', code: 'INVALID_PRODUCER_EPOCH', message: `producer ${producerId} epoch ${epoch} is older than ${entry.epoch}` };
    }
    if (epoch > entry.epoch) {
      if (firstSequence !== 0) {
        return { kind: 'error', code: 'OUT_OF_ORDER_SEQUENCE_NUMBER', message: `producer ${producerId} bumped its epoch to ${epoch} but started at sequence ${firstSequence}, not 0` };
      }
      return APPEND;
    }
    const lastSequence = addSequence(firstSequence, recordCount - 1);
    for (const batch of entry.batches) {
      if (batch.firstSequence === firstSequence && batch.lastSequence === lastSequence) {
        return { kind: 'duplicate', baseOffset: batch.baseOffset, lastOffset: batch.lastOffset };
      }
    }
    const last = entry.batches[entry.batches.length - 1];
    if (last !== undefined && firstSequence !== addSequence(last.lastSequence, 1)) {
      return {
        kind: 'error',
        code: 'OUT_OF_ORDER_SEQUENCE_NUMBER',
        message: `producer ${producerId} sent sequence ${firstSequence}; expected ${addSequence(last.lastSequence, 1)}`,
      };
    }
    return APPEND;
  }

  /** Records an appended batch of an idempotent producer. */
  record(partitionKey: string, producerId: number, epoch: number, firstSequence: number, recordCount: number, baseOffset: number): void {
    if (producerId < 0) return;
    let producers = this.#byPartition.get(partitionKey);
    if (producers === undefined) this.#byPartition.set(partitionKey, (producers = new Map()));
    let entry = producers.get(producerId);
    if (entry === undefined || epoch > entry.epoch) {
      entry = { epoch, batches: [] };
    } else {
      producers.delete(producerId); // re-insert below: Map order is the LRU order
    }
    producers.set(producerId, entry);
    entry.batches.push({ firstSequence, lastSequence: addSequence(firstSequence, recordCount - 1), baseOffset, lastOffset: baseOffset + recordCount - 1 });
    if (entry.batches.length > BATCHES_RETAINED) entry.batches.shift();
    if (producers.size > PRODUCERS_PER_PARTITION_MAX) producers.delete(producers.keys().next().value!);
  }

  /** Forgets the state of a deleted partition. */
  forget(partitionKey: string): void {
    this.#byPartition.delete(partitionKey);
  }
}

/** Sequences wrap from Int32.MAX to 0. */
function addSequence(sequence: number, delta: number): number {
  const next = sequence + delta;
  return next > INT32_MAX ? next - INT32_MAX - 1 : next;
}
