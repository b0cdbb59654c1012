/**
 * One structured JSON log line per request. Phone numbers are masked (they
 * are personal information under PIPEDA) and nothing secret is ever passed in.
 */

/** `+15877428885` → `+1587***8885`: enough to tell calls apart, not to dial. */
export function maskPhone(value: string | undefined | null): string | undefined {
  if (!value) return undefined;
  if (!/^\+?\d{5,}$/.test(value)) return value.startsWith("client:") ? "client:***" : "***";
  return `${value.slice(0, Math.min(5, value.length - 4))}***${value.slice(-4)}`;
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

/** Writes the request's log line; `from`/`to` are masked here, whatever the caller passed. */
export function logRequest(entry: RequestLog): void {
  const line = {
    level: entry.error ? "error" : "info",
    at: new Date().toISOString(),
    ...entry,
    from: maskPhone(entry.from),
    to: maskPhone(entry.to),
  };
  console.log(JSON.stringify(line));
}
