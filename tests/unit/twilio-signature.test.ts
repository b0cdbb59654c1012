/**
 * Our WebCrypto validator against twilio-node (the reference oracle) on the
 * published vectors and on seeded random requests, plus tampering.
 */
import assert from "node:assert/strict";
import twilio from "twilio";
import {
  computeTwilioSignature,
  publicWebhookUrl,
  urlVariants,
  validateTwilioSignature,
} from "../../supabase/functions/_shared/twilio/signature.ts";

const TOKEN = "12345";
const VECTOR_PARAMS = {
  CallSid: "CA1234567890ABCDE",
  Caller: "+14158675309",
  Digits: "1234",
  From: "+14158675309",
  To: "+18005551212",
};
const form = (o: Record<string, string | string[]>) => {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(o)) for (const x of [v].flat()) p.append(k, x);
  return p;
};

for (
  const [url, expected] of [
    ["https://mycompany.com/myapp.php?foo=1&bar=2", "RSOYDt4T1cUTdK1PDd93/VVr8B8="],
    ["https://mycompany.com:443/myapp.php?foo=1&bar=2", "kvajT1Ptam85bY51eRf/AJRuM3w="],
    ["http://mycompany.com:80/myapp.php?foo=1&bar=2", "0ZXoZLH/DfblKGATFgpif+LLRf4="],
  ]
) {
  Deno.test(`signature: published vector ${url}`, async () => {
    assert.equal(await computeTwilioSignature(TOKEN, url, form(VECTOR_PARAMS)), expected);
    assert.ok(
      await validateTwilioSignature({
        authToken: TOKEN,
        signature: expected,
        url,
        params: form(VECTOR_PARAMS),
      }),
    );
  });
}

Deno.test("signature: with and without the default port are both accepted (as twilio-node does)", async () => {
  const params = form(VECTOR_PARAMS);
  const signedWithout = "RSOYDt4T1cUTdK1PDd93/VVr8B8=";
  const signedWith = "kvajT1Ptam85bY51eRf/AJRuM3w=";
  for (
    const url of [
      "https://mycompany.com/myapp.php?foo=1&bar=2",
      "https://mycompany.com:443/myapp.php?foo=1&bar=2",
    ]
  ) {
    for (const signature of [signedWith, signedWithout]) {
      assert.ok(
        await validateTwilioSignature({ authToken: TOKEN, signature, url, params }),
        `${url} ${signature}`,
      );
      assert.ok(
        twilio.validateRequest(TOKEN, signature, url, VECTOR_PARAMS),
        `oracle: ${url} ${signature}`,
      );
    }
  }
});

