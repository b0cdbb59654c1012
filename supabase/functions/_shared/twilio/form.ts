/** Reading Twilio's webhook bodies: form-encoded POSTs (or JSON, for the bodySHA256 variant). */

/** A body we will not read; `status` is the HTTP answer for it. */
export class TwilioFormError extends Error {
  constructor(message: string, readonly status: number) {
    super(message);
    this.name = "TwilioFormError";
  }
}

/** Twilio's largest webhooks (a long transcription) are a few KiB. */
export const MAX_FORM_BYTES = 64 * 1024;

/**
 * Reads the body once, as text (the JSON variant's signature needs the raw
 * bytes), and parses the form. Repeated keys and empty values are kept: both
 * count in the signature.
 */
export async function readTwilioForm(
  req: Request,
  opts: { maxBytes?: number } = {},
): Promise<{ rawBody: string; params: URLSearchParams }> {
  const maxBytes = opts.maxBytes ?? MAX_FORM_BYTES;
  const type = (req.headers.get("content-type") ?? "").split(";")[0].trim().toLowerCase();
  const isForm = type === "application/x-www-form-urlencoded";
  if (!isForm && type !== "application/json") {
    throw new TwilioFormError(`unsupported content type: ${type || "(none)"}`, 415);
  }
  const declared = Number(req.headers.get("content-length") ?? 0);
  if (declared > maxBytes) throw new TwilioFormError(`body over ${maxBytes} bytes`, 413);
  const bytes = new Uint8Array(await req.arrayBuffer());
  if (bytes.length > maxBytes) throw new TwilioFormError(`body over ${maxBytes} bytes`, 413);
  const rawBody = new TextDecoder().decode(bytes);
  return { rawBody, params: isForm ? new URLSearchParams(rawBody) : new URLSearchParams() };
}

/** The trimmed value of a parameter, or undefined when absent or empty. */
export function param(params: URLSearchParams, name: string): string | undefined {
  const value = params.get(name)?.trim();
  return value ? value : undefined;
}
