import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defaultLogManagerConfig } from '../storage/types.ts';
import {
  ConfigError,
  configKeys,
  defaultConfig,
  envName,
  flagName,
  keySchema,
  loadConfig,
  storageConfig,
  storageKeys,
  type ConfigIssue,
} from './index.ts';

type Files = Record<string, string>;

function load(argv: string[] = [], env: Record<string, string> = {}, files: Files = {}) {
  return loadConfig({
    argv,
    env,
    readFile: (path) => {
      if (!Object.hasOwn(files, path)) throw new Error(`ENOENT: no such file or directory, open '${path}'`);
      return files[path]!;
    },
  });
}

function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${String(err)}`);
    return err;
  }
  assert.fail('expected a ConfigError, but the config loaded');
}

function onlyIssue(err: ConfigError): ConfigIssue {
  assert.equal(err.issues.length, 1, `expected one issue, got:\n${err.message}`);
  return err.issues[0]!;
}

describe('config schema', () => {
  it('storage keys are exactly LogManagerConfig with the same defaults', () => {
    assert.deepEqual([...storageKeys].sort(), Object.keys(defaultLogManagerConfig).sort());
    assert.deepEqual(storageConfig(defaultConfig()), { ...defaultLogManagerConfig });
  });

  it('every key has a description, and a default unless it is optional', () => {
    for (const key of configKeys) {
      const schema = keySchema(key);
      assert.ok(schema.description && schema.description.length > 10, `${key} needs a description`);
      if (key !== 'advertisedHost') assert.notEqual(schema.default, undefined, `${key} needs a default`);
    }
  });

  it('spells keys as kebab-case flags and SCREAMING_SNAKE env vars', () => {
    assert.equal(flagName('dataDir'), '--data-dir');
    assert.equal(flagName('rocketmqPort'), '--rocketmq-port');
    assert.equal(flagName('retentionCheckIntervalMs'), '--retention-check-interval-ms');
    assert.equal(envName('dataDir'), 'DIGLOT_DATA_DIR');
    assert.equal(envName('segmentBytesMax'), 'DIGLOT_SEGMENT_BYTES_MAX');
  });

  it('has the documented defaults', () => {
    const { config, sources } = load();
    assert.equal(config.dataDir, './data');
    assert.equal(config.host, '0.0.0.0');
    assert.equal(config.kafkaPort, 9092);
    assert.equal(config.rocketmqPort, 9876);
    assert.equal(config.adminPort, 8080);
    assert.equal(config.advertisedHost, undefined);
    assert.equal(config.logLevel, 'info');
    assert.equal(config.shutdownTimeoutMs, 30_000);
    assert.ok(configKeys.every((k) => sources[k] === 'default'));
  });
});

describe('config precedence: defaults < file < env < flags', () => {
  const files = {
    '/etc/diglot.yaml': 'dataDir: /from/file\nkafkaPort: 1001\nrocketmqPort: 1002\nadminPort: 1003\n',
  };

  it('file beats defaults', () => {
    const { config, sources, configFile } = load(['--config', '/etc/diglot.yaml'], {}, files);
    assert.equal(configFile, '/etc/diglot.yaml');
    assert.equal(config.dataDir, '/from/file');
    assert.equal(config.kafkaPort, 1001);
    assert.equal(sources.kafkaPort, 'config file /etc/diglot.yaml');
    assert.equal(config.host, '0.0.0.0');
    assert.equal(sources.host, 'default');
  });

  it('env beats file, flags beat env', () => {
    const { config, sources } = load(
      ['--config', '/etc/diglot.yaml', '--admin-port', '3003'],
      { DIGLOT_ROCKETMQ_PORT: '2002', DIGLOT_ADMIN_PORT: '2003' },
      files,
    );
    assert.equal(config.dataDir, '/from/file');
    assert.equal(config.kafkaPort, 1001);
    assert.equal(config.rocketmqPort, 2002);
    assert.equal(sources.rocketmqPort, 'env DIGLOT_ROCKETMQ_PORT');
    assert.equal(config.adminPort, 3003);
    assert.equal(sources.adminPort, 'flag --admin-port');
  });

  it('a later flag wins over an earlier one', () => {
    assert.equal(load(['--data-dir', '/a', '--data-dir=/b']).config.dataDir, '/b');
  });

  it('DIGLOT_CONFIG names the file; --config overrides it', () => {
    const both = { ...files, '/other.json': '{"dataDir": "/from/json"}' };
    assert.equal(load([], { DIGLOT_CONFIG: '/other.json' }, both).config.dataDir, '/from/json');
    assert.equal(load(['--config', '/etc/diglot.yaml'], { DIGLOT_CONFIG: '/other.json' }, both).config.dataDir, '/from/file');
  });

  it('coerces env and flag text to numbers and keeps strings as strings', () => {
    const { config } = load(['--retention-ms', '-1', '--segment-bytes-max=1048576', '--host', '127.0.0.1'], {
      DIGLOT_FLUSH_MODE: 'always',
      DIGLOT_FLUSH_INTERVAL_MS: '25',
      DIGLOT_ADVERTISED_HOST: 'broker-1.example',
      DIGLOT_LOG_LEVEL: 'debug',
    });
    assert.equal(config.retentionMs, -1);
    assert.equal(config.segmentBytesMax, 1_048_576);
    assert.equal(config.host, '127.0.0.1');
    assert.equal(config.flushMode, 'always');
    assert.equal(config.flushIntervalMs, 25);
    assert.equal(config.advertisedHost, 'broker-1.example');
    assert.equal(config.logLevel, 'debug');
  });

  it('every key can be set from each source', () => {
    const values: Record<string, [string, unknown]> = {};
    for (const key of configKeys) {
      const schema = keySchema(key) as { type?: string; enum?: unknown[]; minimum?: number };
      if (schema.enum) values[key] = [String(schema.enum.at(-1)), schema.enum.at(-1)];
      else if (schema.type === 'integer') values[key] = [String((schema.minimum ?? 0) + 7), (schema.minimum ?? 0) + 7];
      else if (schema.type === 'boolean') values[key] = [String(!(schema as { default?: boolean }).default), !(schema as { default?: boolean }).default];
      else values[key] = [`v-${key}`, `v-${key}`];
    }
    // Distinct ports so the port-clash check stays quiet.
    values.kafkaPort = ['7001', 7001];
    values.rocketmqPort = ['7002', 7002];
    values.adminPort = ['7003', 7003];
    values.delayLevels = ['2s 3m', '2s 3m'];
    const expected = Object.fromEntries(configKeys.map((k) => [k, values[k]![1]]));

    const file = JSON.stringify(expected);
    assert.deepEqual(load(['--config', 'c.json'], {}, { 'c.json': file }).config, expected);
    const env = Object.fromEntries(configKeys.map((k) => [envName(k), values[k]![0]]));
    assert.deepEqual(load([], env).config, expected);
    const argv = configKeys.flatMap((k) => [flagName(k), values[k]![0]]);
    assert.deepEqual(load(argv).config, expected);
  });

  it('accepts port 0 (pick a free port) and 65535', () => {
    const { config } = load(['--kafka-port', '0', '--rocketmq-port', '0', '--admin-port', '65535']);
    assert.equal(config.kafkaPort, 0);
    assert.equal(config.rocketmqPort, 0);
    assert.equal(config.adminPort, 65535);
  });

  it('reads JSON and YAML by extension, and by content without one', () => {
    const json = '{ "kafkaPort": 1111 }';
    const yaml = '# comment\nkafkaPort: 2222\n';
    assert.equal(load(['--config', 'a.json'], {}, { 'a.json': json }).config.kafkaPort, 1111);
    assert.equal(load(['--config', 'a.yaml'], {}, { 'a.yaml': yaml }).config.kafkaPort, 2222);
    assert.equal(load(['--config', 'a.yml'], {}, { 'a.yml': yaml }).config.kafkaPort, 2222);
    assert.equal(load(['--config', 'conf'], {}, { conf: json }).config.kafkaPort, 1111);
    assert.equal(load(['--config', 'conf'], {}, { conf: yaml }).config.kafkaPort, 2222);
  });

  it('an empty config file sets nothing', () => {
    assert.deepEqual(load(['--config', 'e.yaml'], {}, { 'e.yaml': '# nothing\n' }).config, defaultConfig());
  });

  it('ignores environment variables without the DIGLOT_ prefix', () => {
    assert.deepEqual(load([], { PATH: '/bin', KAFKA_PORT: 'x', diglot_data_dir: '/lower' }).config, defaultConfig());
  });
});

describe('config errors name the key, the source and what is allowed', () => {
  it('unknown key in the config file, with a suggestion and the known keys', () => {
    const issue = onlyIssue(configError(() => load(['--config', '/c.yaml'], {}, { '/c.yaml': 'dataDirectory: /x\n' })));
    assert.equal(issue.key, 'dataDirectory');
    assert.equal(issue.source, 'config file /c.yaml');
    assert.match(issue.message, /unknown key "dataDirectory" in config file \/c\.yaml/);
    assert.match(issue.message, /did you mean "dataDir"\?/);
    assert.match(issue.message, /Known keys: dataDir, host, kafkaPort/);
  });

  it('snake or kebab spelling in a file suggests the camelCase key', () => {
    const issue = onlyIssue(configError(() => load(['--config', 'c.yaml'], {}, { 'c.yaml': 'segment_bytes_max: 10\n' })));
    assert.match(issue.message, /did you mean "segmentBytesMax"/);
  });

  it('unknown DIGLOT_ environment variable', () => {
    const err = configError(() => load([], { DIGLOT_KAFKA_PROT: '9092' }));
    const issue = onlyIssue(err);
    assert.equal(issue.key, 'DIGLOT_KAFKA_PROT');
    assert.equal(issue.source, 'env DIGLOT_KAFKA_PROT');
    assert.match(issue.message, /did you mean DIGLOT_KAFKA_PORT\?/);
    assert.match(issue.message, /DIGLOT_DATA_DIR/);
    assert.equal(err.key, 'DIGLOT_KAFKA_PROT');
    assert.equal(err.source, 'env DIGLOT_KAFKA_PROT');
  });

  it('unknown flag, and its value is not reported as a second problem', () => {
    const issue = onlyIssue(configError(() => load(['--data-directory', '/x'])));
    assert.equal(issue.key, '--data-directory');
    assert.equal(issue.source, 'flag --data-directory');
    assert.match(issue.message, /did you mean --data-dir\?/);
    assert.match(issue.message, /Known flags: --config, --data-dir/);
  });

  it('no suggestion when nothing is close', () => {
    const issue = onlyIssue(configError(() => load(['--zzzzqqqq', '1'])));
    assert.doesNotMatch(issue.message, /did you mean/);
    assert.match(issue.allowed, /--admin-port/);
  });

  it('wrong type in the config file (a string where a port goes)', () => {
    const issue = onlyIssue(configError(() => load(['--config', 'c.json'], {}, { 'c.json': '{"kafkaPort": "9092"}' })));
    assert.equal(issue.key, 'kafkaPort');
    assert.equal(issue.source, 'config file c.json');
    assert.equal(issue.allowed, 'an integer from 0 to 65535');
    assert.match(issue.message, /invalid kafkaPort from config file c\.json: got "9092", expected an integer from 0 to 65535/);
  });

  it('non-numeric env value', () => {
    const issue = onlyIssue(configError(() => load([], { DIGLOT_ADMIN_PORT: 'eighty' })));
    assert.equal(issue.key, 'adminPort');
    assert.equal(issue.source, 'env DIGLOT_ADMIN_PORT');
    assert.match(issue.message, /got "eighty", expected an integer from 0 to 65535/);
  });

  it('fractional number for an integer key', () => {
    const issue = onlyIssue(configError(() => load(['--flush-interval-ms', '1.5'])));
    assert.equal(issue.key, 'flushIntervalMs');
    assert.equal(issue.source, 'flag --flush-interval-ms');
    assert.match(issue.allowed, /^an integer from 1 to 2147483647$/);
  });

  for (const [source, run] of [
    ['flag', () => load(['--kafka-port', '65536'])],
    ['env', () => load([], { DIGLOT_KAFKA_PORT: '-1' })],
    ['file', () => load(['--config', 'p.yaml'], {}, { 'p.yaml': 'kafkaPort: 100000\n' })],
  ] as const) {
    it(`out-of-range port from ${source}`, () => {
      const issue = onlyIssue(configError(run));
      assert.equal(issue.key, 'kafkaPort');
      assert.ok(issue.source.startsWith(source === 'file' ? 'config file' : source), issue.source);
      assert.equal(issue.allowed, 'an integer from 0 to 65535');
    });
  }

  it('bad enum values list the allowed ones', () => {
    const flush = onlyIssue(configError(() => load([], { DIGLOT_FLUSH_MODE: 'sometimes' })));
    assert.equal(flush.key, 'flushMode');
    assert.equal(flush.allowed, 'one of "interval", "always"');
    const level = onlyIssue(configError(() => load(['--log-level', 'verbose'])));
    assert.equal(level.key, 'logLevel');
    assert.match(level.allowed, /"fatal", "error", "warn", "info", "debug", "trace", "silent"/);
  });

  it('below-minimum storage values', () => {
    assert.equal(onlyIssue(configError(() => load(['--retention-bytes', '-2']))).allowed, 'an integer >= -1');
    assert.equal(onlyIssue(configError(() => load(['--flush-concurrency-max', '0']))).key, 'flushConcurrencyMax');
  });

  it('empty string where a non-empty string is needed', () => {
    const issue = onlyIssue(configError(() => load([], { DIGLOT_DATA_DIR: '' })));
    assert.equal(issue.key, 'dataDir');
    assert.equal(issue.allowed, 'a non-empty string');
  });

  it('malformed YAML', () => {
    const issue = onlyIssue(configError(() => load(['--config', 'bad.yaml'], {}, { 'bad.yaml': 'kafkaPort: [1, 2\nhost: x\n' })));
    assert.equal(issue.source, 'config file bad.yaml');
    assert.match(issue.message, /config file bad\.yaml \(named by flag --config\) is not valid YAML: .*line \d+, column \d+/);
  });

  it('duplicate keys in YAML', () => {
    const issue = onlyIssue(configError(() => load(['--config', 'd.yaml'], {}, { 'd.yaml': 'host: a\nhost: b\n' })));
    assert.match(issue.message, /not valid YAML/);
  });

  it('malformed JSON', () => {
    const issue = onlyIssue(configError(() => load(['--config', 'bad.json'], {}, { 'bad.json': '{"kafkaPort": 1,}' })));
    assert.match(issue.message, /config file bad\.json \(named by flag --config\) is not valid JSON/);
  });

  it('a config file that is not a mapping', () => {
    const issue = onlyIssue(configError(() => load(['--config', 'l.yaml'], {}, { 'l.yaml': '- a\n- b\n' })));
    assert.match(issue.message, /must hold a mapping of config keys to values, not a list/);
  });

  it('a config file that cannot be read', () => {
    const issue = onlyIssue(configError(() => load([], { DIGLOT_CONFIG: '/missing.yaml' })));
    assert.equal(issue.source, 'config file /missing.yaml');
    assert.match(issue.message, /named by env DIGLOT_CONFIG\) cannot be read: ENOENT/);
  });

  it('a flag without its value', () => {
    const issue = onlyIssue(configError(() => load(['--data-dir'])));
    assert.equal(issue.key, 'dataDir');
    assert.equal(issue.source, 'flag --data-dir');
    assert.match(issue.message, /flag --data-dir needs a value/);
    assert.match(onlyIssue(configError(() => load(['--host', '--admin-port', '1']))).message, /--host needs a value/);
  });

  it('a stray positional argument', () => {
    const issue = onlyIssue(configError(() => load(['now'])));
    assert.equal(issue.source, 'command line');
    assert.match(issue.message, /unexpected argument "now"/);
  });

  it('two listeners on the same port', () => {
    const issue = onlyIssue(configError(() => load(['--admin-port', '9092'])));
    assert.equal(issue.key, 'adminPort');
    assert.match(issue.message, /kafkaPort and adminPort are both 9092 \(kafkaPort from default, adminPort from flag --admin-port\)/);
  });

  it('reports every problem at once, file first, flags last', () => {
    const err = configError(() =>
      load(['--kafka-port', 'x', '--config', 'c.yaml'], { DIGLOT_HOST: '' }, { 'c.yaml': 'flushMode: never\n' }),
    );
    assert.deepEqual(
      err.issues.map((i) => i.key),
      ['flushMode', 'host', 'kafkaPort'],
    );
    assert.match(err.message, /^3 configuration problems:\n/);
  });
});

describe('delayLevels', () => {
  it('a table beyond 100 levels or with a zero duration is refused naming the key', () => {
    const many = Array.from({ length: 101 }, () => '1s').join(' ');
    for (const value of [many, '0s 1s']) {
      const err = configError(() => load(['--delay-levels', value]));
      assert.equal(err.issues[0]!.key, 'delayLevels');
    }
    assert.equal(load(['--delay-levels', '1s 2m']).config.delayLevels, '1s 2m');
  });
});
