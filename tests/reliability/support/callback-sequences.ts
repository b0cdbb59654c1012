/**
 * One call's webhooks as Twilio sends them, and the same webhooks delivered
 * the way Twilio may: repeated (also at the same moment), callbacks
 * reordered, arriving after the call completed, with the same or a fresh
 * I-Twilio-Idempotency-Token.
 *
 * A sequence is replayed in two ways:
 * - over HTTP, through the real functions (`TwilioDriver.post`);
 * - straight to the SQL step functions, with the arguments each function's
 *   index.ts passes (normalised at the edge by the same module; every step
 *   keyed by its call, the menu's also by its step).
 *   Every state change a webhook makes is that
 *   one SQL call (one round trip per webhook, docs/telephony.md): repeats,
 *   order and concurrency are decided in SQL, under its row locks and unique
 *   keys, so driving SQL covers the property at a hundred times the speed.
 *   The token is not part of the key (idempotency.ts), so a fresh token
 *   changes nothing there; the HTTP sample sends both kinds.
 */
import type { Sql } from "../../../supabase/functions/_shared/platform/db.ts";
import { normaliseWebhookParams } from "../../../supabase/functions/_shared/twilio/edge-validation.ts";
import { statusBatchStatement } from "../../../supabase/functions/_shared/call/status-writes.ts";
import { parseStatusCallback } from "../../../supabase/functions/_shared/call/lifecycle.ts";
import {
  decideMenu,
  menuChoiceName,
  parseMenuState,
} from "../../../supabase/functions/_shared/call/menu.ts";
import { parseDialCallStatus } from "../../../supabase/functions/_shared/call/dial-outcome.ts";
import { DISCLOSURE_VERSION } from "../../../supabase/functions/_shared/call/prompts.ts";
import { intParam } from "../../../supabase/functions/_shared/call/step.ts";
import { Dice } from "./seeded.ts";

export interface Webhook {
  /** A name for failure reports: `status:completed`, `menu`, `recording`… */
  name: string;
  slug: string;
  /** Our own query string (without `?`). */
  query: string;
  params: Record<string, string>;
  /** Caller-facing steps happen in call order; callbacks may come any time. */
  callback: boolean;
}

export interface Delivery {
  webhook: Webhook;
  /** Same token as an earlier delivery of this webhook, or a fresh one. */
  token: string;
  /** Delivered at the same moment as the previous delivery (a concurrent duplicate). */
  concurrentWithPrevious: boolean;
}

/** The identifiers of one call; the in-order and the shuffled run each get their own. */
export interface CallIds {
  callSid: string;
  from: string;
  recordingSid: string;
  transcriptionSid: string;
  agentLegSid: string;
}

/** What the caller and the agent do in this sequence (chosen once, from the seed). */
export interface CallShape {
  digits: "1" | "2" | "9" | "0";
  dialStatus: "completed" | "busy" | "no-answer" | "failed";
  agentAccepts: boolean;
  transcriptionStatus: "completed" | "failed";
  transcript: string;
  recordingSeconds: number;
  callSeconds: number;
}

export const HOTLINE = "+15877428885";

export function newIds(dice: Dice): CallIds {
  return {
    callSid: dice.sid("CA"),
    from: "+1587" + String(dice.int(2000000, 9999999)),
    recordingSid: dice.sid("RE"),
    transcriptionSid: dice.sid("TR"),
    agentLegSid: dice.sid("CA"),
  };
}

const TRANSCRIPTS = [
  "Please call me back about my order.",
  "It's about <invoice> #42 & the 'refund'; thanks.",
  "Bonjour, c'est à propos de la facture. Merci ☎️",
  "'; drop table voicemails; --",
];

export function newShape(dice: Dice): CallShape {
  const dialStatus = dice.pick(["completed", "completed", "busy", "no-answer", "failed"] as const);
  return {
    digits: dice.pick(["1", "2", "9", "0"] as const),
    dialStatus,
    agentAccepts: dialStatus === "completed" && dice.chance(0.7),
    transcriptionStatus: dice.chance(0.85) ? "completed" : "failed",
    transcript: dice.pick(TRANSCRIPTS),
    recordingSeconds: dice.int(1, 180),
    callSeconds: dice.int(5, 600),
  };
}

