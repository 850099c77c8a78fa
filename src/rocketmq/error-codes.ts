// Neutral broker error codes → RocketMQ response codes, in one table (DESIGN.md §4).

import type { BrokerErrorCode } from '../broker/errors.ts';
import { ResponseCode } from '../protocol/rocketmq/index.ts';

const TABLE: Partial<Record<BrokerErrorCode, number>> = {
  NONE: ResponseCode.SUCCESS,
  UNKNOWN_TOPIC_OR_PARTITION: ResponseCode.TOPIC_NOT_EXIST,
  UNKNOWN_TOPIC_ID: ResponseCode.TOPIC_NOT_EXIST,
  TOPIC_ALREADY_EXISTS: ResponseCode.TOPIC_EXIST_ALREADY,
  INVALID_TOPIC: ResponseCode.INVALID_PARAMETER,
  INVALID_PARTITIONS: ResponseCode.INVALID_PARAMETER,
  INVALID_CONFIG: ResponseCode.INVALID_PARAMETER,
  INVALID_REQUEST: ResponseCode.INVALID_PARAMETER,
  CORRUPT_MESSAGE: ResponseCode.MESSAGE_ILLEGAL,
  INVALID_RECORD: ResponseCode.MESSAGE_ILLEGAL,
  MESSAGE_TOO_LARGE: ResponseCode.MESSAGE_ILLEGAL,
  INVALID_TIMESTAMP: ResponseCode.MESSAGE_ILLEGAL,
  STORAGE_ERROR: ResponseCode.SERVICE_NOT_AVAILABLE,
  POLICY_VIOLATION: ResponseCode.NO_PERMISSION,
  GROUP_ID_NOT_FOUND: ResponseCode.SUBSCRIPTION_GROUP_NOT_EXIST,
};

export function rocketmqCode(code: BrokerErrorCode): number {
  return TABLE[code] ?? ResponseCode.SYSTEM_ERROR;
}
