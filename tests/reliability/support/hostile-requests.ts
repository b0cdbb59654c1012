/**
 * Hostile requests, from a seed: random and truncated bodies, wrong and
 * missing content types, chunked and oversized bodies, invalid UTF-8 and
 * percent-encoding, missing and repeated fields, XML and SQL metacharacters,
 * control characters and long Unicode in any field, wrong methods. Most are
 * correctly signed, so they get past the signature check to the logic.
 */
import { computeTwilioSignature } from "../../../supabase/functions/_shared/twilio/signature.ts";
import { Dice } from "./seeded.ts";
import type { WebhookTarget } from "./targets.ts";

/** Marks a hostile value: it must never appear raw (unescaped) in an answer. */
export const MARKER = "<x-fuzz";

export const HOSTILE_VALUES = [
  `${MARKER} a="1">&amp;</x-fuzz>]]><![CDATA[`,
  `'); drop table public.call_logs; --`,
  `\\' or 1=1 -- $$ $1 %s %n`,
  `"quoted" & 'single' <b>`,
  "☎️𝄞é中文".repeat(400),
  "\u0000nul\u0001\u001b[31m",
  "\ud800lone surrogate",
  "line\r\nX-Injected: 1",
  "",
  "   ",
  "  +15875550123  ",
  "anonymous",
  "+15875550123".repeat(20),
  "x".repeat(9000),
  "%zz%E9%",
  "🙂".repeat(1000) + MARKER,
];

export interface HostileRequest {
  /** What was done to the request, for the failure report. */
  kind: string;
  method: string;
  query: string;
  headers: Record<string, string>;
  body?: BodyInit;
  /** The parameters the function will see (undefined when the body is not a form). */
  params?: URLSearchParams;
}

const encoder = new TextEncoder();

function chunked(bytes: Uint8Array, pieces: number): ReadableStream<Uint8Array> {
  const size = Math.max(1, Math.ceil(bytes.length / pieces));
  let at = 0;
  return new ReadableStream({
    pull(c) {
      if (at >= bytes.length) return c.close();
      c.enqueue(bytes.slice(at, at += size));
    },
  });
}

/** Random fields of the well-formed request replaced, dropped, repeated or added. */
function mutateFields(dice: Dice, base: Record<string, string>): URLSearchParams {
  const params = new URLSearchParams(base);
  const names = Object.keys(base);
  const edits = dice.int(1, 4);
  for (let i = 0; i < edits; i++) {
    const name = names.length ? dice.pick(names) : "Extra";
    const value = dice.pick(HOSTILE_VALUES);
    switch (dice.int(0, 4)) {
      case 0:
      case 1:
        params.set(name, value);
        break;
      case 2:
        params.delete(name);
        break;
      case 3:
        params.append(name, value);
        break;
      default:
        params.append(dice.pick(HOSTILE_VALUES).slice(0, 40) || "Empty", value);
    }
  }
  return params;
}

/** One hostile request for `target`, signed with `authToken` for `publicBase`. */
export async function hostileRequest(
  dice: Dice,
  target: WebhookTarget,
  opts: { authToken: string; accountSid: string; publicBase: string },
): Promise<HostileRequest> {
  const base = target.params(dice, opts.accountSid);
  const ours = target.queries(dice, String(base.CallSid ?? dice.sid("CA")));
  let query = dice.pick(ours);
  if (dice.chance(0.15)) {
    const q = new URLSearchParams(query);
    q.set(
      dice.pick(["event", "step", "dept", "attempt", "call", "optout"]),
      dice.pick(HOSTILE_VALUES),
    );
    query = q.toString();
  }
  const url = `${opts.publicBase}/${target.slug}${query ? `?${query}` : ""}`;
  const sign = async (params: URLSearchParams) =>
    await computeTwilioSignature(opts.authToken, url, params);
  const form = "application/x-www-form-urlencoded";
  const roll = dice.next();

  if (target.kind === "get-json" || roll < 0.05) {
    const method = target.kind === "get-json" && dice.chance(0.5)
      ? dice.pick(["GET", "HEAD"])
      : dice.pick(["GET", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD", "POST"]);
    const hasBody = !["GET", "HEAD"].includes(method);
    return {
      kind: `method:${method}`,
      method,
      query,
      headers: { "content-type": form },
      body: hasBody ? new URLSearchParams(base).toString() : undefined,
    };
  }
  if (roll < 0.62) {
    const params = mutateFields(dice, base);
    const body = params.toString();
    const headers = { "content-type": form, "x-twilio-signature": await sign(params) };
    if (dice.chance(0.1)) {
      return {
        kind: "signed-fields:chunked",
        method: "POST",
        query,
        headers,
        body: chunked(encoder.encode(body), dice.int(2, 9)),
        params,
      };
    }
    return { kind: "signed-fields", method: "POST", query, headers, body, params };
  }
  if (roll < 0.7) {
    // Invalid percent-encoding and invalid UTF-8: signed over what a form parser reads.
    const raw = dice.chance(0.5)
      ? `${new URLSearchParams(base)}&From=%zz%E9%&Body=%C3%28%FF&Digits=%`
      : `${new URLSearchParams(base)}&`;
    const bytes = new Uint8Array([...encoder.encode(raw), 0xc3, 0x28, 0xff, 0xfe, 0x80]);
    const params = new URLSearchParams(new TextDecoder().decode(bytes));
    return {
      kind: "invalid-encoding",
      method: "POST",
      query,
      headers: { "content-type": form, "x-twilio-signature": await sign(params) },
      body: bytes,
      params,
    };
  }
  if (roll < 0.76) {
    // Truncated: the signature of the whole body, then cut.
    const params = new URLSearchParams(base);
    const body = params.toString();
    return {
      kind: "truncated",
      method: "POST",
      query,
      headers: { "content-type": form, "x-twilio-signature": await sign(params) },
      body: body.slice(0, dice.int(0, body.length - 1)),
    };
  }
  if (roll < 0.83) {
    const params = new URLSearchParams(base);
    const type = dice.pick([
      "",
      "text/plain",
      "application/json",
      "multipart/form-data; boundary=x",
      "application/xml",
      "application/x-www-form-urlencoded; charset=latin1",
    ]);
    const headers: Record<string, string> = { "x-twilio-signature": await sign(params) };
    if (type) headers["content-type"] = type;
    const body = type === "application/json" ? JSON.stringify(base) : params.toString();
    return { kind: `content-type:${type || "none"}`, method: "POST", query, headers, body };
  }
  if (roll < 0.88) {
    const size = dice.int(65 * 1024, 300 * 1024);
    const bytes = encoder.encode("Body=" + "y".repeat(size));
    return {
      kind: "oversized",
      method: "POST",
      query,
      headers: { "content-type": form, "x-twilio-signature": "x" },
      body: dice.chance(0.5) ? bytes : chunked(bytes, 16),
    };
  }
  if (roll < 0.94) {
    const bytes = new Uint8Array(dice.int(0, 4096)).map(() => dice.int(0, 255));
    return {
      kind: "random-bytes",
      method: "POST",
      query,
      headers: { "content-type": form, "x-twilio-signature": dice.hex(27) + "=" },
      body: bytes,
    };
  }
  // The well-formed request itself: it must still work among the others.
  const params = new URLSearchParams(base);
  return {
    kind: "well-formed",
    method: "POST",
    query,
    headers: { "content-type": form, "x-twilio-signature": await sign(params) },
    body: params.toString(),
    params,
  };
}
