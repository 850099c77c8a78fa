// The one schema every Diglot setting is validated against. Keys are flat and
// camelCase; each has a default (except the optional ones) and a description.
// The same key is spelled `--kebab-case` on the command line and
// `DIGLOT_SCREAMING_SNAKE` in the environment (see names.ts).

import Type, { type Static, type TSchema } from 'typebox';
import { defaultLogManagerConfig, type LogManagerConfig } from '../storage/types.ts';

/** Largest delay Node's timers accept (setTimeout clamps larger values to 1 ms). */
export const TIMER_MS_MAX = 2 ** 31 - 1;

const port = (def: number, what: string) =>
  Type.Integer({ minimum: 0, maximum: 65535, default: def, description: `${what} port (0 picks a free port)` });

const d = defaultLogManagerConfig;

export const ConfigSchema = Type.Object(
  {
    dataDir: Type.String({ minLength: 1, default: './data', description: 'Directory holding the commit log and checkpoints' }),
    host: Type.String({ minLength: 1, default: '0.0.0.0', description: 'Interface every listener binds to' }),
    kafkaPort: port(9092, 'Kafka wire protocol'),
    rocketmqPort: port(9876, 'RocketMQ remoting (name server and broker)'),
    adminPort: port(8080, 'Admin HTTP (/livez, /readyz, /metrics)'),
    advertisedHost: Type.Optional(
      Type.String({ minLength: 1, description: 'Host name clients are told to connect to (default: host, or this machine\'s name when host is 0.0.0.0)' }),
    ),
    logLevel: Type.Enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], {
      default: 'info',
      description: 'Lowest log level written to stdout',
    }),
    shutdownTimeoutMs: Type.Integer({
      minimum: 1,
      maximum: TIMER_MS_MAX,
      default: 30_000,
      description: 'Graceful shutdown deadline; past it the process exits with code 1',
    }),

    // Broker (both protocols).
    nodeId: Type.Integer({ minimum: 0, maximum: 2 ** 31 - 1, default: 1, description: 'This node\'s id in metadata responses' }),
    autoCreateTopics: Type.Boolean({ default: true, description: 'Create unknown topics on first use (Kafka auto.create.topics.enable)' }),
    defaultPartitions: Type.Integer({ minimum: 1, maximum: 100_000, default: 1, description: 'Partitions of auto-created topics (Kafka num.partitions)' }),
    maxMessageBytes: Type.Integer({
      minimum: 0,
      maximum: 2 ** 31 - 1,
      default: 1_048_588,
      description: 'Largest record batch a topic accepts unless its max.message.bytes says otherwise (Kafka message.max.bytes)',
    }),
    groupInitialRebalanceDelayMs: Type.Integer({
      minimum: 0,
      maximum: TIMER_MS_MAX,
      default: 3000,
      description: 'How long the first rebalance of an empty consumer group waits for more members (Kafka group.initial.rebalance.delay.ms)',
    }),
    kafkaFrameBytesMax: Type.Integer({
      minimum: 1024,
      maximum: 2 ** 31 - 1,
      default: 104_857_600,
      description: 'Largest Kafka request frame; bigger ones close the connection (Kafka socket.request.max.bytes)',
    }),

    rocketmqFrameBytesMax: Type.Integer({
      minimum: 1024,
      maximum: 2 ** 31 - 1,
      default: 16_777_216,
      description: 'Largest RocketMQ remoting frame; bigger ones close the connection (RocketMQ com.rocketmq.remoting.frameMaxLength)',
    }),
    rocketmqBrokerName: Type.String({
      minLength: 1,
      maxLength: 127,
      pattern: '^[a-zA-Z0-9_-]+$',
      default: 'broker-a',
      description: 'Broker name in RocketMQ routes and cluster info (RocketMQ brokerName)',
    }),
    rocketmqClusterName: Type.String({
      minLength: 1,
      maxLength: 127,
      pattern: '^[a-zA-Z0-9_-]+$',
      default: 'DefaultCluster',
      description: 'Cluster name in RocketMQ cluster info and the CLUSTER property (RocketMQ brokerClusterName)',
    }),
    rocketmqDefaultQueues: Type.Integer({
      minimum: 1,
      maximum: 4096,
      default: 8,
      description: 'Queues of the TBW102 route RocketMQ producers auto-create topics from (a send asks for at most this many)',
    }),
    rocketmqMaxReconsumeTimes: Type.Integer({
      minimum: 0,
      maximum: 10_000,
      default: 16,
      description: 'Deliveries to a RocketMQ consumer group before a failed message goes to %DLQ%<group> (RocketMQ retryMaxTimes)',
    }),

    // Delay messages (src/delay).
    delayLevels: Type.String({
      minLength: 2,
      maxLength: 1000,
      pattern: '^\\s*\\d+(ms|s|m|h|d)(\\s+\\d+(ms|s|m|h|d))*\\s*$',
      default: '1s 5s 10s 30s 1m 2m 3m 4m 5m 6m 7m 8m 9m 10m 20m 30m 1h 2h',
      allowed: 'durations separated by spaces, each a whole number with ms, s, m, h or d (at most 100 levels)',
      description: 'RocketMQ delay levels 1..N as durations (RocketMQ messageDelayLevel); consumer retries use level 3 + reconsume count',
    }),
    delayHorizonMs: Type.Integer({
      minimum: 1000,
      maximum: 100 * 365 * 24 * 3600 * 1000,
      default: 365 * 24 * 3600 * 1000,
      description: 'Latest delivery time accepted for a delay message, from now; later ones are refused',
    }),

    // Storage: 1:1 with LogManagerConfig (src/storage/types.ts), same defaults,
    // ranges no wider than what LogManager accepts (so bad values exit 2, not 1).
    segmentBytesMax: Type.Integer({
      minimum: 1024,
      maximum: 2 ** 31 - 1,
      default: d.segmentBytesMax,
      description: 'Roll the active segment once it holds this many bytes',
    }),
    segmentAgeMsMax: Type.Integer({
      minimum: 1,
      maximum: Number.MAX_SAFE_INTEGER,
      default: d.segmentAgeMsMax,
      description: 'Roll the active segment once its first batch is this old (ms)',
    }),
    indexIntervalBytes: Type.Integer({
      minimum: 1,
      maximum: 2 ** 31 - 1,
      default: d.indexIntervalBytes,
      description: 'Bytes of log between two sparse index entries',
    }),
    retentionMs: Type.Integer({
      minimum: -1,
      maximum: Number.MAX_SAFE_INTEGER,
      default: d.retentionMs,
      description: 'Delete whole segments whose newest record is older than this (ms); -1 keeps forever',
    }),
    retentionBytes: Type.Integer({
      minimum: -1,
      maximum: Number.MAX_SAFE_INTEGER,
      default: d.retentionBytes,
      description: 'Delete the oldest segments while a partition is larger than this; -1 means unbounded',
    }),
    flushMode: Type.Enum(['interval', 'always'], {
      default: d.flushMode,
      description: "'interval': fdatasync dirty logs every flushIntervalMs; 'always': group-committed fdatasync before every append is acknowledged",
    }),
    flushIntervalMs: Type.Integer({
      minimum: 1,
      maximum: TIMER_MS_MAX,
      default: d.flushIntervalMs,
      description: "How often dirty logs are fdatasync'ed in flushMode 'interval' (ms)",
    }),
    openFilesMax: Type.Integer({
      minimum: 4,
      maximum: 1_000_000,
      default: d.openFilesMax,
      description: 'At most this many files are open at once across all partitions (LRU)',
    }),
    retentionCheckIntervalMs: Type.Integer({
      minimum: 1,
      maximum: TIMER_MS_MAX,
      default: d.retentionCheckIntervalMs,
      description: 'How often retention runs and recovery checkpoints are written (ms)',
    }),
    flushConcurrencyMax: Type.Integer({
      minimum: 1,
      maximum: 1024,
      default: d.flushConcurrencyMax,
      description: 'At most this many fdatasync calls in flight at once',
    }),
    flushCoalesceMs: Type.Integer({
      minimum: 0,
      maximum: 1000,
      default: d.flushCoalesceMs,
      description:
        'When appends waiting for durability (acks=all, flushMode always) arrive faster than fdatasyncs finish, the next fdatasyncs of the busy logs start together in one round, no sooner than this after the previous round (ms); 0 flushes back to back',
    }),
  },
  { additionalProperties: false },
);

