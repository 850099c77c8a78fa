// InitProducerId (key 22), v0-5, for idempotent producers. A transactional.id
// is refused until transactions land (the client learns why from
// FindCoordinator's error message first). KIP-360: a producer that presents its
// current id and epoch gets the epoch bumped instead of a new id.

import type { InitProducerIdRequest } from '../../protocol/kafka/generated/init-producer-id-request.ts';
import type { InitProducerIdResponse } from '../../protocol/kafka/generated/init-producer-id-response.ts';
import type { Init } from '../../protocol/kafka/codec/index.ts';
import { kafkaError } from '../error-codes.ts';
import type { Handler } from './types.ts';

const EPOCH_MAX = 32_767;

export const initProducerIdHandler: Handler<InitProducerIdRequest, Init<InitProducerIdResponse>> = {
  apiKey: 22,
  minVersion: 0,
  maxVersion: 5,
  handle(ctx, request) {
    if (request.transactionalId !== null) {
      return { throttleTimeMs: 0, errorCode: kafkaError('TRANSACTIONAL_ID_NOT_SUPPORTED'), producerId: -1, producerEpoch: -1 };
    }
    if (request.producerId >= 0 && request.producerEpoch >= 0 && request.producerEpoch < EPOCH_MAX) {
      return { throttleTimeMs: 0, errorCode: 0, producerId: request.producerId, producerEpoch: request.producerEpoch + 1 };
    }
    const { producerId, producerEpoch } = ctx.broker.producers.allocate();
    return { throttleTimeMs: 0, errorCode: 0, producerId, producerEpoch };
  },
};
