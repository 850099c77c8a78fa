// DescribeCluster (key 60), v0-2 (KIP-700; v1 endpointType (KIP-919), v2
// includeFencedBrokers / isFenced (KIP-1073)). The Java Admin's describeCluster.
// One broker — this node at its advertised address, never fenced — which is
// also the controller id reported. As Kafka's AuthHelper
// .computeDescribeClusterResponse: endpointType 2 (controllers) →
// MISMATCHED_ENDPOINT_TYPE, an unknown type → UNSUPPORTED_ENDPOINT_TYPE
// (INVALID_REQUEST at v0). With includeClusterAuthorizedOperations the bit
// field lists every cluster operation: Diglot has no ACLs, as a Kafka broker
// without an authorizer.

import type { DescribeClusterRequest } from '../../protocol/kafka/generated/describe-cluster-request.ts';
import type { DescribeClusterResponse } from '../../protocol/kafka/generated/describe-cluster-response.ts';
import type { Init } from '../../protocol/kafka/codec/index.ts';
import { KAFKA_ERROR } from '../error-codes.ts';
import { AUTHORIZED_OPERATIONS_OMITTED, CLUSTER_AUTHORIZED_OPERATIONS } from './admin-common.ts';
import type { Handler } from './types.ts';

const BROKERS = 1;
const CONTROLLERS = 2;

export const describeClusterHandler: Handler<DescribeClusterRequest, Init<DescribeClusterResponse>> = {
  apiKey: 60,
  minVersion: 0,
  maxVersion: 2,
  handle(ctx, request) {
    const v = ctx.apiVersion;
    const response: Init<DescribeClusterResponse> = { throttleTimeMs: 0, clusterAuthorizedOperations: AUTHORIZED_OPERATIONS_OMITTED };
    if (request.endpointType !== BROKERS) {
      const known = request.endpointType === CONTROLLERS;
      response.errorCode = v === 0 ? KAFKA_ERROR.INVALID_REQUEST : known ? KAFKA_ERROR.MISMATCHED_ENDPOINT_TYPE : KAFKA_ERROR.UNSUPPORTED_ENDPOINT_TYPE;
      response.errorMessage = known
        ? 'The request was sent to an endpoint of type BROKER, but we wanted an endpoint of type CONTROLLER'
        : `Unsupported endpoint type ${request.endpointType}`;
      return response;
    }
    const { nodeId, advertisedHost, advertisedPort } = ctx.listener;
    response.errorCode = 0;
    response.errorMessage = null;
    response.clusterId = ctx.broker.clusterId;
    response.controllerId = nodeId;
    response.endpointType = BROKERS;
    // isFenced (v2+) is false, its default, so it can be given at every version.
    response.brokers = [{ brokerId: nodeId, host: advertisedHost, port: advertisedPort, rack: null, isFenced: false }];
    if (request.includeClusterAuthorizedOperations) response.clusterAuthorizedOperations = CLUSTER_AUTHORIZED_OPERATIONS;
    return response;
  },
};
