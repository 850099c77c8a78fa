// `diglot` command line: start | config | --help | --version.
// Exit codes: 0 clean, 1 runtime failure or forced shutdown, 2 bad usage or bad config.

import { readFileSync } from 'node:fs';
import process from 'node:process';
import {
  ConfigError,
  ENV_CONFIG_FILE,
  configKeys,
  describeAllowed,
  envName,
  flagName,
  keySchema,
  loadConfig,
  type LoadedConfig,
} from './config/index.ts';
import { createLogger, type Logger } from './logger.ts';

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

export interface CliIO {
  stdout(text: string): void;
  stderr(text: string): void;
  env: Readonly<Record<string, string | undefined>>;
  readFile(path: string): string;
}

const processIO: CliIO = {
  stdout: (text) => void process.stdout.write(text),
  stderr: (text) => void process.stderr.write(text),
  env: process.env,
  readFile: (path) => readFileSync(path, 'utf8'),
};

export function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

const COMMANDS = ['start', 'config', 'help', 'version'];

export function helpText(): string {
  const lines = [
    `Diglot ${version()}: one broker speaking the Kafka wire protocol and RocketMQ remoting over one commit log`,
    '',
    'Usage:',
    '  diglot start [--config FILE] [--<setting> VALUE ...]   run a broker node until SIGTERM/SIGINT',
    '  diglot config [--config FILE] [--<setting> VALUE ...]  print the effective settings and where each came from',
    '  diglot --help                                          show this text',
    '  diglot --version                                       print the version',
    '',
    'Settings come from, later winning: defaults < config file < DIGLOT_* environment < flags.',
    'A config file is JSON or YAML holding the camelCase keys below.',
    'Port 0 picks a free port; the bound address is logged.',
    '',
    `  --config FILE  (env ${ENV_CONFIG_FILE})`,
    '      Config file to read.',
  ];
  for (const key of configKeys) {
    const schema = keySchema(key);
    const def = schema.default === undefined ? 'unset' : String(schema.default);
    lines.push(
      '',
      `  ${flagName(key)} ${placeholder(key)}  (env ${envName(key)}, file key ${key})`,
      `      ${schema.description}.`,
      `      Default: ${def}. Allowed: ${describeAllowed(key)}.`,
    );
  }
  lines.push(
    '',
    'Exit codes: 0 clean shutdown, 1 failure or forced shutdown, 2 bad command line or configuration.',
    '',
  );
  return lines.join('\n');
}

function placeholder(key: (typeof configKeys)[number]): string {
  const schema = keySchema(key) as { type?: string; enum?: unknown[] };
  if (schema.enum) return schema.enum.join('|');
  if (schema.type === 'integer') return key.endsWith('Port') ? 'PORT' : /Ms(Max)?$/.test(key) ? 'MS' : /Bytes(Max)?$/.test(key) ? 'BYTES' : 'N';
  if (key.endsWith('Dir')) return 'DIR';
  if (key.toLowerCase().endsWith('host')) return 'HOST';
  return 'TEXT';
}

/**
 * Runs the command line. Resolves to the exit code, or to undefined when a
 * broker is now running (it exits the process itself on shutdown).
 */
export async function main(argv: readonly string[], io: CliIO = processIO): Promise<number | undefined> {
  const [command, ...rest] = argv;
  if (command === undefined) {
    io.stderr(helpText());
    io.stderr('\ndiglot: a command is needed, e.g. `diglot start`\n');
    return EXIT_USAGE;
  }
  if (command === '--help' || command === '-h' || command === 'help') {
    io.stdout(helpText());
    return EXIT_OK;
  }
  if (command === '--version' || command === '-v' || command === '-V' || command === 'version') {
    io.stdout(`${version()}\n`);
    return EXIT_OK;
  }
  if (command !== 'start' && command !== 'config') {
    const hint = command.startsWith('-') ? ` (settings go after the command: diglot start ${command} ...)` : '';
    io.stderr(`diglot: unknown command ${JSON.stringify(command)}${hint}. Commands: ${COMMANDS.join(', ')}. See diglot --help\n`);
    return EXIT_USAGE;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    io.stdout(helpText());
    return EXIT_OK;
  }

  let loaded: LoadedConfig;
  try {
    loaded = loadConfig({ argv: rest, env: io.env, readFile: io.readFile });
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    io.stderr(`diglot: bad configuration: ${err.message}\nSee diglot --help for every setting.\n`);
    return EXIT_USAGE;
  }

  if (command === 'config') {
    io.stdout(`${JSON.stringify({ config: loaded.config, sources: loaded.sources }, null, 2)}\n`);
    return EXIT_OK;
  }
  await runBroker(loaded);
  return undefined;
}