export type Config = Static<typeof ConfigSchema>;
export type ConfigKey = keyof Config & string;

/** Every key, in schema (and documentation) order. */
export const configKeys = Object.keys(ConfigSchema.properties) as ConfigKey[];

/** The keys handed to the storage engine unchanged. */
export const storageKeys = [
  'segmentBytesMax',
  'segmentAgeMsMax',
  'indexIntervalBytes',
  'retentionMs',
  'retentionBytes',
  'flushMode',
  'flushIntervalMs',
  'openFilesMax',
  'retentionCheckIntervalMs',
  'flushConcurrencyMax',
  'flushCoalesceMs',
] as const satisfies readonly (keyof LogManagerConfig & ConfigKey)[];

export function keySchema(key: ConfigKey): TSchema & { default?: unknown; description?: string } {
  return ConfigSchema.properties[key] as TSchema & { default?: unknown; description?: string };
}

export function isConfigKey(name: string): name is ConfigKey {
  return Object.hasOwn(ConfigSchema.properties, name);
}

export function defaultConfig(): Config {
  const out: Record<string, unknown> = {};
  for (const key of configKeys) {
    const def = keySchema(key).default;
    if (def !== undefined) out[key] = def;
  }
  return out as Config;
}

/** The storage engine's config, taken key for key from the broker config. */
export function storageConfig(config: Config): LogManagerConfig {
  const out: Record<string, unknown> = {};
  for (const key of storageKeys) out[key] = config[key];
  return out as unknown as LogManagerConfig;
}

/** Human wording of what a key accepts, e.g. "an integer from 0 to 65535". */
export function describeAllowed(key: ConfigKey): string {
  const s = keySchema(key) as Record<string, unknown>;
  if (typeof s.allowed === 'string') return s.allowed;
  if (Array.isArray(s.enum)) return `one of ${s.enum.map((v) => JSON.stringify(v)).join(', ')}`;
  if (s.type === 'integer' || s.type === 'number') {
    const noun = s.type === 'integer' ? 'an integer' : 'a number';
    const min = s.minimum as number | undefined;
    const max = s.maximum as number | undefined;
    if (min !== undefined && max !== undefined) {
      if (max >= Number.MAX_SAFE_INTEGER) return `${noun} >= ${min}`;
      return `${noun} from ${min} to ${max}`;
    }
    if (min !== undefined) return `${noun} >= ${min}`;
    if (max !== undefined) return `${noun} <= ${max}`;
    return noun;
  }
  if (s.type === 'string') return (s.minLength as number | undefined) ? 'a non-empty string' : 'a string';
  if (s.type === 'boolean') return 'a boolean (true or false)';
  return 'a value matching the schema';
}
