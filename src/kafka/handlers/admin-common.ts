// Pieces shared by the admin handlers (CreateTopics, CreatePartitions, the
// three config APIs, DescribeCluster, DescribeTopicPartitions): a per-item
// error carrying a Kafka code and message, the replica-assignment check of a
// single node, config resource types, and the authorized-operations bit fields
// that a Kafka broker without an authorizer reports (Diglot has no ACLs, so
// every operation is allowed).

import { BrokerError, fromStorageCode } from '../../broker/errors.ts';
import { StorageError } from '../../storage/errors.ts';
import { KAFKA_ERROR, kafkaError } from '../error-codes.ts';

/** An error answered for one topic, partition or resource; other items go on. */
export class KafkaApiError extends Error {
  readonly errorCode: number;
  constructor(errorCode: number, message: string) {
    super(message);
    this.name = 'KafkaApiError';
    this.errorCode = errorCode;
  }
}

/** The Kafka error code and message of an expected failure; rethrows anything else (a bug). */
export function apiErrorOf(err: unknown): { errorCode: number; errorMessage: string } {
  if (err instanceof KafkaApiError) return { errorCode: err.errorCode, errorMessage: err.message };
  if (err instanceof BrokerError) return { errorCode: kafkaError(err.code), errorMessage: err.message };
  if (err instanceof StorageError) return { errorCode: kafkaError(fromStorageCode(err.code)), errorMessage: err.message };
  throw err;
}

/**
 * Validates one manual replica list the way Kafka's controller does
 * (ReplicationControlManager.validateManualPartitionAssignment): not empty,
 * every broker registered — here only this node — and no broker twice.
 */
export function checkReplicaAssignment(brokerIds: readonly number[], nodeId: number): void {
  if (brokerIds.length === 0) {
    throw new KafkaApiError(KAFKA_ERROR.INVALID_REPLICA_ASSIGNMENT, 'The manual partition assignment includes an empty replica list.');
  }
  const sorted = [...brokerIds].sort((a, b) => a - b);
  for (let i = 0; i < sorted.length; i++) {
    const id = sorted[i]!;
    if (id !== nodeId) {
      throw new KafkaApiError(KAFKA_ERROR.INVALID_REPLICA_ASSIGNMENT, `The manual partition assignment includes broker ${id}, but no such broker is registered (this single node is broker ${nodeId}).`);
    }
    if (i > 0 && sorted[i - 1] === id) {
      throw new KafkaApiError(KAFKA_ERROR.INVALID_REPLICA_ASSIGNMENT, `The manual partition assignment includes the broker ${id} more than once.`);
    }
  }
}

/** ConfigResource.Type ids (clients/.../config/ConfigResource.java). */
export const RESOURCE_TYPE = {
  TOPIC: 2,
  BROKER: 4,
  BROKER_LOGGER: 8,
  CLIENT_METRICS: 16,
  GROUP: 32,
} as const;

/** DescribeConfigsResponse.ConfigSource ids. */
export const CONFIG_SOURCE = {
  DYNAMIC_TOPIC_CONFIG: 1,
  DEFAULT_CONFIG: 5,
} as const;

/** The answer for resource types Kafka knows but Diglot does not serve, or unknown ones. */
export function unsupportedResourceType(resourceType: number): KafkaApiError {
  switch (resourceType) {
    case RESOURCE_TYPE.BROKER_LOGGER:
      return new KafkaApiError(KAFKA_ERROR.INVALID_REQUEST, 'BROKER_LOGGER resources are not supported: Diglot sets its log level at start (logLevel in the config file or DIGLOT_LOG_LEVEL)');
    case RESOURCE_TYPE.CLIENT_METRICS:
      return new KafkaApiError(KAFKA_ERROR.INVALID_REQUEST, 'CLIENT_METRICS resources (KIP-714) are not supported by Diglot');
    case RESOURCE_TYPE.GROUP:
      return new KafkaApiError(KAFKA_ERROR.INVALID_REQUEST, 'GROUP config resources (KIP-848) are not supported by Diglot yet');
    default:
      return new KafkaApiError(KAFKA_ERROR.INVALID_REQUEST, `Unsupported resource type: ${resourceType}`);
  }
}

/**
 * A BROKER resource name must be empty (cluster-wide defaults) or this node's
 * id (ConfigHelper.resourceNameToBrokerId / ConfigAdminManager). Returns
 * whether it names this node (false for the empty, cluster-default name).
 */
export function checkBrokerResourceName(name: string, nodeId: number): boolean {
  if (name === '') return false;
  if (!/^[+-]?\d{1,10}$/.test(name) || Number(name) > 0x7fff_ffff || Number(name) < -0x8000_0000) {
    throw new KafkaApiError(KAFKA_ERROR.INVALID_REQUEST, `Broker id must be an integer, but it is: ${name}`);
  }
  if (Number(name) !== nodeId) {
    throw new KafkaApiError(KAFKA_ERROR.INVALID_REQUEST, `Unexpected broker id, expected ${nodeId} or empty string, but received ${name}`);
  }
  return true;
}

// AclOperation codes: READ 3, WRITE 4, CREATE 5, DELETE 6, ALTER 7, DESCRIBE 8,
// CLUSTER_ACTION 9, DESCRIBE_CONFIGS 10, ALTER_CONFIGS 11, IDEMPOTENT_WRITE 12.
const bits = (...ops: number[]): number => ops.reduce((acc, op) => acc | (1 << op), 0);

/** AclEntry.supportedOperations(TOPIC), all allowed (no authorizer). */
export const TOPIC_AUTHORIZED_OPERATIONS = bits(3, 4, 5, 6, 7, 8, 10, 11);
/** AclEntry.supportedOperations(CLUSTER), all allowed (no authorizer). */
export const CLUSTER_AUTHORIZED_OPERATIONS = bits(5, 7, 8, 9, 10, 11, 12);
/** The schema default: "not requested". */
export const AUTHORIZED_OPERATIONS_OMITTED = -2147483648;
