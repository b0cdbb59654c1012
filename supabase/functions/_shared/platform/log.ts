/**
 * One structured JSON log line per request. Personal information stays out:
 * phone numbers are masked (they are personal information under PIPEDA),
 * a CallSid is printed only in Twilio's form, free text (an outcome, an error
 * message) has any long run of digits masked, and every value is bounded, so
 * a hostile request can neither put a caller's number in the log nor flood it.
 */

/**
 * `+15877428885` → `+1587***8885`: enough to tell calls apart, not to dial.
 * Shorter numbers show less (`+50012345` → `+50***45`), very short ones
 * nothing; at least three digits, and for short numbers half, stay hidden.
 */
export function maskPhone(value: string | undefined | null): string | undefined {
  if (!value) return undefined;
  const number = /^(\+?)(\d+)$/.exec(value.trim());
  if (!number) return value.startsWith("client:") ? "client:***" : "***";
  const [, plus, digits] = number;
  const shown = digits.length >= 11 ? 4 : digits.length >= 8 ? 2 : 0;
  if (shown === 0) return "***";
  return `${plus}${digits.slice(0, shown)}***${digits.slice(-shown)}`;
}

const CALL_SID = /^CA[0-9a-f]{32}$/;

/** A CallSid as Twilio forms it, else a placeholder: the field is the sender's text. */
export function safeCallSid(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  return CALL_SID.test(value) ? value : "(malformed)";
}

// deno-lint-ignore no-control-regex -- removing control characters is the point
const CONTROL = /[\u0000-\u001F\u007F]/g;
// Seven or more digits, optionally with a leading + and separators between.
const DIGIT_RUN = /\+?\d(?:[\s().\-/]{0,2}\d){6,}/g;

/** Free text for a log line: control characters removed, digit runs masked, at most `max` characters. */
export function scrubText(value: string, max = 200): string {
  const text = value.replace(CONTROL, " ").replace(DIGIT_RUN, "[digits]");
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

// Any Twilio SID (CA…, SM…, RE…): its hex digits are an identifier, not a number to mask.
const TWILIO_SID = /^[A-Z]{2}[0-9a-f]{32}$/;

function scrubValue(value: unknown): unknown {
  if (typeof value === "string") return TWILIO_SID.test(value) ? value : scrubText(value);
  if (typeof value === "number" || typeof value === "boolean" || value === null) return value;
  if (Array.isArray(value)) return value.slice(0, 20).map(scrubValue);
  return value === undefined ? undefined : "[object]";
}

export interface RequestLog {
  fn: string;
  callSid?: string;
  status: number;
  ms: number;
  outcome?: string;
  from?: string;
  to?: string;
  error?: string;
  [extra: string]: unknown;
}

/** Writes the request's log line; every field is masked and bounded here, whatever the caller passed. */
export function logRequest(entry: RequestLog): void {
  const { fn, callSid, status, ms, outcome, from, to, error, ...extra } = entry;
  const extras = Object.fromEntries(
    Object.entries(extra).map(([key, value]) => [key, scrubValue(value)]),
  );
  const line = {
    level: error ? "error" : "info",
    at: new Date().toISOString(),
    fn: scrubText(fn, 64),
    callSid: safeCallSid(callSid),
    status,
    ms,
    outcome: outcome === undefined ? undefined : scrubText(outcome, 120),
    from: maskPhone(from),
    to: maskPhone(to),
    error: error === undefined ? undefined : scrubText(error, 500),
    ...extras,
  };
  console.log(JSON.stringify(line));
}
