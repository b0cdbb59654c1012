import assert from "node:assert/strict";
import {
  cachedLookup,
  ExpiringCache,
  FOUND_TTL_MS,
  NOT_FOUND_TTL_MS,
  signingTokens,
} from "../../supabase/functions/_shared/twilio/account.ts";

const MAIN = "AC" + "1".repeat(32);
const SUB = "AC" + "2".repeat(32);
const config = {
  TWILIO_ACCOUNT_SID: MAIN,
  TWILIO_AUTH_TOKEN: "a".repeat(32),
  TWILIO_AUTH_TOKEN_PREVIOUS: undefined as string | undefined,
};

Deno.test("account: our account uses our token, and the previous one during a rotation", async () => {
  const lookup = () => Promise.reject(new Error("no lookup for our own account"));
  assert.deepEqual(await signingTokens(MAIN, config, lookup), {
    kind: "tokens",
    account: "main",
    tokens: ["a".repeat(32)],
  });
  assert.deepEqual(
    await signingTokens(MAIN, { ...config, TWILIO_AUTH_TOKEN_PREVIOUS: "b".repeat(32) }, lookup),
    { kind: "tokens", account: "main", tokens: ["a".repeat(32), "b".repeat(32)] },
  );
});

Deno.test("account: missing or malformed AccountSid is foreign, without a lookup", async () => {
  let lookups = 0;
  const lookup = () => (lookups++, Promise.resolve("c".repeat(32)));
  for (const sid of [null, "", "AC123", "AC" + "F".repeat(32), "x".repeat(5000)]) {
    assert.deepEqual(await signingTokens(sid, config, lookup), { kind: "foreign" });
  }
  assert.equal(lookups, 0);
});

Deno.test("account: a subaccount uses its own token only; an unknown one is foreign", async () => {
  const lookup = (sid: string) => Promise.resolve(sid === SUB ? "c".repeat(32) : null);
  assert.deepEqual(await signingTokens(SUB, config, lookup), {
    kind: "tokens",
    account: "subaccount",
    tokens: ["c".repeat(32)],
  });
  assert.deepEqual(await signingTokens("AC" + "3".repeat(32), config, lookup), {
    kind: "foreign",
  });
  const failing = () => Promise.reject(new Error("database down"));
  assert.equal((await signingTokens(SUB, config, failing)).kind, "unavailable");
});

Deno.test("account: lookups are cached, misses too, for a short time; failures are not", async () => {
  let now = 0;
  const calls: string[] = [];
  let fail = false;
  const lookup = cachedLookup(
    (sid) => {
      calls.push(sid);
      if (fail) return Promise.reject(new Error("down"));
      return Promise.resolve(sid === SUB ? "c".repeat(32) : null);
    },
    new ExpiringCache({ maxEntries: 8, now: () => now }),
  );
  const unknown = "AC" + "3".repeat(32);
  // Concurrent lookups of one account share one query.
  await Promise.all([lookup(SUB), lookup(SUB), lookup(unknown), lookup(unknown)]);
  assert.deepEqual(calls, [SUB, unknown]);
  now += NOT_FOUND_TTL_MS - 1;
  await lookup(SUB);
  await lookup(unknown);
  assert.equal(calls.length, 2, "a cached answer was asked again");
  now += 2;
  await lookup(unknown);
  assert.equal(calls.length, 3, "a miss is cached no longer than its TTL");
  now += FOUND_TTL_MS;
  fail = true;
  await assert.rejects(lookup(SUB));
  await assert.rejects(lookup(SUB));
  assert.equal(calls.length, 5, "a failure was cached");
});

Deno.test("account: the cache is bounded; the oldest entry goes first", () => {
  const cache = new ExpiringCache<number>({ maxEntries: 3, now: () => 0 });
  for (let i = 0; i < 10; i++) cache.set(`k${i}`, i, 1000);
  assert.equal(cache.size, 3);
  assert.equal(cache.get("k0"), undefined);
  assert.equal(cache.get("k9"), 9);
});
