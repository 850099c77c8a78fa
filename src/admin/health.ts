// Liveness and readiness. Live while the process runs; ready once storage
// recovery has finished and every listener is bound, until shutdown begins.

export type Phase = 'starting' | 'ready' | 'stopping';

export interface HealthReport {
  status: Phase;
  checks: { storage: boolean; listeners: boolean; shuttingDown: boolean };
}

export class Health {
  #storageRecovered = false;
  #listenersBound = false;
  #shuttingDown = false;

  /** Storage finished recovery (LogManager.open resolved). */
  storageRecovered(): void {
    this.#storageRecovered = true;
  }

  /** Every listener the process serves is bound. */
  listenersBound(): void {
    this.#listenersBound = true;
  }

  /** Shutdown began; readiness never comes back. */
  shutdownStarted(): void {
    this.#shuttingDown = true;
  }

  get ready(): boolean {
    return this.#storageRecovered && this.#listenersBound && !this.#shuttingDown;
  }

  report(): HealthReport {
    const status: Phase = this.#shuttingDown ? 'stopping' : this.ready ? 'ready' : 'starting';
    return {
      status,
      checks: { storage: this.#storageRecovered, listeners: this.#listenersBound, shuttingDown: this.#shuttingDown },
    };
  }
}
