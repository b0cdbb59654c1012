/**
 * Every webhook field is checked and normalised here, after the signature and
 * before any SQL, so the database never sees a value its constraints refuse.
 * A signed request is not a well-formed one: a leaked token, a buggy client
 * or a hostile SIP header can still put a NUL byte (Postgres text and jsonb
 * refuse it), a malformed SID (the domains' checks refuse it) or 8 KB of
 * caller ID (too big for an index row) into a field. Failing there loses the
 * call row, and Postgres logs the whole failing row, caller number included.
 *
 * What happens to each field (docs/telephony.md, "Webhook fields at the edge"):
 * - every value: control characters other than tab, newline and carriage
 *   return are removed (NUL above all), and then the field's rule applies;
 * - SIDs (`CallSid`, `AccountSid`, `RecordingSid`, `MessageSid`, …): exactly
 *   Twilio's form (two letters and 32 lower-case hex digits), else dropped: a step without
 *   a usable CallSid is rescued, never stored under a made-up one;
 * - numbers (`From`, `To`, `Caller`, `Called`, `ForwardedFrom`): kept up to
 *   128 characters (E.164, hidden-caller words, `client:` and `sip:`
 *   addresses), else dropped, which the steps store as unknown;
 * - URLs: kept up to 2048 characters, else dropped (a cut URL is useless);
 * - `ErrorCode`: 1 to 6 digits, else dropped;
 * - `Body` (a text message): truncated to 1600 characters, Twilio's maximum;
 * - `Digits`: truncated to 32 characters;
 * - `TranscriptionText`: truncated to 8000 characters;
 * - anything else: truncated to 1024 characters.
 */

export type FieldRule =
  | { kind: "bounded"; maxChars: number; whenLonger: "drop" | "truncate" }
  | { kind: "pattern"; pattern: RegExp };

// Compiled once: every webhook checks several SIDs.
const sid = (prefix: string): FieldRule => ({
  kind: "pattern",
  pattern: new RegExp(`^${prefix}[0-9a-f]{32}$`),
});
const keepUpTo = (maxChars: number): FieldRule => ({
  kind: "bounded",
  maxChars,
  whenLonger: "drop",
});
const cutAt = (maxChars: number): FieldRule => ({
  kind: "bounded",
  maxChars,
  whenLonger: "truncate",
});

const MESSAGE_SID = /^(SM|MM)[0-9a-f]{32}$/;

/** A Twilio number field: E.164, `anonymous`, `client:alice`, `sip:…`. */
export const MAX_NUMBER_CHARS = 128;
/** Fields without a rule of their own. */
export const MAX_VALUE_CHARS = 1024;

/** The rule for each field Twilio sends to the voice webhooks. */
export const FIELD_RULES: Readonly<Record<string, FieldRule>> = {
  AccountSid: sid("AC"),
  CallSid: sid("CA"),
  ParentCallSid: sid("CA"),
  DialCallSid: sid("CA"),
  RecordingSid: sid("RE"),
  TranscriptionSid: sid("TR"),
  From: keepUpTo(MAX_NUMBER_CHARS),
  To: keepUpTo(MAX_NUMBER_CHARS),
  Caller: keepUpTo(MAX_NUMBER_CHARS),
  Called: keepUpTo(MAX_NUMBER_CHARS),
  ForwardedFrom: keepUpTo(MAX_NUMBER_CHARS),
  RecordingUrl: keepUpTo(2048),
  TranscriptionUrl: keepUpTo(2048),
  ErrorUrl: keepUpTo(2048),
  ErrorCode: { kind: "pattern", pattern: /^\d{1,6}$/ },
  // Text messages: the SID is SM… (MM… with media); a concatenated message
  // is at most 1600 characters.
  MessageSid: { kind: "pattern", pattern: MESSAGE_SID },
  SmsMessageSid: { kind: "pattern", pattern: MESSAGE_SID },
  SmsSid: { kind: "pattern", pattern: MESSAGE_SID },
  Body: cutAt(1600),
  Digits: cutAt(32),
  TranscriptionText: cutAt(8000),
};

const DEFAULT_RULE = cutAt(MAX_VALUE_CHARS);

// C0 controls and DEL, except tab, newline and carriage return.
// deno-lint-ignore no-control-regex -- removing control characters is the point
const CONTROL = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]/g;

/** The value under its rule: the value to keep, or undefined to drop the field. */
export function normaliseField(name: string, raw: string): string | undefined {
  const value = raw.replace(CONTROL, "");
  const rule = Object.hasOwn(FIELD_RULES, name) ? FIELD_RULES[name] : DEFAULT_RULE;
  switch (rule.kind) {
    case "pattern": {
      const trimmed = value.trim();
      return rule.pattern.test(trimmed) ? trimmed : undefined;
    }
    case "bounded":
      if (value.length <= rule.maxChars) return value;
      return rule.whenLonger === "drop" ? undefined : cut(value, rule.maxChars);
  }
}

/** At most `maxChars` UTF-16 units, never splitting a surrogate pair. */
function cut(value: string, maxChars: number): string {
  const end = /[\uD800-\uDBFF]/.test(value[maxChars - 1] ?? "") ? maxChars - 1 : maxChars;
  return value.slice(0, end);
}

/**
 * The webhook's parameters with every field under its rule. `changed` names
 * the known fields that were altered or dropped, and `other` for any other
 * (a field name is the sender's text too: the log line gets only ours).
 */
export function normaliseWebhookParams(
  params: URLSearchParams,
): { params: URLSearchParams; changed: string[] } {
  const normalised = new URLSearchParams();
  const changed = new Set<string>();
  for (const [name, raw] of params) {
    const value = normaliseField(name, raw);
    if (value !== raw) changed.add(Object.hasOwn(FIELD_RULES, name) ? name : "other");
    if (value !== undefined) normalised.append(name, value);
  }
  return { params: normalised, changed: [...changed] };
}
