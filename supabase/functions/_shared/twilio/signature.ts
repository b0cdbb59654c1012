/**
 * Twilio request validation (`X-Twilio-Signature`), with WebCrypto only: the
 * `twilio` npm package costs ~160 ms of cold start and stays in the tests, as
 * the oracle this module is checked against.
 *
 * signature = base64(HMAC-SHA1(authToken, url + for each key in sorted order,
 * for each of its unique values in sorted order: key + value)).
 */

const encoder = new TextEncoder();
const keys = new Map<string, Promise<CryptoKey>>();

function hmacKey(authToken: string): Promise<CryptoKey> {
  // Importing a key per request is waste: an isolate only ever sees one token.
  let key = keys.get(authToken);
  if (!key) {
    key = crypto.subtle.importKey(
      "raw",
      encoder.encode(authToken),
      { name: "HMAC", hash: "SHA-1" },
      false,
      ["sign"],
    );
    keys.set(authToken, key);
  }
  return key;
}

function base64(bytes: ArrayBuffer): string {
  let binary = "";
  for (const b of new Uint8Array(bytes)) binary += String.fromCharCode(b);
  return btoa(binary);
}

/** The string Twilio signs: the URL, then each key with each unique value, sorted. */
export function signedPayload(url: string, params: URLSearchParams): string {
  const byKey = new Map<string, Set<string>>();
  for (const [key, value] of params) {
    let values = byKey.get(key);
    if (!values) byKey.set(key, values = new Set());
    values.add(value);
  }
  // Plain code-unit sort, as twilio-node's `Object.keys(params).sort()`:
  // upper case sorts before lower case.
  let payload = url;
  for (const key of [...byKey.keys()].sort()) {
    for (const value of [...byKey.get(key)!].sort()) payload += key + value;
  }
  return payload;
}

/** The signature Twilio would send for this URL and these form parameters. */
export async function computeTwilioSignature(
  authToken: string,
  url: string,
  params: URLSearchParams,
): Promise<string> {
  const mac = await crypto.subtle.sign(
    "HMAC",
    await hmacKey(authToken),
    encoder.encode(signedPayload(url, params)),
  );
  return base64(mac);
}

/** Compares without an early exit, so timing reveals nothing of the expected value. */
export function constantTimeEqual(a: string, b: string): boolean {
  const x = encoder.encode(a);
  const y = encoder.encode(b);
  let diff = x.length ^ y.length;
  for (let i = 0; i < x.length; i++) diff |= x[i] ^ (y[i % (y.length || 1)] ?? 0);
  return diff === 0;
}

/**
 * The URL as given, with the scheme's default port added, and with it removed:
 * Twilio is inconsistent about signing with or without `:443`/`:80`, so
 * twilio-node accepts either, and so do we.
 */
export function urlVariants(url: string): string[] {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return [url];
  }
  const defaultPort = parsed.protocol === "https:"
    ? "443"
    : parsed.protocol === "http:"
    ? "80"
    : "";
  const authority = /^([a-z][a-z0-9+.-]*:\/\/)([^/?#]*)(.*)$/i.exec(url);
  if (!authority || !defaultPort) return [url];
  const [, scheme, host, rest] = authority;
  const bare = host.replace(new RegExp(`:${defaultPort}$`), "");
  return [...new Set([url, `${scheme}${bare}${rest}`, `${scheme}${bare}:${defaultPort}${rest}`])];
}

async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", encoder.encode(text));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * True when `signature` is Twilio's for this request. For JSON-body webhooks
 * the URL carries `bodySHA256`: the URL alone is signed, and the body must
 * hash to that value.
 */
export async function validateTwilioSignature(opts: {
  authToken: string;
  signature: string | null;
  url: string;
  params: URLSearchParams;
  rawBody?: string;
}): Promise<boolean> {
  const { authToken, signature, url, params } = opts;
  if (!signature) return false;
  let bodyHash: string | null = null;
  try {
    bodyHash = new URL(url).searchParams.get("bodySHA256");
  } catch {
    return false;
  }
  const signedParams = bodyHash === null ? params : new URLSearchParams();
  let valid = false;
  for (const variant of urlVariants(url)) {
    // Every variant is computed: no early exit on a match.
    const expected = await computeTwilioSignature(authToken, variant, signedParams);
    valid = constantTimeEqual(expected, signature) || valid;
  }
  if (!valid || bodyHash === null) return valid;
  return constantTimeEqual(await sha256Hex(opts.rawBody ?? ""), bodyHash.toLowerCase());
}

/**
 * The URL Twilio signed. Behind the Supabase gateway a function sees an
 * internal URL (`http://localhost:…/<slug>?…`), so it is rebuilt from the
 * configured public base, the slug and the raw query string, byte for byte.
 */
export function publicWebhookUrl(publicBaseUrl: string, slug: string, requestUrl: string): string {
  const q = requestUrl.indexOf("?");
  const hash = requestUrl.indexOf("#");
  const query = q < 0 ? "" : requestUrl.slice(q, hash > q ? hash : undefined);
  return `${publicBaseUrl.replace(/\/+$/, "")}/${slug}${query === "?" ? "" : query}`;
}
