/** The circuit breaker's state machine, on a clock the test moves. */
import assert from "node:assert/strict";
import { CircuitBreaker } from "../../supabase/functions/_shared/platform/circuit-breaker.ts";
import {
  DatabaseUnavailable,
  DeadlineExceeded,
  isDatabaseUnavailable,
} from "../../supabase/functions/_shared/platform/db.ts";

function breaker() {
  let now = 1_000;
  const b = new CircuitBreaker({ coolDownMs: 2_000, probeTimeoutMs: 5_000, now: () => now });
  return { b, advance: (ms: number) => (now += ms) };
}

Deno.test("breaker: closed lets every request through", () => {
  const { b } = breaker();
  assert.equal(b.state, "closed");
  assert.ok(b.tryAcquire() && b.tryAcquire() && b.tryAcquire());
});

Deno.test("breaker: a failure opens it; nothing passes during the cool-down", () => {
  const { b, advance } = breaker();
  b.recordFailure();
  assert.equal(b.state, "open");
  assert.equal(b.tryAcquire(), false);
  advance(1_999);
  assert.equal(b.tryAcquire(), false);
});

Deno.test("breaker: after the cool-down exactly one request probes", () => {
  const { b, advance } = breaker();
  b.recordFailure();
  advance(2_000);
  assert.equal(b.tryAcquire(), true, "the probe");
  assert.equal(b.state, "probing");
  assert.equal(b.tryAcquire(), false, "a second request while the probe runs");
  assert.equal(b.tryAcquire(), false);
});

Deno.test("breaker: a successful probe closes it", () => {
  const { b, advance } = breaker();
  b.recordFailure();
  advance(2_000);
  b.tryAcquire();
  b.recordSuccess();
  assert.equal(b.state, "closed");
  assert.ok(b.tryAcquire() && b.tryAcquire());
});

Deno.test("breaker: a failed probe opens it for another full cool-down", () => {
  const { b, advance } = breaker();
  b.recordFailure();
  advance(2_000);
  b.tryAcquire();
  advance(300);
  b.recordFailure();
  assert.equal(b.state, "open");
  advance(1_999);
  assert.equal(b.tryAcquire(), false);
  advance(1);
  assert.equal(b.tryAcquire(), true);
});

Deno.test("breaker: a probe that never reports lets another probe after the probe timeout", () => {
  const { b, advance } = breaker();
  b.recordFailure();
  advance(2_000);
  assert.equal(b.tryAcquire(), true);
  advance(4_999);
  assert.equal(b.tryAcquire(), false);
  advance(1);
  assert.equal(b.tryAcquire(), true, "the lost probe does not keep the circuit shut");
  assert.equal(b.tryAcquire(), false);
});

Deno.test("database errors: outages open the circuit, a refused statement does not", () => {
  const coded = (code: string) => Object.assign(new Error(code), { code });
  for (
    const outage of [
      new DeadlineExceeded(2_500),
      new DatabaseUnavailable(),
      coded("ECONNREFUSED"),
      coded("ECONNRESET"),
      coded("CONNECTION_CLOSED"),
      coded("CONNECT_TIMEOUT"),
      coded("57P01"), // admin shutdown (immediate stop)
      coded("57P03"), // the database system is starting up
      coded("57014"), // statement timeout
      coded("08006"),
      coded("53300"), // too many connections
    ]
  ) {
    assert.equal(isDatabaseUnavailable(outage), true, (outage as Error).message);
  }
  for (
    const refused of [
      coded("23505"), // unique violation
      coded("22021"), // invalid byte sequence
      coded("P0001"), // raise exception
      new TypeError("x is undefined"),
      "a string",
      null,
    ]
  ) {
    assert.equal(isDatabaseUnavailable(refused), false, String(refused));
  }
});
