/**
 * Is this webhook Twilio's, for one of our accounts? Checked before any other
 * work, in this order: a signature is present (else 400, no lookup); the
 * `AccountSid` is ours or an active subaccount's (else 403; a subaccount
 * costs at most one bounded, cached lookup); the signature matches under that
 * account's token(s) (else 403).
 */
import type { Config } from "../platform/config.ts";
import { signingTokens, type SubaccountTokenLookup } from "./account.ts";
import { publicWebhookUrl, validateTwilioSignature } from "./signature.ts";

export type Verdict =
  | { ok: true; account: "main" | "subaccount" }
  | { ok: false; status: 400 | 403; reason: "unsigned" | "foreign-account" | "bad-signature" }
  /** A subaccount's token could not be read: the request is neither verified nor refused. */
  | { ok: false; status: 503; reason: "account-lookup-failed"; error: unknown };

/** The verdict on one webhook, from its signature header, URL and form. */
export async function verifyTwilioWebhook(opts: {
  config: Config;
  slug: string;
  requestUrl: string;
  signature: string | null;
  params: URLSearchParams;
  rawBody: string;
  lookup: SubaccountTokenLookup;
}): Promise<Verdict> {
  if (!opts.signature) return { ok: false, status: 400, reason: "unsigned" };
  const account = await signingTokens(opts.params.get("AccountSid"), opts.config, opts.lookup);
  if (account.kind === "foreign") return { ok: false, status: 403, reason: "foreign-account" };
  if (account.kind === "unavailable") {
    return { ok: false, status: 503, reason: "account-lookup-failed", error: account.error };
  }
  const valid = await validateTwilioSignature({
    authToken: account.tokens,
    signature: opts.signature,
    url: publicWebhookUrl(opts.config.PUBLIC_BASE_URL, opts.slug, opts.requestUrl),
    params: opts.params,
    rawBody: opts.rawBody,
  });
  return valid
    ? { ok: true, account: account.account }
    : { ok: false, status: 403, reason: "bad-signature" };
}
