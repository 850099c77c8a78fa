// What a RocketMQ request handler is: one file per request code (or a small
// family of codes with one shape), a function from the decoded command to a
// response, and the helpers that read typed header fields the way the Java
// broker does (missing required field → "the custom field <x> is null").

import type { RemotingCommand } from '../../protocol/rocketmq/index.ts';
import type { Logger } from '../../logger.ts';
import type { RocketmqState } from '../state.ts';
import type { RocketmqConnection } from '../connection.ts';

export interface Reply {
  code: number;
  remark?: string | null;
  extFields?: Record<string, string> | null;
  /** One buffer, or chunks written back to back. */
  body?: Buffer | readonly Buffer[] | null;
}

/** Oneway requests, and requests answered elsewhere, return this. */
export const NO_REPLY: unique symbol = Symbol('no reply');

export type HandlerResult = Reply | typeof NO_REPLY | Promise<Reply | typeof NO_REPLY>;

export interface RequestContext {
  readonly state: RocketmqState;
  readonly connection: RocketmqConnection;
  readonly logger: Logger;
}

export interface RocketmqHandler {
  /** Request codes served (rocketmq-remoting.md §3). */
  readonly codes: readonly number[];
  readonly name: string;
  handle(ctx: RequestContext, request: RemotingCommand): HandlerResult;
}

/** A request the Java broker would refuse while decoding its custom header. */
export class HeaderError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'HeaderError';
  }
}

export function requireString(request: RemotingCommand, field: string): string {
  const value = request.extFields[field];
  if (value === undefined) throw new HeaderError(`the custom field <${field}> is null`);
  return value;
}

export function optionalString(request: RemotingCommand, field: string): string | undefined {
  return request.extFields[field];
}

function parseInteger(value: string, field: string, min: number, max: number): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isInteger(n) || n < min || n > max) throw new HeaderError(`the custom field <${field}> is not an integer in [${min}, ${max}]: ${JSON.stringify(value)}`);
  return n;
}

const INT_MIN = -(2 ** 31);
const INT_MAX = 2 ** 31 - 1;

export function requireInt(request: RemotingCommand, field: string): number {
  return parseInteger(requireString(request, field), field, INT_MIN, INT_MAX);
}

export function optionalInt(request: RemotingCommand, field: string, fallback: number): number {
  const value = request.extFields[field];
  return value === undefined ? fallback : parseInteger(value, field, INT_MIN, INT_MAX);
}

/** A Java long, kept as a Number: values beyond ±2^53 are refused (offsets and times never get there). */
export function requireLong(request: RemotingCommand, field: string): number {
  return parseInteger(requireString(request, field), field, Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER);
}

export function optionalLong(request: RemotingCommand, field: string, fallback: number): number {
  const value = request.extFields[field];
  return value === undefined ? fallback : parseInteger(value, field, Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER);
}

/** Java Boolean.parseBoolean: true only for "true" (any case). */
export function optionalBool(request: RemotingCommand, field: string, fallback: boolean): boolean {
  const value = request.extFields[field];
  return value === undefined ? fallback : value.toLowerCase() === 'true';
}

/** A JSON request body (HEART_BEAT, LOCK_BATCH_MQ...), or a HeaderError naming what is wrong. */
export function jsonBody<T>(request: RemotingCommand, what: string): T {
  if (request.body.length === 0) throw new HeaderError(`${what} needs a JSON body`);
  try {
    return JSON.parse(request.body.toString('utf8')) as T;
  } catch (err) {
    throw new HeaderError(`${what} body is not JSON: ${(err as Error).message}`);
  }
}

/** A JSON body that must be an object (its fields are read next: `null`, `7` or `[]` would throw a TypeError). */
export function jsonObjectBody<T>(request: RemotingCommand, what: string): T {
  const value = jsonBody<unknown>(request, what);
  if (!isObject(value)) throw new HeaderError(`${what} body is not a JSON object`);
  return value as T;
}

/** A JSON object (not null, not an array): what a body's nested entries must be before their fields are read. */
export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** JSON body bytes of a reply. */
export function json(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(value), 'utf8');
}
