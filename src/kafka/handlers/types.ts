// What a Kafka API handler is: one file per API key, stating the versions it
// serves (ApiVersions is computed from these), and a function from a decoded
// request to a response body (or NO_RESPONSE, for acks=0 produce).

import type { Broker } from '../../broker/broker.ts';
import type { Logger } from '../../logger.ts';
import type { BufferPool } from '../../storage/buffer-pool.ts';

export const NO_RESPONSE: unique symbol = Symbol('no response');

export interface ListenerInfo {
  nodeId: number;
  /** Host and port clients are told to connect to (Metadata, FindCoordinator). */
  advertisedHost: string;
  advertisedPort: number;
}

export interface RequestContext {
  readonly broker: Broker;
  readonly listener: ListenerInfo;
  readonly clientId: string | null;
  readonly clientHost: string;
  readonly apiVersion: number;
  readonly logger: Logger;
  /** Extra services registered by the server. */
  readonly services: KafkaServices;
  /** Slabs for large short-lived buffers (fetch reads); give them back once unused. */
  readonly pool: BufferPool;
  /** Runs `fn` once this request's response has been handed to the socket (or was not sent). */
  afterResponseWritten(fn: () => void): void;
}

/** Services beyond the broker seam that some handlers need; filled in by the server. */
export interface KafkaServices {
  [name: string]: unknown;
}

export type HandlerResult<Res> = Res | typeof NO_RESPONSE | Promise<Res | typeof NO_RESPONSE>;

export interface Handler<Req = any, Res = any> {
  readonly apiKey: number;
  /** Lowest and highest version served; advertised as is (Produce advertises 0 and closes on 0-2). */
  readonly minVersion: number;
  readonly maxVersion: number;
  /** Versions in [advertisedMin, minVersion) are advertised but answered by closing the connection. */
  readonly advertisedMinVersion?: number;
  handle(ctx: RequestContext, request: Req): HandlerResult<Res>;
}
