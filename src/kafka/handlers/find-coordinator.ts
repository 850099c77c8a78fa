// FindCoordinator (key 10), v0-6 (v4+ batched). This node coordinates every
// group. Transaction coordinators (key type 1) are refused with a message until
// transactions land; the error is not retriable, so clients fail fast and say why.

import type { FindCoordinatorRequest } from '../../protocol/kafka/generated/find-coordinator-request.ts';
import type { Coordinator, FindCoordinatorResponse } from '../../protocol/kafka/generated/find-coordinator-response.ts';
import type { Init } from '../../protocol/kafka/codec/index.ts';
import { KAFKA_ERROR, kafkaError } from '../error-codes.ts';
import type { Handler } from './types.ts';

const GROUP = 0;
const TRANSACTION = 1;

export const findCoordinatorHandler: Handler<FindCoordinatorRequest, Init<FindCoordinatorResponse>> = {
  apiKey: 10,
  minVersion: 0,
  maxVersion: 6,
  handle(ctx, request) {
    const { nodeId, advertisedHost, advertisedPort } = ctx.listener;
    const answer = (key: string): Init<Coordinator> => {
      if (request.keyType === TRANSACTION) {
        return { key, nodeId: -1, host: '', port: -1, errorCode: kafkaError('TRANSACTIONAL_ID_NOT_SUPPORTED'), errorMessage: 'transactions are not supported by Diglot yet' };
      }
      if (request.keyType !== GROUP) {
        return { key, nodeId: -1, host: '', port: -1, errorCode: KAFKA_ERROR.INVALID_REQUEST, errorMessage: `unknown coordinator key type ${request.keyType}` };
      }
      return { key, nodeId, host: advertisedHost, port: advertisedPort, errorCode: 0, errorMessage: null };
    };
    if (ctx.apiVersion >= 4) return { throttleTimeMs: 0, coordinators: request.coordinatorKeys.map(answer) };
    const single = answer(request.key);
    return { throttleTimeMs: 0, errorCode: single.errorCode, errorMessage: single.errorMessage, nodeId: single.nodeId, host: single.host, port: single.port };
  },
};
