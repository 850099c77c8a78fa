// loadConfig: defaults < config file < DIGLOT_* environment < command-line flags.
// Pure: everything it reads comes in through its arguments.

import { extname } from 'node:path';
import Value from 'typebox/value';
import YAML from 'yaml';
import { parseDelayLevels } from '../delay/levels.ts';
import {
  ConfigSchema,
  configKeys,
  defaultConfig,
  describeAllowed,
  isConfigKey,
  keySchema,
  type Config,
  type ConfigKey,
} from './schema.ts';
import {
  ENV_CONFIG_FILE,
  ENV_PREFIX,
  closestKey,
  envName,
  flagName,
  keyForEnv,
  keyForFlag,
} from './names.ts';

export interface ConfigIssue {
  /** The key (or unknown name, as spelled in its source) the problem is about. */
  key: string;
  /** Where the value came from: `config file <path>`, `env DIGLOT_…`, `flag --…`. */
  source: string;
  /** What would have been accepted. */
  allowed: string;
  message: string;
}

/** Bad configuration. The CLI prints `message` and exits with code 2. */
export class ConfigError extends Error {
  readonly issues: readonly ConfigIssue[];

  constructor(issues: ConfigIssue[]) {
    const lines = issues.map((i) => i.message);
    super(lines.length === 1 ? lines[0]! : `${lines.length} configuration problems:\n  ${lines.join('\n  ')}`);
    this.name = 'ConfigError';
    this.issues = issues;
  }

  /** The first offending key. */
  get key(): string {
    return this.issues[0]!.key;
  }

  get source(): string {
    return this.issues[0]!.source;
  }
}

export interface LoadConfigInput {
  /** Flags after the command, e.g. `['--data-dir', '/tmp/x', '--admin-port=0']`. */
  argv: readonly string[];
  env: Readonly<Record<string, string | undefined>>;
  /** Reads a config file as UTF-8 text; throws when it cannot. */
  readFile: (path: string) => string;
}

export interface LoadedConfig {
  config: Config;
  /** Where each key's value came from (`default` when nothing set it). */
  sources: Record<ConfigKey, string>;
  /** The config file that was read, if any. */
  configFile: string | undefined;
}

interface Setting {
  key: ConfigKey;
  raw: unknown;
  source: string;
  /** Environment and flag values arrive as text and are coerced to the key's type. */
  fromText: boolean;
}

export function loadConfig(input: LoadConfigInput): LoadedConfig {
  const issues: ConfigIssue[] = [];
  const flags = parseFlags(input.argv, issues);
  const env = parseEnv(input.env, issues);

  const configFile = flags.configFile ?? env.configFile;
  const file = configFile === undefined ? [] : parseFile(configFile.path, configFile.source, input.readFile, issues);

  const config: Record<string, unknown> = defaultConfig();
  const sources = Object.fromEntries(configKeys.map((k) => [k, 'default'])) as Record<ConfigKey, string>;
  for (const setting of [...file, ...env.settings, ...flags.settings]) {
    const value = setting.fromText ? coerce(setting.key, setting.raw as string) : setting.raw;
    if (!Value.Check(keySchema(setting.key), value)) {
      const allowed = describeAllowed(setting.key);
      issues.push({
        key: setting.key,
        source: setting.source,
        allowed,
        message: `invalid ${setting.key} from ${setting.source}: got ${show(setting.raw)}, expected ${allowed}`,
      });
      continue;
    }
    config[setting.key] = value;
    sources[setting.key] = setting.source;
  }

  checkDistinctPorts(config as Config, sources, issues);
  checkDelayLevels(config as Config, sources, issues);
  if (issues.length > 0) throw new ConfigError(sortBySource(issues));

  if (!Value.Check(ConfigSchema, config)) {
    // Every key was checked on its own above; reaching this is a bug in this file.
    const first = Value.Errors(ConfigSchema, config)[0];
    throw new Error(`internal: merged config fails its schema at ${first?.instancePath}: ${first?.message}`);
  }
  return { config: config as Config, sources, configFile: configFile?.path };
}

// ---------------------------------------------------------------- sources

interface FileRef {
  path: string;
  source: string;
}

