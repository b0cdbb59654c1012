/**
 * Twilio request validation (`X-Twilio-Signature`), with the runtime's own
 * crypto only: the `twilio` npm package costs ~160 ms of cold start and stays
 * in the tests, as the oracle this module is checked against.
 *
 * signature = base64(HMAC-SHA1(authToken, url + for each key in sorted order,
 * for each of its unique values in sorted order: key + value)).
 */

const encoder = new TextEncoder();

/** base64(HMAC-SHA1(key, data)), both UTF-8. */
type HmacSha1 = (key: string, data: string) => string;
let hmacSha1: Promise<HmacSha1> | undefined;

/**
 * node:crypto's HMAC, loaded on the first signature check (an unverified
 * request's cold start never pays for it). Not WebCrypto's: its `sign` is an
 * async op handed to a worker thread, ~58 µs of CPU per HMAC on this machine
 * against ~18 µs here, and a webhook computes one per URL variant tried: in
 * voice-status's profile that hand-off was the largest single cost.
 */
function loadHmacSha1(): Promise<HmacSha1> {
  return hmacSha1 ??= import("node:crypto").then(
    ({ createHmac }): HmacSha1 => (key, data) =>
      createHmac("sha1", key).update(data).digest("base64"),
    (error) => {
      hmacSha1 = undefined; // a failed load is tried again by the next check
      throw error;
    },
  );
}

/** The string Twilio signs: the URL, then each key with each unique value, sorted. */
export function signedPayload(url: string, params: URLSearchParams): string {
  return url + signedFields(params);
}

/** The form's part of the signed string (the same under every URL variant). */
function signedFields(params: URLSearchParams): string {
  const byKey = new Map<string, Set<string>>();
  for (const [key, value] of params) {
    let values = byKey.get(key);
    if (!values) byKey.set(key, values = new Set());
    values.add(value);
  }
  // Plain code-unit sort, as twilio-node's `Object.keys(params).sort()`:
  // upper case sorts before lower case.
  let fields = "";
  for (const key of [...byKey.keys()].sort()) {
    for (const value of [...byKey.get(key)!].sort()) fields += key + value;
  }
  return fields;
}

/** The signature Twilio would send for this URL and these form parameters. */
export async function computeTwilioSignature(
  authToken: string,
  url: string,
  params: URLSearchParams,
): Promise<string> {
  return (await loadHmacSha1())(authToken, signedPayload(url, params));
}

/** Compares without an early exit, so timing reveals nothing of the expected value. */
export function constantTimeEqual(a: string, b: string): boolean {
  const x = encoder.encode(a);
  const y = encoder.encode(b);
  let diff = x.length ^ y.length;
  for (let i = 0; i < x.length; i++) diff |= x[i] ^ (y[i % (y.length || 1)] ?? 0);
  return diff === 0;
}

/** A URL cut into its parts without normalising it (`new URL()` would re-encode `'`, say). */
function splitUrl(url: string) {
  const match = /^([a-z][a-z0-9+.-]*:\/\/)([^/?#]*)/i.exec(url);
  if (!match) return null;
  const [prefix, scheme, authority] = match;
  const userInfoEnd = authority.lastIndexOf("@");
  const hostAndPort = authority.slice(userInfoEnd + 1);
  // A colon starts the port only after the closing bracket of an IPv6 literal.
  const portStart = hostAndPort.indexOf(":", hostAndPort.lastIndexOf("]") + 1);
  return {
    scheme,
    userInfo: authority.slice(0, userInfoEnd + 1),
    host: portStart === -1 ? hostAndPort : hostAndPort.slice(0, portStart),
    port: portStart === -1 ? "" : hostAndPort.slice(portStart),
    rest: url.slice(prefix.length),
  };
}

/** The URL with the scheme's default port added, unless it already names a port. */
function withPort(url: string): string {
  const parts = splitUrl(url);
  if (!parts || parts.port) return url;
  const port = parts.scheme.toLowerCase() === "https://" ? ":443" : ":80";
  return parts.scheme + parts.userInfo + parts.host + port + parts.rest;
}

/** The URL without whatever port it names. */
function withoutPort(url: string): string {
  const parts = splitUrl(url);
  return parts ? parts.scheme + parts.userInfo + parts.host + parts.rest : url;
}

/**
 * The URLs tried first, the ones twilio-node's `validateRequest` tries: the
 * URL as received without its port and with the default port added (Twilio is
 * inconsistent about signing `:443`/`:80`). A port is never appended to a URL
 * that already has one. The URL exactly as received is one of the two and
 * goes first: it is the one Twilio was given and signs, so a genuine webhook
 * costs one HMAC even when the public URL names a port (twilio-node's order
 * would spend two there: the local stack's `:54321`, the benchmarks').
 */
export function urlVariants(url: string): string[] {
  return [...new Set([url, withoutPort(url), withPort(url)])];
}

/**
 * twilio-node's second chance, for back ends that signed an escaped form of
 * the URL: the WHATWG-normalised URL without and with the port, and each with
 * its query re-encoded by Node's legacy `querystring`. Empty when the URL
 * does not parse (twilio-node throws there; we refuse).
 */
export async function normalisedUrlVariants(url: string): Promise<string[]> {
  let normalised: string;
  try {
    normalised = new URL(url).toString();
  } catch {
    return [];
  }
  // Loaded only here: a request signed over the URL as received (every real
  // Twilio webhook) never pays for the Node compatibility module.
  const querystring = await import("node:querystring");
  const legacy = (u: string) => {
    const start = u.indexOf("?");
    if (start === -1 || start === u.length - 1) return u;
    return u.slice(0, start) + "?" + querystring.stringify(querystring.parse(u.slice(start + 1)));
  };
  const bare = withoutPort(normalised);
  const ported = withPort(normalised);
  return [...new Set([bare, ported, legacy(bare), legacy(ported)])];
}

async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", encoder.encode(text));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

async function anyMatches(
  tokens: readonly string[],
  urls: string[],
  params: URLSearchParams,
  signature: string,
): Promise<boolean> {
  const hmac = await loadHmacSha1();
  const fields = signedFields(params);
  for (const token of tokens) {
    for (const url of urls) {
      // Each comparison is constant-time: its timing tells nothing of the
      // expected signature. Stopping at the first match tells only which
      // candidate matched, which the answer (accepted) tells anyway; it saves
      // a genuine webhook the second HMAC.
      if (constantTimeEqual(hmac(token, url + fields), signature)) return true;
    }
  }
  return false;
}

/**
 * True when `signature` is Twilio's for this request under any of the auth
 * tokens (the current one and, during a rotation, the previous one). The URL
 * variants tried are twilio-node's (the URL as received first, see
 * urlVariants). For JSON-body webhooks the
 * URL carries `bodySHA256`: the URL alone is signed, and the body must hash
 * to that value.
 */
export async function validateTwilioSignature(opts: {
  authToken: string | readonly string[];
  signature: string | null;
  url: string;
  params: URLSearchParams;
  rawBody?: string;
}): Promise<boolean> {
  const { signature, url, params } = opts;
  const tokens = typeof opts.authToken === "string" ? [opts.authToken] : opts.authToken;
  if (!signature || tokens.length === 0) return false;
  let bodyHash: string | null = null;
  try {
    bodyHash = new URL(url).searchParams.get("bodySHA256");
  } catch {
    return false;
  }
  const signedParams = bodyHash === null ? params : new URLSearchParams();
  const valid = await anyMatches(tokens, urlVariants(url), signedParams, signature) ||
    await anyMatches(tokens, await normalisedUrlVariants(url), signedParams, signature);
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
