/** Scenario helpers: a driver aimed at the test stack, and the rows one call left. */
import { exampleEnv } from "../support/function-process.ts";
import { functionsUrl, testSql } from "../support/stack.ts";
import { TwilioDriver } from "./twilio-driver.ts";

const env = exampleEnv();
export const SALES = env.SALES_TARGET_E164;
export const SUPPORT = env.SUPPORT_TARGET_E164;
export const HOTLINE = "+15877428885";

export function hotline(): TwilioDriver {
  return new TwilioDriver({
    baseUrl: functionsUrl(),
    authToken: env.TWILIO_AUTH_TOKEN,
    accountSid: env.TWILIO_ACCOUNT_SID,
  });
}

/** A caller number no other scenario uses, so rate limits never couple scenarios. */
export function newCaller(): string {
  return "+1780" + String(Math.floor(Math.random() * 1e7)).padStart(7, "0");
}

export const sql = testSql();

/** Everything the database holds about one call. */
export async function callRows(callSid: string) {
  const [call] = await sql`select * from call_logs where call_sid = ${callSid}`;
  const lifecycle =
    await sql`select status, event from call_lifecycle where call_sid = ${callSid} order by id`;
  const [consent] =
    await sql`select state, basis, disclosure_version from call_recording_consent where call_sid = ${callSid}`;
  const voicemails = await sql`select * from voicemails where call_sid = ${callSid}`;
  const events =
    await sql`select event_type from call_events where call_sid = ${callSid} order by id nulls first`;
  return {
    call,
    lifecycle: lifecycle.map((r) => `${r.status}`),
    consent: consent ? `${consent.state}/${consent.basis}` : undefined,
    voicemails: [...voicemails],
    events: events.map((r) => r.event_type as string),
  };
}
