// Helpers shared by the process-level tests (not storage's).

import { createLogger, type Logger } from '../src/logger.ts';

export interface CapturedLog {
  logger: Logger;
  /** Parsed JSON lines written so far. */
  lines: Array<Record<string, unknown>>;
}

/** A real pino logger whose lines land in memory. */
export function captureLog(level: 'info' | 'debug' = 'info'): CapturedLog {
  const lines: Array<Record<string, unknown>> = [];
  const logger = createLogger({
    level,
    destination: { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) },
  });
  return { logger, lines };
}

export interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T): void;
  reject(err: unknown): void;
}

export function deferred<T = void>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (err: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Value of a sample in Prometheus text, e.g. sample(text, 'x_total') or sample(text, 'x', {topic: 't'}). */
export function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  const want = Object.entries(labels);
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = new Map([...(m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((x) => [x[1]!, x[2]!]));
    if (want.every(([k, v]) => have.get(k) === v) && (want.length > 0 || have.size === 0)) return Number(m[3]);
  }
  return undefined;
}

/** Calls `onLine` with each JSON line a child writes (its pino log); `onOther` gets lines that are not JSON. */
export function onJsonLines(stream: NodeJS.ReadableStream, onLine: (line: Record<string, unknown>) => void, onOther: (text: string) => void = () => {}): void {
  let partial = '';
  stream.on('data', (d: Buffer) => {
    partial += d.toString();
    const parts = partial.split('\n');
    partial = parts.pop()!;
    for (const part of parts) {
      let line: Record<string, unknown>;
      try {
        line = JSON.parse(part) as Record<string, unknown>;
      } catch {
        onOther(part);
        continue;
      }
      onLine(line);
    }
  });
}
