/**
 * Signature forgery: RELIABILITY_FORGERIES (default 600; `deno task
 * reliability:forgery` sends 10,000) mutations of correctly signed webhooks
 * to the functions that write: mutated signatures, URLs, schemes, hosts,
 * ports, paths and queries, bodies, parameters signed in the wrong order,
 * duplicated parameters, other tokens and accounts, and valid signatures
 * replayed with one parameter changed. Zero may be accepted, and not one row
 * may exist afterwards for any CallSid or MessageSid they carried.
 *
 * Controls: every 50th request is the unmutated one, for a CallSid of its
 * own; it must be accepted (so a rejection is the mutation's doing).
 * Signatures come from the `twilio` package, not from the code under test.
 */
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import twilio from "twilio";
import { exampleEnv } from "../support/function-process.ts";
import { functionsUrl, testSql } from "../support/stack.ts";
import { CALL_TARGETS } from "./support/targets.ts";
import { baseSeed, Dice, envInt, inParallel } from "./support/seeded.ts";

const env = exampleEnv();
const COUNT = envInt("RELIABILITY_FORGERIES", 600);
const SEED = baseSeed(4242);
/** The functions that write rows (voice-fallback stores nothing; voice-health takes no webhook). */
const WRITERS = CALL_TARGETS.filter((t) =>
  [
    "voice-frontdoor",
    "voice-menu-handler",
    "voice-action",
    "voice-voicemail",
    "voice-status",
    "webcomms-sms-reply",
  ]
    .includes(t.slug)
);

interface Forgery {
  kind: string;
  url: string;
  signature: string;
  body: URLSearchParams;
  ids: string[];
  control: boolean;
}

const sign = (token: string, url: string, params: Record<string, string>) =>
  twilio.getExpectedTwilioSignature(token, url, params);

/** HMAC over the parameters in the order sent (Twilio sorts them: this must fail). */
const unsortedSignature = (token: string, url: string, params: URLSearchParams) =>
  createHmac("sha1", token).update(url + [...params].map(([k, v]) => k + v).join(""))
    .digest("base64");

function mutateSignature(dice: Dice, sig: string): string {
  switch (dice.int(0, 6)) {
    case 0: {
      const i = dice.int(0, sig.length - 2);
      const c = sig[i] === "A" ? "B" : "A";
      return sig.slice(0, i) + c + sig.slice(i + 1);
    }
    case 1:
      return sig.slice(0, dice.int(0, sig.length - 1));
    case 2:
      return sig.toLowerCase() === sig ? sig.toUpperCase() : sig.toLowerCase();
    case 3:
      return sig + "=";
    case 4: {
      // (Not a leading space: HTTP strips it, and the header is then the valid one.)
      const i = dice.int(1, sig.length - 1);
      return sig.slice(0, i) + "+" + sig.slice(i);
    }
    case 5:
      return "";
    default:
      return btoa(dice.hex(20));
  }
}

function forge(dice: Dice, base: string): Forgery {
  const target = dice.pick(WRITERS);
  const params = target.params(dice, env.TWILIO_ACCOUNT_SID);
  const ids = [params.CallSid, params.MessageSid].filter(Boolean);
  const query = dice.pick(target.queries(dice, params.CallSid ?? ""));
  const url = `${base}/${target.slug}${query ? `?${query}` : ""}`;
  const token = env.TWILIO_AUTH_TOKEN;
  const valid = sign(token, url, params);
  const body = new URLSearchParams(params);
  const f = (kind: string, signature: string, b = body, u = url): Forgery => ({
    kind,
    url: u,
    signature,
    body: b,
    ids,
    control: false,
  });
  const names = Object.keys(params);
  const u = new URL(url);
  switch (dice.int(0, 11)) {
    case 0:
      return f("signature", mutateSignature(dice, valid));
    case 1: {
      // Signed for another URL, sent to ours.
      const other = dice.pick([
        url.replace("http://", "https://"),
        url.replace(u.host, "evil.example"),
        url.replace(u.host, `${u.hostname}:${Number(u.port || 80) + 1}`),
        url.replace(`/${target.slug}`, `/${target.slug.toUpperCase()}`),
        url.replace(`/${target.slug}`, `/${target.slug}/`),
        url.replace(`/${target.slug}`, "/voice-fallback"),
        url + (query ? "&x=1" : "?x=1"),
        query ? url.split("?")[0] : url + "?event=recording",
      ]);
      return f("url", sign(token, other, params));
    }
    case 2: {
      const name = dice.pick(names);
      const changed = new URLSearchParams(params);
      changed.set(name, params[name] + dice.pick(["1", " ", "x", "\u0000"]));
      return f("replay-changed-param", valid, changed);
    }
    case 3: {
      // A second, different value. (The same value again is the same request to
      // Twilio's algorithm, which signs each distinct value once: twilio-node does.)
      const dup = new URLSearchParams(params);
      const name = dice.pick(names);
      const value = dice.pick(["+15550001111", "completed", "1", ""]);
      dup.append(name, value === params[name] ? `${value}0` : value);
      return f("duplicated-param", valid, dup);
    }
    case 4: {
      const fewer = new URLSearchParams(params);
      fewer.delete(dice.pick(names));
      return f("removed-param", valid, fewer);
    }
    case 5: {
      const more = new URLSearchParams(params);
      more.set("Digits", "9");
      more.set("Extra", dice.hex(6));
      return f("added-param", valid, more);
    }
    case 6: {
      const shuffled = new URLSearchParams(
        [...body].sort(() => dice.next() - 0.5),
      );
      return f("unsorted-signature", unsortedSignature(token, url, shuffled), shuffled);
    }
    case 7:
      return f("wrong-token", sign(dice.hex(32), url, params));
    case 8: {
      const foreign = { ...params, AccountSid: dice.sid("AC") };
      return f("foreign-account", sign(token, url, foreign), new URLSearchParams(foreign));
    }
    case 9: {
      const renamed = dice.pick(names);
      const lower = new URLSearchParams(
        [...body].map(([k, v]) => [k === renamed ? k.toLowerCase() : k, v]),
      );
      return f("renamed-param", valid, lower);
    }
    case 10:
      return f("no-signature", "");
    default: {
      if (!query) return f("signature", mutateSignature(dice, valid));
      // Signed with our query moved into the body, sent with it in the URL.
      const moved = new URLSearchParams(params);
      for (const [k, v] of new URLSearchParams(query)) moved.set(k, v);
      return f("query-in-body", sign(token, url.split("?")[0], Object.fromEntries(moved)), moved);
    }
  }
}