/** Starts a node and owns the process from here: signals, deadline, exit code. */
async function runBroker(loaded: LoadedConfig): Promise<void> {
  const { config } = loaded;
  const logger = createLogger({ level: config.logLevel });
  const log = logger.child({ component: 'process' });
  const exit = (code: number): never => process.exit(code);

  process.on('uncaughtException', (err) => {
    log.fatal({ err }, 'uncaught exception');
    exit(EXIT_FAILURE);
  });
  process.on('unhandledRejection', (reason) => {
    log.fatal({ err: reason }, 'unhandled promise rejection');
    exit(EXIT_FAILURE);
  });

  const overrides = Object.fromEntries(Object.entries(loaded.sources).filter(([, source]) => source !== 'default'));
  log.info(
    { version: version(), node: process.version, configFile: loaded.configFile, config, overrides },
    'starting diglot',
  );

  // Loaded here, not at the top, so --help and config errors never touch storage code.
  const starting = import('./server.ts').then(({ startServer }) => startServer(config, { logger }));
  const shutdown = createShutdownHandler({ starting, timeoutMs: config.shutdownTimeoutMs, log, exit });
  process.on('SIGTERM', shutdown.onSignal);
  process.on('SIGINT', shutdown.onSignal);

  try {
    await starting;
  } catch (err) {
    if (shutdown.stopping) return; // the shutdown handler reports and exits
    log.fatal({ err }, `startup failed: ${explainStartupError(err, config)}`);
    exit(EXIT_FAILURE);
  }
}

export interface ShutdownOptions {
  /** The server being started (or already running). */
  starting: Promise<{ close(): Promise<void> }>;
  timeoutMs: number;
  log: Logger;
  exit: (code: number) => void;
}

/**
 * Signal handling: the first signal closes the server gracefully and exits 0
 * (1 if closing fails); a second signal, or the deadline, exits 1 at once.
 */
export function createShutdownHandler(options: ShutdownOptions): { onSignal: (signal: string) => void; readonly stopping: boolean } {
  const { log, exit, timeoutMs } = options;
  let stopping = false;
  let done = false;
  const finish = (code: number) => {
    if (done) return;
    done = true;
    exit(code);
  };
  const onSignal = (signal: string) => {
    if (stopping) {
      log.error({ signal }, 'second signal during shutdown: forcing exit');
      finish(EXIT_FAILURE);
      return;
    }
    stopping = true;
    log.info({ signal, shutdownTimeoutMs: timeoutMs }, 'signal received: shutting down gracefully');
    // Not unref'ed: a shutdown that hangs must end here, never in a silent exit 0.
    const deadline = setTimeout(() => {
      log.error({ shutdownTimeoutMs: timeoutMs }, 'shutdown deadline passed: forcing exit');
      finish(EXIT_FAILURE);
    }, timeoutMs);
    options.starting
      .then((server) => server.close())
      .then(
        () => {
          clearTimeout(deadline);
          log.info('shutdown complete');
          finish(EXIT_OK);
        },
        (err: unknown) => {
          clearTimeout(deadline);
          log.fatal({ err }, 'shutdown failed');
          finish(EXIT_FAILURE);
        },
      );
  };
  return {
    onSignal,
    get stopping() {
      return stopping;
    },
  };
}

/** Which listener a bind error is about: the error carries the port it tried. */
interface ListenerPorts {
  adminPort: number;
  kafkaPort: number;
  rocketmqPort: number;
}

function listenerOfPort(port: number | undefined, config: ListenerPorts): { what: string; flag: string; port: number } {
  if (port !== undefined && port === config.kafkaPort) return { what: 'Kafka port', flag: '--kafka-port', port };
  if (port !== undefined && port === config.rocketmqPort) return { what: 'RocketMQ port', flag: '--rocketmq-port', port };
  return { what: 'admin port', flag: '--admin-port', port: port ?? config.adminPort };
}

function explainStartupError(err: unknown, config: ListenerPorts): string {
  const e = err as NodeJS.ErrnoException & { port?: number };
  const l = listenerOfPort(e.port, config);
  if (e.code === 'EADDRINUSE') return `${l.what} ${l.port} is already in use; choose another with ${l.flag} (0 picks a free one)`;
  if (e.code === 'EACCES' && e.syscall === 'listen') return `not allowed to bind ${l.what} ${l.port}`;
  if (e.code === 'EADDRNOTAVAIL') return `the address to bind is not on this machine (check --host)`;
  return e.message ?? String(err);
}
