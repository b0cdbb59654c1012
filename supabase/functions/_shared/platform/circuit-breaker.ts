/**
 * A circuit breaker: after a failure, callers are told at once that the
 * dependency is unavailable for a short cool-down, then one request is let
 * through to probe it. A success closes the circuit; a failure opens it again.
 *
 * Pure state machine: the clock is injected, nothing here does I/O. The
 * database's breaker lives in db.ts; each isolate has its own, so a dead
 * database costs each isolate one slow request per cool-down, not every call.
 */

export type BreakerState = "closed" | "open" | "probing";

export interface CircuitBreakerOptions {
  /** How long the circuit stays open after a failure before one probe may pass. */
  coolDownMs: number;
  /**
   * How long a probe may take before another request may probe: a probe whose
   * outcome is never reported (its request died) must not keep the circuit
   * shut for good.
   */
  probeTimeoutMs: number;
  /** Milliseconds on a monotonic clock (tests pass their own). */
  now?: () => number;
}

/** One dependency's breaker (see the module comment). */
export class CircuitBreaker {
  #state: BreakerState = "closed";
  /** When the circuit last opened, or the current probe started. */
  #since = 0;
  readonly #coolDownMs: number;
  readonly #probeTimeoutMs: number;
  readonly #now: () => number;

  constructor(options: CircuitBreakerOptions) {
    this.#coolDownMs = options.coolDownMs;
    this.#probeTimeoutMs = options.probeTimeoutMs;
    this.#now = options.now ?? (() => performance.now());
  }

  /** The state as of now (an open circuit whose cool-down is over still reads `open` until a probe starts). */
  get state(): BreakerState {
    return this.#state;
  }

  /**
   * Whether a request may use the dependency now. In the open state the first
   * request after the cool-down is admitted as the probe; the others are not
   * until it reports.
   */
  tryAcquire(): boolean {
    const now = this.#now();
    switch (this.#state) {
      case "closed":
        return true;
      case "open":
        if (now - this.#since < this.#coolDownMs) return false;
        this.#state = "probing";
        this.#since = now;
        return true;
      case "probing":
        if (now - this.#since < this.#probeTimeoutMs) return false;
        this.#since = now;
        return true;
    }
  }

  /** The dependency answered: close the circuit. */
  recordSuccess(): void {
    this.#state = "closed";
  }

  /** The dependency failed (or was too slow): open the circuit for a cool-down from now. */
  recordFailure(): void {
    this.#state = "open";
    this.#since = this.#now();
  }
}