/** mulberry32: a seeded PRNG, so a failure names a reproducible case. */
function prng(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const ALPHABET = "abcXYZ019 _-+.&=?/%é☎\u00a0";
function randomRequest(rand: () => number) {
  const pick = <T>(xs: T[]) => xs[Math.floor(rand() * xs.length)];
  const str = (max: number) =>
    Array.from(
      { length: Math.floor(rand() * max) },
      () => ALPHABET[Math.floor(rand() * ALPHABET.length)],
    ).join("");
  const params: Record<string, string[]> = {};
  const n = Math.floor(rand() * 8);
  for (let i = 0; i < n; i++) {
    const key = pick([
      "CallSid",
      "callsid",
      "Digits",
      "From",
      "To",
      "FinishedOnKey",
      "Speech",
      "a",
      "B",
      "Zed",
      "ünï",
    ]) +
      (rand() < 0.3 ? str(3) : "");
    const values = params[key] ??= [];
    values.push(rand() < 0.2 ? "" : str(12));
    if (rand() < 0.2) values.push(values[0]); // a repeated identical value
  }
  const host = pick(["example.com", "abc.supabase.co", "127.0.0.1"]);
  const scheme = pick(["https", "http"]);
  const port = pick(["", ":443", ":80", ":8443"]);
  const query = rand() < 0.5
    ? ""
    : "?" + new URLSearchParams({ step: str(5), n: String(Math.floor(rand() * 9)) });
  return { url: `${scheme}://${host}${port}/functions/v1/voice-menu-handler${query}`, params };
}

Deno.test("signature: agrees with twilio-node on 500 random requests, and both reject tampering", async () => {
  const seed = 20261123;
  const rand = prng(seed);
  for (let i = 0; i < 500; i++) {
    const { url, params } = randomRequest(rand);
    const token = Array.from({ length: 32 }, () => "0123456789abcdef"[Math.floor(rand() * 16)])
      .join("");
    const oracleParams = Object.fromEntries(
      Object.entries(params).map(([k, v]) => [k, v.length === 1 ? v[0] : v]),
    );
    const expected = twilio.getExpectedTwilioSignature(token, url, oracleParams);
    const ctx = `seed ${seed}, case ${i}: ${url} ${JSON.stringify(params)}`;
    assert.equal(await computeTwilioSignature(token, url, form(params)), expected, ctx);
    assert.ok(
      await validateTwilioSignature({
        authToken: token,
        signature: expected,
        url,
        params: form(params),
      }),
      ctx,
    );
    assert.ok(twilio.validateRequest(token, expected, url, oracleParams), `oracle accepts: ${ctx}`);

    // A changed value, an added parameter, a changed URL, a flipped signature character.
    const tamperedParams = { ...params, Injected: ["1"] };
    const flipped = (expected[0] === "A" ? "B" : "A") + expected.slice(1);
    const otherUrl = url.replace("voice-menu-handler", "voice-action");
    for (
      const [what, u, p, s] of [
        ["added param", url, tamperedParams, expected],
        ["other path", otherUrl, params, expected],
        ["flipped signature", url, params, flipped],
      ] as const
    ) {
      const op = Object.fromEntries(
        Object.entries(p).map(([k, v]) => [k, v.length === 1 ? v[0] : v]),
      );
      assert.equal(
        await validateTwilioSignature({ authToken: token, signature: s, url: u, params: form(p) }),
        false,
        `${what}: ${ctx}`,
      );
      assert.equal(twilio.validateRequest(token, s, u, op), false, `oracle ${what}: ${ctx}`);
    }
    const firstKey = Object.keys(params)[0];
    if (firstKey !== undefined) {
      const changed = { ...params, [firstKey]: params[firstKey].map((v) => v + "x") };
      assert.equal(
        await validateTwilioSignature({
          authToken: token,
          signature: expected,
          url,
          params: form(changed),
        }),
        false,
        `changed value: ${ctx}`,
      );
    }
  }
});

Deno.test("signature: missing, empty, or wrong-token signatures are rejected", async () => {
  const url = "https://mycompany.com/myapp.php?foo=1&bar=2";
  const params = form(VECTOR_PARAMS);
  assert.equal(
    await validateTwilioSignature({ authToken: TOKEN, signature: null, url, params }),
    false,
  );
  assert.equal(
    await validateTwilioSignature({ authToken: TOKEN, signature: "", url, params }),
    false,
  );
  assert.equal(
    await validateTwilioSignature({
      authToken: "54321",
      signature: "RSOYDt4T1cUTdK1PDd93/VVr8B8=",
      url,
      params,
    }),
    false,
  );
  const http = url.replace("https:", "http:");
  assert.equal(
    await validateTwilioSignature({
      authToken: TOKEN,
      signature: "RSOYDt4T1cUTdK1PDd93/VVr8B8=",
      url: http,
      params,
    }),
    false,
  );
});

Deno.test("signature: empty values count (FinishedOnKey= is signed)", async () => {
  const url = "https://example.com/functions/v1/voice-menu-handler";
  const withEmpty = form({ Digits: "1", FinishedOnKey: "" });
  const sig = twilio.getExpectedTwilioSignature(TOKEN, url, { Digits: "1", FinishedOnKey: "" });
  assert.ok(
    await validateTwilioSignature({ authToken: TOKEN, signature: sig, url, params: withEmpty }),
  );
  assert.equal(
    await validateTwilioSignature({
      authToken: TOKEN,
      signature: sig,
      url,
      params: form({ Digits: "1" }),
    }),
    false,
  );
});

Deno.test("signature: JSON body variant signs the URL and hashes the body", async () => {
  const body = JSON.stringify({ CallSid: "CA" + "0".repeat(32), Event: "x" });
  const hash = [
    ...new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(body))),
  ]
    .map((b) => b.toString(16).padStart(2, "0")).join("");
  const url = `https://example.com/functions/v1/voice-status?bodySHA256=${hash}`;
  const sig = twilio.getExpectedTwilioSignature(TOKEN, url, {});
  assert.ok(twilio.validateRequestWithBody(TOKEN, sig, url, body), "oracle accepts");
  assert.ok(
    await validateTwilioSignature({
      authToken: TOKEN,
      signature: sig,
      url,
      params: new URLSearchParams(),
      rawBody: body,
    }),
  );
  const tampered = body.replace("x", "y");
  assert.equal(twilio.validateRequestWithBody(TOKEN, sig, url, tampered), false, "oracle rejects");
  assert.equal(
    await validateTwilioSignature({
      authToken: TOKEN,
      signature: sig,
      url,
      params: new URLSearchParams(),
      rawBody: tampered,
    }),
    false,
  );
});

Deno.test("publicWebhookUrl: rebuilds the public URL with the raw query string", () => {
  const base = "https://abc.supabase.co/functions/v1";
  assert.equal(
    publicWebhookUrl(base, "voice-frontdoor", "http://localhost:9000/voice-frontdoor"),
    `${base}/voice-frontdoor`,
  );
  assert.equal(
    publicWebhookUrl(
      base + "/",
      "voice-menu-handler",
      "http://10.0.0.1/voice-menu-handler?attempt=2&x=a%20b",
    ),
    `${base}/voice-menu-handler?attempt=2&x=a%20b`,
  );
  assert.equal(
    publicWebhookUrl(base, "voice-action", "http://h/voice-action?"),
    `${base}/voice-action`,
  );
  assert.equal(
    publicWebhookUrl(base, "voice-action", "http://h/voice-action?a=1#frag"),
    `${base}/voice-action?a=1`,
  );
});