const STAMP = (minute: number) => `Wed, 25 Nov 2026 21:${String(minute).padStart(2, "0")}:00 +0000`;

/** The call's webhooks in the order Twilio sends them when nothing goes wrong. */
export function inOrder(ids: CallIds, shape: CallShape, accountSid: string): Webhook[] {
  const call = {
    AccountSid: accountSid,
    ApiVersion: "2010-04-01",
    CallSid: ids.callSid,
    From: ids.from,
    To: HOTLINE,
    Caller: ids.from,
    Called: HOTLINE,
    Direction: "inbound",
  };
  const status = (s: string, seq: number, extra: Record<string, string> = {}): Webhook => ({
    name: `status:${s}`,
    slug: "voice-status",
    query: "",
    callback: true,
    params: {
      ...call,
      CallStatus: s,
      StatusCallbackEvent: { ringing: "ringing", "in-progress": "answered" }[s] ?? "completed",
      SequenceNumber: String(seq),
      Timestamp: STAMP(seq),
      CallbackSource: "call-progress-events",
      ...extra,
    },
  });
  const hooks: Webhook[] = [
    status("ringing", 0),
    {
      name: "frontdoor",
      slug: "voice-frontdoor",
      query: "",
      callback: false,
      params: { ...call, CallStatus: "ringing" },
    },
    status("in-progress", 1),
    {
      name: "menu",
      slug: "voice-menu-handler",
      query: "attempt=1&repeats=0",
      callback: false,
      params: { ...call, CallStatus: "in-progress", Digits: shape.digits },
    },
  ];
  const dept = { "1": "sales", "2": "support" }[shape.digits as string];
  let voicemail = shape.digits === "9";
  if (dept) {
    if (shape.agentAccepts) {
      hooks.push({
        name: "screening",
        slug: "voice-action",
        query: `step=screened&dept=${dept}&call=${ids.callSid}`,
        callback: false,
        params: {
          AccountSid: accountSid,
          CallSid: ids.agentLegSid,
          ParentCallSid: ids.callSid,
          CallStatus: "in-progress",
          Direction: "outbound-dial",
          From: HOTLINE,
          To: "+15875550111",
          Digits: "1",
        },
      });
    }
    hooks.push({
      name: "dial",
      slug: "voice-action",
      query: `dept=${dept}`,
      callback: false,
      params: {
        ...call,
        CallStatus: "in-progress",
        DialCallStatus: shape.dialStatus,
        DialCallSid: ids.agentLegSid,
        DialCallDuration: shape.agentAccepts ? "42" : "0",
      },
    });
    voicemail = !shape.agentAccepts;
  }
  if (voicemail && shape.digits !== "0") {
    const recording = {
      RecordingSid: ids.recordingSid,
      RecordingUrl:
        `https://api.twilio.com/2010-04-01/Accounts/${accountSid}/Recordings/${ids.recordingSid}`,
    };
    hooks.push(
      {
        name: "recorded",
        slug: "voice-voicemail",
        query: "event=recorded",
        callback: false,
        params: {
          ...call,
          CallStatus: "in-progress",
          ...recording,
          RecordingDuration: String(shape.recordingSeconds),
          Digits: "#",
        },
      },
      {
        name: "recording",
        slug: "voice-voicemail",
        query: "event=recording",
        callback: true,
        params: {
          AccountSid: accountSid,
          CallSid: ids.callSid,
          ...recording,
          RecordingDuration: String(shape.recordingSeconds),
          RecordingStatus: "completed",
          RecordingChannels: "1",
          RecordingSource: "RecordVerb",
        },
      },
      {
        name: "transcription",
        slug: "voice-voicemail",
        query: "event=transcription",
        callback: true,
        params: {
          AccountSid: accountSid,
          CallSid: ids.callSid,
          ...recording,
          TranscriptionSid: ids.transcriptionSid,
          TranscriptionStatus: shape.transcriptionStatus,
          ...(shape.transcriptionStatus === "completed"
            ? { TranscriptionText: shape.transcript }
            : {}),
          TranscriptionType: "fast",
        },
      },
    );
  }
  hooks.push(status("completed", 2, { CallDuration: String(shape.callSeconds) }));
  return hooks;
}

