/**
 * Pre-signed Twilio webhooks for the load generator: each with a fresh
 * CallSid and a fresh caller, signed over the public URL as Twilio signs it,
 * written one per line for bench/lib/replay.lua.
 */
import { createHmac } from "node:crypto";
import { signedPayload } from "../../supabase/functions/_shared/twilio/signature.ts";

/** A hot-path step under load: where Twilio posts it and what it adds to the call's fields. */
export interface HotPathStep {
  /** The function's slug. */
  slug: string;
  /** The label in tables and the chart. */
  label: string;
  /** Our query string on the URL, as the TwiML that leads there sets it. */
  query: string;
  /** Step-specific form fields, given the request's index. */
  fields(i: number): Record<string, string>;
}

const hex32 = (prefix: string, n: number, salt: string) =>
  prefix + (salt + n.toString(16)).padStart(32, "0").slice(-32);

/** The recording, as Record's action and both voicemail callbacks name it. */
const recordingFields = (i: number) => ({
  RecordingSid: hex32("RE", i, "b0"),
  RecordingUrl: `https://api.twilio.com/2010-04-01/Accounts/AC/Recordings/${hex32("RE", i, "b0")}`,
});

/**
 * The hot-path webhooks the suite drives: the call's steps, its status
 * callbacks, and the voicemail's three webhooks, each with the fields Twilio
 * sends it. Every one also names the call's parties (writeSignedWebhooks),
 * as a call's first webhook does: each is a call new to the database.
 */
export const HOT_PATH: HotPathStep[] = [
  {
    slug: "voice-frontdoor",
    label: "voice-frontdoor",
    query: "",
    fields: () => ({ CallStatus: "ringing" }),
  },
  {
    slug: "voice-menu-handler",
    label: "voice-menu-handler",
    query: "attempt=1&repeats=0",
    fields: () => ({ CallStatus: "in-progress", Digits: "1" }),
  },
  {
    slug: "voice-status",
    label: "voice-status",
    query: "",
    fields: () => ({
      CallStatus: "completed",
      CallDuration: "42",
      StatusCallbackEvent: "completed",
      SequenceNumber: "3",
      Timestamp: new Date().toUTCString().replace("GMT", "+0000"),
    }),
  },
  {
    slug: "voice-voicemail",
    label: "voice-voicemail (recorded)",
    // Record's action: the caller is still on the line and hears the goodbye.
    query: "event=recorded",
    fields: (i) => ({ CallStatus: "in-progress", ...recordingFields(i), RecordingDuration: "12" }),
  },
  {
    slug: "voice-voicemail",
    label: "voice-voicemail (recording)",
    query: "event=recording",
    fields: (i) => ({
      CallStatus: "completed",
      ...recordingFields(i),
      RecordingDuration: "12",
      RecordingStatus: "completed",
    }),
  },
  {
    slug: "voice-voicemail",
    label: "voice-voicemail (transcription)",
    query: "event=transcription",
    fields: (i) => ({
      CallStatus: "completed",
      ...recordingFields(i),
      TranscriptionSid: hex32("TR", i, "c0"),
      TranscriptionStatus: "completed",
      TranscriptionText: "Hi, this is about my order, please call me back this afternoon.",
    }),
  },
];

/**
 * Writes `count` signed webhooks for `step` to `file`; `run` makes every
 * CallSid and caller new to the database (a run never repeats an earlier one).
 */
export async function writeSignedWebhooks(opts: {
  file: string;
  step: HotPathStep;
  count: number;
  run: number;
  publicBaseUrl: string;
  authToken: string;
  accountSid: string;
  hotline: string;
}): Promise<void> {
  const { step, run } = opts;
  const path = `/${step.slug}${step.query ? `?${step.query}` : ""}`;
  const url = `${opts.publicBaseUrl}${path}`;
  const lines: string[] = [];
  for (let i = 0; i < opts.count; i++) {
    const serial = run * 10_000_000 + i;
    // Callers +1 2xx xxx xxxx: distinct per request, so no per-caller limit applies.
    const from = `+1${200 + (serial % 800)}${
      String(Math.floor(serial / 800) % 10_000_000).padStart(7, "0")
    }`;
    const params = new URLSearchParams({
      AccountSid: opts.accountSid,
      ApiVersion: "2010-04-01",
      CallSid: hex32("CA", serial, `be${run.toString(16)}`),
      Direction: "inbound",
      From: from,
      Caller: from,
      To: opts.hotline,
      Called: opts.hotline,
      ...step.fields(serial),
    });
    const signature = createHmac("sha1", opts.authToken).update(signedPayload(url, params))
      .digest("base64");
    lines.push(`${path}\t${signature}\t${params}`);
  }
  await Deno.writeTextFile(opts.file, lines.join("\n") + "\n");
}