/**
 * The URL variants accepted are twilio-node's exactly: for each URL a request
 * arrives on, and each URL a signature might have been computed over (ports
 * added, removed, doubled; escaped or not), we accept iff twilio-node does.
 */
Deno.test("signature: the URL variants accepted are exactly twilio-node's", async () => {
  const token = "0123456789abcdef0123456789abcdef";
  const received = [
    "http://host:56321/functions/v1/voice-frontdoor",
    "https://hotline.example/functions/v1/voice-menu-handler?attempt=1&repeats=0",
    "https://hotline.example:443/functions/v1/voice-action?dept=sales",
    "http://127.0.0.1:54321/functions/v1/voice-status",
    "http://[::1]:8080/functions/v1/voice-status?a=1",
    "https://user@hotline.example/functions/v1/voice-voicemail?event=recorded",
    "https://hotline.example/functions/v1/voice-action?note=it's&x=a%20b&x=c",
    "https://HOTLINE.example/functions/v1/voice-fallback?step=voicemail&dup=1&other=2&dup=3",
  ];
  const signedOver = (url: string) => {
    const m = /^([a-z]+:\/\/)([^/?#]*)(.*)$/i.exec(url)!;
    const [, scheme, authority, rest] = m;
    const normalised = new URL(url).toString();
    return [
      url,
      `${scheme}${authority}:80${rest}`,
      `${scheme}${authority}:443${rest}`,
      `${scheme}${authority.replace(/:\d+$/, "")}${rest}`,
      `${scheme}${authority.replace(/:\d+$/, "")}:80${rest}`,
      `${scheme}${authority.replace(/:\d+$/, "")}:443${rest}`,
      `${scheme}${authority.replace(/:\d+$/, "")}:9999${rest}`,
      normalised,
      normalised.replace("'", "%27"),
      normalised.replace("&x=c", "").replace("x=a%20b", "x=a%20b&x=c"),
      normalised.replace("dup=1&other=2&dup=3", "dup=1&dup=3&other=2"),
      url.replace("http://", "https://"),
      url.toLowerCase(),
    ];
  };
  const params = { CallSid: "CA" + "1".repeat(32), Digits: "1" };
  let accepted = 0;
  for (const url of received) {
    for (const signed of new Set(signedOver(url))) {
      const signature = twilio.getExpectedTwilioSignature(token, signed, params);
      const oracle = twilio.validateRequest(token, signature, url, params);
      const ours = await validateTwilioSignature({
        authToken: token,
        signature,
        url,
        params: form(params),
      });
      assert.equal(ours, oracle, `received ${url}, signed over ${signed}: twilio-node ${oracle}`);
      if (oracle) accepted++;
    }
  }
  // The comparison covered both answers, not only refusals.
  assert.ok(accepted > received.length, `only ${accepted} accepted`);
});

Deno.test("signature: the URL as received is tried first, so a genuine webhook costs one HMAC", () => {
  for (
    const url of [
      "http://127.0.0.1:54321/functions/v1/voice-status",
      "https://hotline.example/functions/v1/voice-frontdoor",
      "https://hotline.example:443/functions/v1/voice-action?dept=sales",
    ]
  ) {
    const variants = urlVariants(url);
    assert.equal(variants[0], url);
    // The same two URLs as twilio-node's first try, whatever the order.
    assert.equal(variants.length, 2, variants.join(" "));
  }
});

Deno.test("signature: a port appended to a URL that already has one is refused", async () => {
  const token = "0123456789abcdef0123456789abcdef";
  const url = "http://host:56321/functions/v1/voice-frontdoor";
  const params = { CallSid: "CA" + "1".repeat(32) };
  const signature = twilio.getExpectedTwilioSignature(
    token,
    "http://host:56321:80/functions/v1/voice-frontdoor",
    params,
  );
  assert.equal(twilio.validateRequest(token, signature, url, params), false);
  assert.equal(
    await validateTwilioSignature({ authToken: token, signature, url, params: form(params) }),
    false,
  );
});

Deno.test("signature: either token of a rotation is accepted, no other", async () => {
  const current = "0123456789abcdef0123456789abcdef";
  const previous = "fedcba9876543210fedcba9876543210";
  const url = "https://hotline.example/functions/v1/voice-frontdoor";
  const params = { CallSid: "CA" + "1".repeat(32) };
  for (const [token, expected] of [[current, true], [previous, true], ["0".repeat(32), false]]) {
    const signature = twilio.getExpectedTwilioSignature(token as string, url, params);
    assert.equal(
      await validateTwilioSignature({
        authToken: [current, previous],
        signature,
        url,
        params: form(params),
      }),
      expected,
    );
  }
});
