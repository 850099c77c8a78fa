// Structured JSON logs (pino) on stdout. Each part of the broker logs through a
// child carrying its `component`: logger.child({ component: 'admin' }).

import { pino, type DestinationStream, type Logger } from 'pino';

export type { Logger } from 'pino';

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

export interface LoggerOptions {
  level?: LogLevel;
  /** Where lines go; stdout (synchronously, so nothing is lost on exit) when omitted. */
  destination?: DestinationStream;
}

export function createLogger(options: LoggerOptions = {}): Logger {
  return pino(
    {
      name: 'diglot',
      level: options.level ?? 'info',
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: {
        // `"level":"info"` reads better in a JSON log than pino's numeric 30.
        level: (label) => ({ level: label }),
      },
    },
    options.destination ?? pino.destination({ dest: 1, sync: true }),
  );
}

/** A child logger tagged with the component it belongs to. */
export function componentLogger(parent: Logger, component: string): Logger {
  return parent.child({ component });
}