Deno.test(`signature forgery: ${COUNT} mutated webhooks, none accepted, no row written`, async () => {
  const base = functionsUrl();
  const dice = Dice.seeded(SEED);
  const forgeries: Forgery[] = [];
  let made = 0;
  for (let i = 0; made < COUNT; i++) {
    if (i % 50 === 49) {
      const target = dice.pick(WRITERS);
      const params = target.params(dice, env.TWILIO_ACCOUNT_SID);
      const url = `${base}/${target.slug}`;
      forgeries.push({
        kind: "control",
        url,
        signature: sign(env.TWILIO_AUTH_TOKEN, url, params),
        body: new URLSearchParams(params),
        ids: [],
        control: true,
      });
    } else {
      forgeries.push(forge(dice, base));
      made++;
    }
  }
  const accepted: string[] = [];
  const controlsRefused: string[] = [];
  const byKind: Record<string, number> = {};
  await inParallel(forgeries, 8, async (f) => {
    const headers: Record<string, string> = {
      "content-type": "application/x-www-form-urlencoded",
    };
    if (f.signature) headers["x-twilio-signature"] = f.signature;
    const res = await fetch(f.url, { method: "POST", headers, body: f.body });
    await res.body?.cancel();
    if (f.control) {
      if (res.status !== 200) controlsRefused.push(`${f.url}: ${res.status}`);
      return;
    }
    byKind[f.kind] = (byKind[f.kind] ?? 0) + 1;
    if (res.status !== 400 && res.status !== 403) {
      accepted.push(`${f.kind} ${f.url} [${f.signature}]: ${res.status}`);
    }
  });
  const ids = forgeries.flatMap((f) => f.ids);
  const sql = testSql({ max: 1 });
  let rows: number;
  try {
    const [r] = await sql`
      select (select count(*) from public.call_logs where call_sid = any(${ids}))
           + (select count(*) from public.call_lifecycle where call_sid = any(${ids}))
           + (select count(*) from public.analytics_events where call_sid = any(${ids}))
           + (select count(*) from public.voicemails where call_sid = any(${ids}))
           + (select count(*) from public.sms_messages where message_sid = any(${ids}))
           + (select count(*) from public.error_logs where call_sid = any(${ids})) as n`;
    rows = Number(r.n);
  } finally {
    await sql.end({ timeout: 2 });
  }
  const forged = forgeries.filter((f) => !f.control).length;
  console.log(
    `signature forgery (seed ${SEED}): ${forged} forged, ${accepted.length} accepted, ` +
      `${rows} rows written; controls ${
        forgeries.length - forged
      }, refused ${controlsRefused.length}`,
  );
  console.log(`  by kind: ${Object.entries(byKind).map(([k, n]) => `${k} ${n}`).join(", ")}`);
  for (const a of accepted.slice(0, 10)) console.log(`  accepted: ${a}`);
  assert.deepEqual(controlsRefused, [], "a correctly signed control was refused");
  assert.deepEqual(accepted, []);
  assert.equal(rows, 0);
});