const token = (dice: Dice) =>
  `${dice.hex(8)}-${dice.hex(4)}-4${dice.hex(3)}-a${dice.hex(3)}-${dice.hex(12)}`;

/**
 * The same webhooks as Twilio may deliver them: caller-facing steps keep
 * their order (a caller cannot press before the menu was played); each
 * callback goes anywhere, also after `completed`; any webhook may be
 * delivered again later, or twice at once, with its token or a fresh one.
 */
export function shuffledDelivery(hooks: Webhook[], dice: Dice): Delivery[] {
  const order: Webhook[] = hooks.filter((h) => !h.callback);
  for (const cb of hooks.filter((h) => h.callback)) {
    order.splice(dice.int(0, order.length), 0, cb);
  }
  const deliveries: Delivery[] = order.map((webhook) => ({
    webhook,
    token: token(dice),
    concurrentWithPrevious: false,
  }));
  for (const original of [...deliveries]) {
    const copies = dice.chance(0.4) ? dice.int(1, 2) : 0;
    for (let c = 0; c < copies; c++) {
      const copy: Delivery = {
        webhook: original.webhook,
        token: dice.chance(0.5) ? original.token : token(dice),
        concurrentWithPrevious: false,
      };
      const at = deliveries.indexOf(original);
      if (dice.chance(0.25)) {
        deliveries.splice(at + 1, 0, { ...copy, concurrentWithPrevious: true });
      } else {
        deliveries.splice(dice.int(at + 1, deliveries.length), 0, copy);
      }
    }
  }
  return deliveries;
}

/** Deliveries grouped into moments: a moment's deliveries are sent at once. */
export function moments(deliveries: Delivery[]): Delivery[][] {
  const out: Delivery[][] = [];
  for (const d of deliveries) {
    if (d.concurrentWithPrevious && out.length > 0) out[out.length - 1].push(d);
    else out.push([d]);
  }
  return out;
}

const matching = (value: string | undefined, format: RegExp) =>
  value && format.test(value) ? value : null;

/**
 * Applies one webhook with the SQL call its function makes (see the module
 * comment): the same normalisation and arguments as its index.ts.
 */