function parseFlags(argv: readonly string[], issues: ConfigIssue[]): { settings: Setting[]; configFile?: FileRef } {
  const settings: Setting[] = [];
  let configFile: FileRef | undefined;
  const knownFlags = ['--config', ...configKeys.map(flagName)];
  for (let i = 0; i < argv.length; i++) {
    const token = argv[i]!;
    if (!token.startsWith('--') || token === '--') {
      issues.push({
        key: token,
        source: 'command line',
        allowed: `flags of the form --name value or --name=value: ${knownFlags.join(', ')}`,
        message: `unexpected argument ${show(token)} on the command line; settings are given as --name value (see diglot --help)`,
      });
      continue;
    }
    const eq = token.indexOf('=');
    const name = eq === -1 ? token : token.slice(0, eq);
    let value: string | undefined = eq === -1 ? undefined : token.slice(eq + 1);
    const takesNext = value === undefined && i + 1 < argv.length && !argv[i + 1]!.startsWith('--');
    const key = keyForFlag(name);

    if (name !== '--config' && key === undefined) {
      const guess = closestKey(name);
      issues.push({
        key: name,
        source: `flag ${name}`,
        allowed: `one of ${knownFlags.join(', ')}`,
        message:
          `unknown flag ${name}` +
          (guess ? `; did you mean ${flagName(guess)}?` : '.') +
          ` Known flags: ${knownFlags.join(', ')}`,
      });
      if (takesNext) i++; // its value would otherwise be reported as a stray argument
      continue;
    }
    if (value === undefined) {
      if (takesNext) value = argv[++i]!;
      else if (key !== undefined && (keySchema(key) as { type?: unknown }).type === 'boolean') value = 'true';
    }
    if (value === undefined) {
      const allowed = key === undefined ? 'a file path' : describeAllowed(key);
      issues.push({
        key: key ?? 'config',
        source: `flag ${name}`,
        allowed,
        message: `flag ${name} needs a value: ${allowed}`,
      });
      continue;
    }
    if (key === undefined) configFile = { path: value, source: `flag --config` };
    else settings.push({ key, raw: value, source: `flag ${name}`, fromText: true });
  }
  return { settings, configFile };
}

function parseEnv(
  env: Readonly<Record<string, string | undefined>>,
  issues: ConfigIssue[],
): { settings: Setting[]; configFile?: FileRef } {
  const settings: Setting[] = [];
  let configFile: FileRef | undefined;
  const knownVars = [ENV_CONFIG_FILE, ...configKeys.map(envName)];
  for (const name of Object.keys(env).sort()) {
    if (!name.startsWith(ENV_PREFIX)) continue;
    const value = env[name];
    if (value === undefined) continue;
    if (name === ENV_CONFIG_FILE) {
      configFile = { path: value, source: `env ${ENV_CONFIG_FILE}` };
      continue;
    }
    const key = keyForEnv(name);
    if (key === undefined) {
      const guess = closestKey(name.slice(ENV_PREFIX.length));
      issues.push({
        key: name,
        source: `env ${name}`,
        allowed: `one of ${knownVars.join(', ')}`,
        message:
          `unknown environment variable ${name} (every DIGLOT_* variable must be a config key)` +
          (guess ? `; did you mean ${envName(guess)}?` : '.') +
          ` Known variables: ${knownVars.join(', ')}`,
      });
      continue;
    }
    settings.push({ key, raw: value, source: `env ${name}`, fromText: true });
  }
  return { settings, configFile };
}

