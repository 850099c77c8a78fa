// Clocks for the group coordinator: the real one, and a manual one that tests
// advance by hand so rebalances and session expiry run fast and in a fixed order.

import type { GroupClock, TimerHandle } from './types.ts';

/** Node fires a timer longer than this after 1 ms; clamp instead. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** Date.now and the global timers; timers are unref'd so they never keep the process alive. */
export const realClock: GroupClock = Object.freeze({
  nowMs: () => Date.now(),
  setTimeout: (fn: () => void, ms: number): TimerHandle => {
    const t = setTimeout(fn, Math.min(MAX_TIMER_MS, Math.max(0, ms)));
    t.unref();
    return t;
  },
  clearTimeout: (handle: TimerHandle) => {
    clearTimeout(handle as ReturnType<typeof setTimeout>);
  },
});

interface ManualTimer {
  id: number;
  at: number;
  fn: () => void;
}

/**
 * A clock that only moves when told to. Timers fire in deadline order (ties in
 * the order they were set) during `advance`, each with `nowMs()` equal to its
 * deadline; a timer set by a firing timer fires in the same `advance` if due.
 */
export class ManualClock implements GroupClock {
  #now: number;
  #nextId = 1;
  readonly #timers = new Map<number, ManualTimer>();

  constructor(startMs = 0) {
    this.#now = startMs;
  }

  nowMs(): number {
    return this.#now;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const id = this.#nextId++;
    this.#timers.set(id, { id, at: this.#now + Math.max(0, ms), fn });
    return id;
  }

  clearTimeout(handle: TimerHandle): void {
    if (typeof handle === 'number') this.#timers.delete(handle);
  }

  /** Timers set and not yet fired or cleared. */
  get pendingTimers(): number {
    return this.#timers.size;
  }

  /** Deadline of the earliest pending timer, or undefined. */
  nextDeadline(): number | undefined {
    return this.#earliest()?.at;
  }

  /** Move time forward by `ms`, firing every timer that falls due on the way. */
  advance(ms: number): void {
    if (!(ms >= 0)) throw new RangeError(`cannot advance by ${ms}`);
    const target = this.#now + ms;
    for (;;) {
      const next = this.#earliest();
      if (next === undefined || next.at > target) break;
      this.#timers.delete(next.id);
      this.#now = Math.max(this.#now, next.at);
      next.fn();
    }
    this.#now = target;
  }

  #earliest(): ManualTimer | undefined {
    let best: ManualTimer | undefined;
    for (const t of this.#timers.values()) {
      if (best === undefined || t.at < best.at || (t.at === best.at && t.id < best.id)) best = t;
    }
    return best;
  }
}