export async function applyOverSql(sql: Sql, webhook: Webhook): Promise<void> {
  const { params } = normaliseWebhookParams(new URLSearchParams(webhook.params));
  const query = new URLSearchParams(webhook.query);
  const p = (name: string) => params.get(name) ?? undefined;
  const callSid = p("CallSid")!;
  const from = p("From") ?? "";
  const to = p("To") ?? "";
  switch (webhook.slug) {
    case "voice-frontdoor": {
      await sql`select public.voice_frontdoor_answer(${callSid}, ${p("AccountSid") ?? ""},
                ${from}, ${to}, ${DISCLOSURE_VERSION})`;
      return;
    }
    case "voice-menu-handler": {
      const state = parseMenuState(query);
      const digits = p("Digits");
      const choice = menuChoiceName(decideMenu(state, digits));
      await sql`select public.voice_menu_choice(${callSid}, ${from}, ${to}, ${choice},
                ${digits ?? ""}, ${state.attempt}, ${`${state.attempt}:${state.repeats}`},
                '+15875550111', '+15875550122')`;
      return;
    }
    case "voice-action": {
      if (query.get("step") === "screened") {
        await sql`select public.voice_screening_accept(${query.get("call")})`;
        return;
      }
      await sql`select public.voice_dial_outcome(${callSid}, ${from}, ${to},
                ${parseDialCallStatus(p("DialCallStatus")) ?? null},
                ${intParam(params, "DialCallDuration")})`;
      return;
    }
    case "voice-voicemail": {
      const event = query.get("event")!;
      const transcription = event === "transcription";
      await sql`select public.voice_voicemail_save(${callSid}, ${from}, ${to},
                ${matching(p("RecordingSid"), /^RE[0-9a-f]{32}$/)},
                ${matching(p("RecordingUrl"), /^https:\/\//)},
                ${intParam(params, "RecordingDuration")},
                ${transcription ? matching(p("TranscriptionSid"), /^TR[0-9a-f]{32}$/) : null},
                ${
        transcription ? matching(p("TranscriptionStatus"), /^(completed|failed)$/) : null
      },
                ${transcription ? p("TranscriptionText") ?? null : null})`;
      return;
    }
    case "voice-status": {
      const parsed = parseStatusCallback(params);
      if (!parsed.ok) throw new Error(parsed.reason);
      const cb = parsed.value;
      // Keyed on its lifecycle row (CallSid + status), as voice-status is, and
      // written by the statement voice-status sends (a batch of one here).
      const statement = statusBatchStatement([
        { callback: cb, accountSid: p("AccountSid") ?? "", from, to },
      ]);
      await sql.unsafe(statement.text);
      return;
    }
    default:
      throw new Error(`no SQL step for ${webhook.slug}`);
  }
}

/**
 * Everything the database holds about one call, with its identifiers
 * replaced by names, so two calls' states compare as values. Timestamps the
 * database takes from its clock compare as "set or not"; those Twilio sent
 * compare exactly.
 */
export async function callState(sql: Sql, ids: CallIds): Promise<string> {
  const sid = ids.callSid;
  const [call] = await sql`
    select account_sid, number_id, from_number, to_number, direction, status, menu_choice,
           menu_attempts, dial_target, dial_call_status, dial_duration_seconds, duration_seconds,
           answered_at, ended_at is not null as ended, screening_accepted_at is not null as screened
      from public.call_logs where call_sid = ${sid}`;
  const lifecycle = await sql`
    select status, reported_status, event, sequence_number, occurred_at
      from public.call_lifecycle where call_sid = ${sid}
     order by status nulls last, reported_status`;
  const consent = await sql`
    select state, basis, disclosure_version from public.call_recording_consent
     where call_sid = ${sid}`;
  const voicemails = await sql`
    select recording_sid, recording_url, duration_seconds, transcription_sid,
           transcription_status, transcription_text, recorded_at is not null as recorded,
           transcribed_at is not null as transcribed
      from public.voicemails where call_sid = ${sid}`;
  const events = await sql`
    select event_type, properties from public.analytics_events where call_sid = ${sid}
     order by event_type, properties::text`;
  const text = JSON.stringify({ call, lifecycle, consent, voicemails, events }, null, 1);
  return text
    .replaceAll(ids.callSid, "<call>")
    .replaceAll(ids.agentLegSid, "<leg>")
    .replaceAll(ids.from, "<from>")
    .replaceAll(ids.recordingSid, "<recording>")
    .replaceAll(ids.transcriptionSid, "<transcription>");
}

/** Rows that must exist at most once per call (a duplicate is a bug whatever the order). */
export async function duplicateRows(sql: Sql, callSid: string): Promise<string[]> {
  const rows = await sql`
    select 'call_lifecycle:' || coalesce(status::text, reported_status) as what, count(*)::int as n
      from public.call_lifecycle where call_sid = ${callSid}
     group by 1 having count(*) > 1
    union all
    select 'analytics_events:' || event_type, count(*)::int
      from public.analytics_events where call_sid = ${callSid}
     group by 1 having count(*) > 1
    union all
    select 'voicemails', count(*)::int from public.voicemails where call_sid = ${callSid}
    having count(*) > 1`;
  return rows.map((r) => `${r.what} ×${r.n}`);
}
