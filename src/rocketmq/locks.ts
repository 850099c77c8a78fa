// Orderly-consumption locks (rocketmq-remoting.md §9.4): a queue of a group is
// held by one client id; a lock expires 60 s after its last renewal (the Java
// broker's rebalance.lockMaxLiveTime).

export const LOCK_EXPIRY_MS = 60_000;
/** Locks held at once across all groups; a client cannot make the broker grow without bound. */
export const LOCKS_MAX = 1_000_000;

interface Lock {
  clientId: string;
  renewedMs: number;
}

export interface QueueRef {
  topic: string;
  brokerName: string;
  queueId: number;
}

function queueKey(group: string, q: QueueRef): string {
  return `${group}\u0000${q.topic}\u0000${q.queueId}`;
}

export class QueueLocks {
  readonly #locks = new Map<string, Lock>();
  readonly #nowMs: () => number;

  constructor(nowMs: () => number) {
    this.#nowMs = nowMs;
  }

  /** Grants (or renews) every queue that is free, expired or already held by `clientId`; returns the granted ones. */
  lock(group: string, clientId: string, queues: readonly QueueRef[]): QueueRef[] {
    const now = this.#nowMs();
    const granted: QueueRef[] = [];
    for (const q of queues) {
      const key = queueKey(group, q);
      const held = this.#locks.get(key);
      if (held === undefined || held.clientId === clientId || now - held.renewedMs > LOCK_EXPIRY_MS) {
        if (held === undefined && this.#locks.size >= LOCKS_MAX) this.#sweep(now);
        if (held === undefined && this.#locks.size >= LOCKS_MAX) continue;
        this.#locks.set(key, { clientId, renewedMs: now });
        granted.push(q);
      }
    }
    return granted;
  }

  unlock(group: string, clientId: string, queues: readonly QueueRef[]): void {
    for (const q of queues) {
      const key = queueKey(group, q);
      if (this.#locks.get(key)?.clientId === clientId) this.#locks.delete(key);
    }
  }

  /** The client holding a live lock on the queue, if any. */
  holder(group: string, q: QueueRef): string | undefined {
    const held = this.#locks.get(queueKey(group, q));
    return held !== undefined && this.#nowMs() - held.renewedMs <= LOCK_EXPIRY_MS ? held.clientId : undefined;
  }

  #sweep(now: number): void {
    for (const [key, lock] of this.#locks) if (now - lock.renewedMs > LOCK_EXPIRY_MS) this.#locks.delete(key);
  }

  get size(): number {
    return this.#locks.size;
  }
}
