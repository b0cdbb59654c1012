/**
 * Crash recovery with real processes: telephony-provision runs as its own
 * `deno run` process (as the local stack runs it) and is killed (SIGKILL)
 * while a Twilio call of a given step is in flight, before or after Twilio
 * acted. The resumer then finds each transaction once its lease expires
 * (fast-forwarded here instead of waiting 30 s) and completes or undoes it.
 * Also: two resumers at once, and 20 concurrent provisions.
 */
import assert from "node:assert/strict";
import { freePort, functionRunArgs, runtimeEnv } from "../../scripts/lib/function-workers.ts";
import { testSql } from "../support/stack.ts";
import { type Fault, TwilioStandIn } from "../support/twilio-stand-in.ts";
import {
  ADMIN_KEY,
  checkInvariants,
  expireLeases,
  NO_DAMAGE,
  provisioningClient,
  provisioningEnv,
  releaseEverything,
  resetProvisioningLimits,
} from "../support/provisioning.ts";

const ROOT = new URL("../..", import.meta.url).pathname.replace(/\/$/, "");
const sql = testSql();

/** telephony-provision in a process of its own, with a Twilio timeout long enough to be killed in. */
async function startProvisioner(standIn: TwilioStandIn) {
  const port = freePort();
  const child = new Deno.Command(Deno.execPath(), {
    args: functionRunArgs(
      `${ROOT}/deno.json`,
      `${ROOT}/supabase/functions/telephony-provision/index.ts`,
    ),
    env: {
      ...runtimeEnv(),
      ...provisioningEnv(standIn, 15_000),
      DENO_SERVE_ADDRESS: `tcp:127.0.0.1:${port}`,
    },
    clearEnv: true,
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  for (let i = 0; i < 300; i++) {
    try {
      (await Deno.connect({ hostname: "127.0.0.1", port })).close();
      break;
    } catch {
      await new Promise((r) => setTimeout(r, 20));
    }
  }
  const provision = (body: unknown) =>
    fetch(`http://127.0.0.1:${port}/telephony-provision/numbers`, {
      method: "POST",
      headers: {
        authorization: `Bearer ${ADMIN_KEY}`,
        "idempotency-key": crypto.randomUUID(),
        "content-type": "application/json",
      },
      body: JSON.stringify(body),
    }).then((r) => r.body?.cancel(), () => {/* killed mid-request: expected */});
  const release = (e164: string) =>
    fetch(`http://127.0.0.1:${port}/telephony-provision/numbers/${encodeURIComponent(e164)}`, {
      method: "DELETE",
      headers: { authorization: `Bearer ${ADMIN_KEY}` },
    }).then((r) => r.body?.cancel(), () => {/* killed mid-request: expected */});
  const resume = () =>
    fetch(`http://127.0.0.1:${port}/telephony-provision/transactions/resume`, {
      method: "POST",
      headers: { authorization: `Bearer ${ADMIN_KEY}` },
    }).then(async (r) => ({ status: r.status, body: await r.json() }));
  const kill = async () => {
    child.kill("SIGKILL");
    await child.status;
  };
  return { provision, release, resume, kill };
}

async function waitFor(check: () => boolean, what: string) {
  for (let i = 0; i < 500; i++) {
    if (check()) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`timed out waiting for ${what}`);
}

const KILL_POINTS: [string, string, RegExp][] = [
  ["create_subaccount", "POST", /\/Accounts\.json$/],
  ["reserve_number (search)", "GET", /AvailablePhoneNumbers/],
  ["buy_number", "POST", /IncomingPhoneNumbers\.json$/],
  ["configure_webhooks", "POST", /IncomingPhoneNumbers\/PN[0-9a-f]+\.json$/],
  ["activate_number (token read)", "GET", /\/Accounts\/AC[0-9a-f]+\.json$/],
];

Deno.test("crash: killed during each step (before and after Twilio acted), the resumer settles it", async () => {
  let kills = 0;
  for (const [step, method, path] of KILL_POINTS) {
    for (const fault of [{ kind: "hang" }, { kind: "act-hang" }] as Fault[]) {
      await resetProvisioningLimits(sql);
      const standIn = new TwilioStandIn().start();
      const call = provisioningClient(standIn);
      const provisioner = await startProvisioner(standIn);
      standIn.faultOn(method, path, fault);
      const inFlight = provisioner.provision({
        client: "Crashy",
        areaCode: "587",
        subaccount: true,
      });
      await waitFor(() => standIn.hangingCount > 0, `${step} to hang`);
      await provisioner.kill();
      kills++;
      await inFlight;
      const [tx] = await sql`
        select id, status from public.telephony_transactions where client = 'Crashy'
         order by created_at desc limit 1`;
      assert.equal(tx.status, "running", `${step}: left running by the killed process`);

      // A live lease is never taken over.
      const early = await call("POST", "/transactions/resume");
      assert.deepEqual(early.body.resumed, [], `${step}: resumer waited for the lease`);

      await expireLeases(sql);
      const resumed = await call("POST", "/transactions/resume");
      assert.equal(resumed.status, 200);
      assert.deepEqual(resumed.body.resumed.map((r: { id: string }) => r.id), [tx.id]);
      const status = resumed.body.resumed[0].status;
      // Killed after Twilio acted on the last Twilio call: completing is right; otherwise undo.
      assert.ok(["completed", "compensated"].includes(status), `${step}/${fault.kind}: ${status}`);
      assert.deepEqual(await checkInvariants(sql, standIn), NO_DAMAGE, `${step}/${fault.kind}`);
      await releaseEverything(sql, call, standIn);
    }
  }
  console.log(`crash recovery: ${kills} processes killed mid-step, 0 orphans`);
});

Deno.test("crash: a release killed during each Twilio call is finished by the resumer", async () => {
  const points: [string, string, RegExp][] = [
    ["release_at_twilio", "DELETE", /IncomingPhoneNumbers\/PN/],
    ["close_subaccount", "POST", /\/Accounts\/AC[0-9a-f]+\.json$/],
  ];
  for (const [step, method, path] of points) {
    for (const fault of [{ kind: "hang" }, { kind: "act-hang" }] as Fault[]) {
      await resetProvisioningLimits(sql);
      const standIn = new TwilioStandIn().start();
      const call = provisioningClient(standIn);
      const bought = await call("POST", "/numbers", {
        key: crypto.randomUUID(),
        body: { client: "Crashy Release", areaCode: "587", subaccount: true },
      });
      assert.equal(bought.status, 201);
      const provisioner = await startProvisioner(standIn);
      standIn.faultOn(method, path, fault);
      const inFlight = provisioner.release(bought.body.number.e164);
      await waitFor(() => standIn.hangingCount > 0, `${step} to hang`);
      await provisioner.kill();
      await inFlight;
      await expireLeases(sql);
      const resumed = await call("POST", "/transactions/resume");
      assert.deepEqual(
        resumed.body.resumed.map((r: { status: string }) => r.status),
        ["completed"],
        `${step}/${fault.kind}: a release past or before the DELETE ends released`,
      );
      assert.equal(standIn.numbers.has(bought.body.number.sid), false);
      assert.deepEqual(await checkInvariants(sql, standIn), NO_DAMAGE, `${step}/${fault.kind}`);
      await releaseEverything(sql, call, standIn);
    }
  }
});

Deno.test("crash: two resumers at once take each transaction exactly once", async () => {
  await resetProvisioningLimits(sql);
  const standIn = new TwilioStandIn().start();
  const call = provisioningClient(standIn);
  const provisioner = await startProvisioner(standIn);
  // Four provisions die after Twilio bought their numbers.
  standIn.faultOn("POST", /IncomingPhoneNumbers\.json$/, { kind: "act-hang" }, 4);
  const inFlight = [1, 2, 3, 4].map((i) =>
    provisioner.provision({ client: `Pair ${i}`, areaCode: "780" })
  );
  await waitFor(() => standIn.hangingCount === 4, "four purchases in flight");
  await provisioner.kill();
  await Promise.all(inFlight);
  await expireLeases(sql);

  // Two resumers in two processes (this one and a fresh function process), at the same moment.
  const second = await startProvisioner(standIn);
  const [a, b] = await Promise.all([call("POST", "/transactions/resume"), second.resume()]);
  await second.kill();
  const idsA = a.body.resumed.map((r: { id: string }) => r.id);
  const idsB = b.body.resumed.map((r: { id: string }) => r.id);
  assert.equal(idsA.length + idsB.length, 4, JSON.stringify({ idsA, idsB }));
  assert.equal(new Set([...idsA, ...idsB]).size, 4);
  for (const r of [...a.body.resumed, ...b.body.resumed]) assert.equal(r.status, "completed");
  assert.equal(standIn.effects.numbersBought, 4);
  assert.deepEqual(await checkInvariants(sql, standIn), NO_DAMAGE);
  await releaseEverything(sql, call, standIn);
});

Deno.test("crash: a resumer skips transactions another resumer is taking, without waiting", async () => {
  const ids = await sql`
    insert into public.telephony_transactions (kind, status, lease_owner, lease_expires_at, attempts)
    select 'provision_number', 'running', 'dead', now() - interval '1 second', 1
      from generate_series(1, 4)
    returning id`;
  const mine = ids.map((r) => r.id as string);
  const a = testSql({ max: 1 });
  const b = testSql({ max: 1 });
  try {
    // Resumer A takes two and has not committed yet (its row locks are held).
    let releaseA!: () => void;
    const aHolds = new Promise<void>((r) => (releaseA = r));
    let aTook: string[] = [];
    const aDone = a.begin(async (tx) => {
      aTook = (await tx`
        select public.telephony_transactions_claim_expired('resumer-a', 30, 2) as id`)
        .map((r) => r.id as string);
      await aHolds;
    });
    while (aTook.length === 0) await new Promise((r) => setTimeout(r, 10));
    // Resumer B, on its own connection, must not block on A's rows nor take them.
    const started = performance.now();
    // A B that waited for A's locks would wait forever (A commits after B): cap it.
    // SET LOCAL, not a start-up parameter: PgBouncer in transaction mode refuses
    // statement_timeout at connect ("unsupported startup parameter"), as db.ts notes.
    const bTook = await b.begin(async (tx) => {
      await tx`set local statement_timeout = 2000`;
      return await tx`
        select public.telephony_transactions_claim_expired('resumer-b', 30, 10) as id`;
    })
      .then((rows) => rows.map((r) => r.id as string).filter((id) => mine.includes(id)))
      .finally(() => releaseA());
    const waited = performance.now() - started;
    await aDone;
    assert.equal(aTook.length, 2);
    assert.equal(bTook.length, 2, JSON.stringify({ aTook, bTook }));
    assert.deepEqual(aTook.filter((id) => bTook.includes(id)), []);
    assert.ok(waited < 1_000, `B waited ${Math.round(waited)} ms for A's locks`);
  } finally {
    await sql`delete from public.telephony_transactions where id = any(${mine})`;
    await a.end();
    await b.end();
  }
});

Deno.test("concurrency: 20 provisions at once get 20 different numbers, each bought once", async () => {
  await resetProvisioningLimits(sql);
  const standIn = new TwilioStandIn().start();
  const call = provisioningClient(standIn);
  const answers = await Promise.all(
    Array.from({ length: 20 }, (_, i) =>
      call("POST", "/numbers", {
        key: crypto.randomUUID(),
        body: { client: `Crowd ${i}`, areaCode: "587" },
      })),
  );
  assert.deepEqual(answers.map((a) => a.status), Array(20).fill(201));
  assert.equal(new Set(answers.map((a) => a.body.number.e164)).size, 20);
  assert.equal(standIn.effects.numbersBought, 20);
  // The 21st within the hour is over the account policy (20/hour, fail closed).
  const over = await call("POST", "/numbers", {
    key: crypto.randomUUID(),
    body: { client: "Crowd 21", areaCode: "587" },
  });
  assert.equal(over.status, 429);
  assert.deepEqual(await checkInvariants(sql, standIn), NO_DAMAGE);
  await releaseEverything(sql, call, standIn);
});

Deno.test("teardown", async () => {
  await sql.end();
});
