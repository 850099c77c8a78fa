// A small durable key → JSON store in an internal log, for protocol state
// that must survive restarts and later replicate (DESIGN.md §3): RocketMQ
// subscription-group settings and name-server KV config. Every change is a
// record appended and flushed before it becomes visible; the latest record of
// a key wins on replay; null deletes. Meant for admin-rate changes, not for
// per-message state.

import type { LogManager } from '../storage/log-manager.ts';
import { InternalLog } from './internal-log.ts';
/** Keys held at most: admin state, not a database. */
export const STATE_KEYS_MAX = 1_000_000;

export class StateStore {
  readonly #values = new Map<string, unknown>();
  readonly #log: InternalLog;
  /** Serialises writes so records land in the order callers asked. */
  #chain: Promise<unknown> = Promise.resolve();

  private constructor(log: InternalLog) {
    this.#log = log;
  }

  static open(logManager: LogManager, topic: string, nowMs: () => number): StateStore {
    const store = new StateStore(new InternalLog(logManager, topic, nowMs));
    store.#log.replay((record) => {
      if (record.value === null) store.#values.delete(record.key);
      else store.#values.set(record.key, record.value);
    });
    return store;
  }

  get<T>(key: string): T | undefined {
    return this.#values.get(key) as T | undefined;
  }

  /** Every (key, value) whose key starts with `prefix`. */
  *entries<T>(prefix: string): IterableIterator<[string, T]> {
    for (const [k, v] of this.#values) if (k.startsWith(prefix)) yield [k, v as T];
  }

  get size(): number {
    return this.#values.size;
  }

  /** Stores durably, then makes the value visible; null deletes. */
  set(key: string, value: unknown): Promise<void> {
    const run = this.#chain.then(async () => {
      if (value !== null && !this.#values.has(key) && this.#values.size >= STATE_KEYS_MAX) {
        throw new Error(`state store ${this.#log.log.name} holds ${STATE_KEYS_MAX} keys already`);
      }
      await this.#log.append([{ key, value }]);
      if (value === null) this.#values.delete(key);
      else this.#values.set(key, value);
    });
    this.#chain = run.catch(() => {});
    return run;
  }
}
