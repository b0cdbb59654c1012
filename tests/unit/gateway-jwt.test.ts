/** The local gateway's verify_jwt, as the Supabase gateway applies it. */
import assert from "node:assert/strict";
import { functionsWithoutJwt, verifyGatewayJwt } from "../../scripts/lib/gateway-jwt.ts";
import { parseDotenv } from "../../scripts/lib/dotenv.ts";

const SECRET = "super-secret-jwt-token-with-at-least-32-characters-long";
const b64url = (bytes: Uint8Array) =>
  btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
const enc = (o: unknown) => b64url(new TextEncoder().encode(JSON.stringify(o)));

async function sign(claims: Record<string, unknown>, secret = SECRET, alg = "HS256") {
  const head = `${enc({ alg, typ: "JWT" })}.${enc(claims)}`;
  const key = await crypto.subtle.importKey(
    "raw",
    new TextEncoder().encode(secret),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  return `${head}.${
    b64url(new Uint8Array(await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(head))))
  }`;
}

Deno.test("gateway: a JWT signed with the secret passes, with its claims", async () => {
  const claims = await verifyGatewayJwt(`Bearer ${await sign({ role: "service_role" })}`, SECRET);
  assert.deepEqual(claims, { role: "service_role" });
});

Deno.test("gateway: wrong secret, expired, other algorithm, or no header are refused", async () => {
  assert.equal(
    await verifyGatewayJwt(`Bearer ${await sign({ role: "anon" }, "another-secret")}`, SECRET),
    null,
  );
  assert.equal(
    await verifyGatewayJwt(`Bearer ${await sign({ role: "anon", exp: 1000 })}`, SECRET),
    null,
  );
  assert.equal(
    await verifyGatewayJwt(`Bearer ${await sign({ role: "anon" }, SECRET, "none")}`, SECRET),
    null,
  );
  assert.equal(await verifyGatewayJwt(null, SECRET), null);
  assert.equal(await verifyGatewayJwt("Bearer not.a.jwt", SECRET), null);
});

Deno.test("gateway: verify_jwt = false is read per function from config.toml", () => {
  const toml =
    `[functions.voice-frontdoor]\nverify_jwt = false\n\n[functions.admin]\nverify_jwt = true\n[db]\nverify_jwt = false\n`;
  assert.deepEqual([...functionsWithoutJwt(toml)], ["voice-frontdoor"]);
});

Deno.test("gateway: the committed config opens exactly the Twilio-facing functions, voice-health and the admin-key API", () => {
  const open = functionsWithoutJwt(
    Deno.readTextFileSync(new URL("../../supabase/config.toml", import.meta.url)),
  );
  // telephony-provision checks its own admin key (Authorization: Bearer) before any work.
  assert.deepEqual([...open].sort(), [
    "telephony-provision",
    "voice-action",
    "voice-fallback",
    "voice-frontdoor",
    "voice-health",
    "voice-menu-handler",
    "voice-status",
    "voice-voicemail",
    "webcomms-sms-reply",
  ]);
});

Deno.test("dotenv: comments, quotes, export, and a clear error on nonsense", () => {
  assert.deepEqual(parseDotenv(`# c\nA=1\nexport B="two words"\nC='x#y'\nD=v # trailing\n\n`), {
    A: "1",
    B: "two words",
    C: "x#y",
    D: "v",
  });
  assert.throws(
    () => parseDotenv("A=1\nnot a line", "x/.env"),
    /^DotenvError: x\/.env line 2: expected not=value$/,
  );
});