function parseFile(
  path: string,
  via: string,
  readFile: (path: string) => string,
  issues: ConfigIssue[],
): Setting[] {
  const source = `config file ${path}`;
  const fileIssue = (problem: string, allowed: string) =>
    issues.push({ key: 'config', source, allowed, message: `${source} (named by ${via}) ${problem}` });

  let text: string;
  try {
    text = readFile(path);
  } catch (err) {
    fileIssue(`cannot be read: ${(err as Error).message}`, 'a readable JSON or YAML file');
    return [];
  }

  let data: unknown;
  const ext = extname(path).toLowerCase();
  const asJson = ext === '.json' || (ext !== '.yaml' && ext !== '.yml' && text.trimStart().startsWith('{'));
  if (asJson) {
    try {
      data = JSON.parse(text);
    } catch (err) {
      fileIssue(`is not valid JSON: ${(err as Error).message}`, 'a JSON object of config keys');
      return [];
    }
  } else {
    const doc = YAML.parseDocument(text, { prettyErrors: true, uniqueKeys: true });
    if (doc.errors.length > 0) {
      // The first line carries the problem and its position; the rest is a source excerpt.
      const first = doc.errors[0]!.message.split('\n')[0]!.replace(/:$/, '');
      fileIssue(`is not valid YAML: ${first}`, 'a YAML mapping of config keys');
      return [];
    }
    data = doc.toJS();
  }
  if (data === null || data === undefined) return []; // an empty file sets nothing
  if (typeof data !== 'object' || Array.isArray(data)) {
    fileIssue(
      `must hold a mapping of config keys to values, not ${Array.isArray(data) ? 'a list' : typeof data}`,
      'a mapping of config keys to values',
    );
    return [];
  }

  const settings: Setting[] = [];
  for (const [name, raw] of Object.entries(data as Record<string, unknown>)) {
    if (!isConfigKey(name)) {
      const guess = closestKey(name);
      issues.push({
        key: name,
        source,
        allowed: `one of ${configKeys.join(', ')}`,
        message:
          `unknown key ${show(name)} in ${source}` +
          (guess ? `; did you mean ${show(guess)}?` : '.') +
          ` Known keys: ${configKeys.join(', ')}`,
      });
      continue;
    }
    settings.push({ key: name, raw, source, fromText: false });
  }
  return settings;
}

// ---------------------------------------------------------------- values

/** Text → the key's type. Text that does not parse is returned as is and fails validation. */
function coerce(key: ConfigKey, text: string): unknown {
  const type = (keySchema(key) as { type?: unknown }).type;
  if (type === 'integer') return /^[+-]?\d+$/.test(text.trim()) ? Number(text) : text;
  if (type === 'number') {
    const n = Number(text);
    return text.trim() !== '' && Number.isFinite(n) ? n : text;
  }
  if (type === 'boolean') {
    const t = text.trim().toLowerCase();
    if (t === 'true' || t === '1' || t === 'yes') return true;
    if (t === 'false' || t === '0' || t === 'no') return false;
    return text;
  }
  return text;
}

function checkDistinctPorts(config: Config, sources: Record<ConfigKey, string>, issues: ConfigIssue[]): void {
  const ports = ['kafkaPort', 'rocketmqPort', 'adminPort'] as const;
  for (let i = 0; i < ports.length; i++) {
    for (let j = i + 1; j < ports.length; j++) {
      const a = ports[i]!;
      const b = ports[j]!;
      if (config[a] !== 0 && config[a] === config[b]) {
        issues.push({
          key: b,
          source: sources[b],
          allowed: `a port other than ${a}'s (or 0)`,
          message:
            `${a} and ${b} are both ${config[b]} (${a} from ${sources[a]}, ${b} from ${sources[b]}); ` +
            `each listener needs its own port (0 picks a free one)`,
        });
      }
    }
  }
}

/** The level table's grammar is the schema's; what a pattern cannot say (count, sizes) is checked here. */
function checkDelayLevels(config: Config, sources: Record<ConfigKey, string>, issues: ConfigIssue[]): void {
  if (typeof config.delayLevels !== 'string') return;
  try {
    parseDelayLevels(config.delayLevels);
  } catch (err) {
    issues.push({ key: 'delayLevels', source: sources.delayLevels, allowed: describeAllowed('delayLevels'), message: `invalid delayLevels from ${sources.delayLevels}: ${(err as Error).message}` });
  }
}

/** Report problems in precedence order: file, environment, command line. */
function sortBySource(issues: ConfigIssue[]): ConfigIssue[] {
  const rank = (source: string) =>
    source.startsWith('config file') ? 0 : source.startsWith('env') ? 1 : source === 'default' ? 3 : 2;
  return issues.map((issue, i) => ({ issue, i })).sort((a, b) => rank(a.issue.source) - rank(b.issue.source) || a.i - b.i).map((x) => x.issue);
}

function show(value: unknown): string {
  if (value === undefined) return 'nothing';
  const text = JSON.stringify(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}
