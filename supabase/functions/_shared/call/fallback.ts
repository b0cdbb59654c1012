/**
 * What voice-fallback does with a call, decided from where the call was: our
 * own `step` (a step that could not serve the call sent it here) or, when
 * Twilio calls the Fallback URL because a primary URL failed, the `ErrorUrl`
 * it names. Pure: no database, no configuration, so it decides the same with
 * or without either.
 *
 * The rules keep what the caller already chose and never go backwards: a
 * menu choice is honoured, a recorded voicemail ends the call (never a second
 * one), an agent's screening leg stays the agent's, and a caller who pressed 0
 * (`optout=1` on the URL) is never recorded: no voicemail for them here either.
 */
import { decideAfterDial, parseDialCallStatus } from "./dial-outcome.ts";
import { decideMenu, type Department, parseMenuState } from "./menu.ts";

export type FallbackAction =
  /** Ring an agent (screened); voicemail if nobody takes the call. */
  | { kind: "dial"; department: Department }
  /** Take a voicemail, after a few words saying why. */
  | { kind: "voicemail"; lead: "trouble" | "nobody-available" | "unconfirmed" }
  /** End the call; `saved` when a voicemail was just recorded. */
  | { kind: "goodbye"; saved: boolean }
  /** Where a voicemail would be, for a caller who pressed 0: why there is none, goodbye. */
  | { kind: "unrecorded-goodbye" }
  /** An agent's screening leg whose prompt failed: drop it (the caller gets voicemail). */
  | { kind: "hang-up-agent" }
  /** An agent who accepted: an empty document connects the two legs. */
  | { kind: "connect-agent" };

export interface FallbackRequest {
  /** Our own query string on the fallback URL (`step`, `dept`). */
  query: URLSearchParams;
  /** Twilio's parameters: ErrorUrl, Digits, DialCallStatus, RecordingSid. */
  params: URLSearchParams;
}

const department = (value: string | null): Department => value === "sales" ? "sales" : "support";

/** After a Dial whose screening acceptance nobody could read (item: unconfirmed). */
function afterDial(params: URLSearchParams): FallbackAction {
  const status = parseDialCallStatus(params.get("DialCallStatus") ?? undefined);
  return decideAfterDial({ status, screeningAccepted: undefined }) === "unconfirmed"
    ? { kind: "voicemail", lead: "unconfirmed" }
    : { kind: "voicemail", lead: "nobody-available" };
}

/** Our own steps on voice-fallback (set by the other steps' rescues and by its own TwiML). */
function fromStep(step: string, query: URLSearchParams, params: URLSearchParams): FallbackAction {
  switch (step) {
    case "recorded":
      return { kind: "goodbye", saved: true };
    case "voicemail":
      return { kind: "voicemail", lead: "trouble" };
    case "unconfirmed":
      return { kind: "voicemail", lead: "unconfirmed" };
    case "after-dial":
      return afterDial(params);
    case "dial":
      return { kind: "dial", department: department(query.get("dept")) };
    default:
      return { kind: "dial", department: "support" };
  }
}

/** The step whose URL failed (Twilio's ErrorUrl), and what the caller did there. */
function fromFailedUrl(errorUrl: string, params: URLSearchParams): FallbackAction {
  let url: URL;
  try {
    url = new URL(errorUrl, "https://fallback.invalid/");
  } catch {
    return { kind: "dial", department: "support" };
  }
  const slug = url.pathname.split("/").pop();
  const query = url.searchParams;
  switch (slug) {
    case "voice-fallback":
      return fromStep(query.get("step") ?? "", query, params);
    case "voice-menu-handler": {
      const decision = decideMenu(parseMenuState(query), params.get("Digits") ?? undefined);
      if (decision.kind === "dial") return { kind: "dial", department: decision.department };
      if (decision.kind === "voicemail") return { kind: "voicemail", lead: "trouble" };
      if (decision.kind === "unrecorded-goodbye") return { kind: "unrecorded-goodbye" };
      return { kind: "dial", department: "support" };
    }
    case "voice-action": {
      const step = query.get("step");
      if (step === "screen") return { kind: "hang-up-agent" };
      if (step === "screened") return { kind: "connect-agent" };
      return afterDial(params);
    }
    case "voice-voicemail": {
      const event = query.get("event");
      // Record's action failed: Twilio has the recording (its callback stores
      // it); the caller is thanked, never asked for a second message.
      if (event === "recorded") return { kind: "goodbye", saved: !!params.get("RecordingSid") };
      if (event) return { kind: "goodbye", saved: false };
      return { kind: "voicemail", lead: "trouble" };
    }
    default:
      return { kind: "dial", department: "support" };
  }
}

/** The query of the URL the call was on: ours, else the failed one Twilio names. */
function callQuery(request: FallbackRequest): URLSearchParams {
  if (request.query.get("step")) return request.query;
  try {
    return new URL(request.params.get("ErrorUrl") ?? "", "https://fallback.invalid/").searchParams;
  } catch {
    return new URLSearchParams();
  }
}

function decideWhere(request: FallbackRequest): FallbackAction {
  const step = request.query.get("step");
  if (step) return fromStep(step, request.query, request.params);
  const errorUrl = request.params.get("ErrorUrl");
  if (errorUrl) return fromFailedUrl(errorUrl, request.params);
  return { kind: "dial", department: "support" };
}

/**
 * Whether the caller pressed 0: before reaching here (carried as `optout=1`),
 * or just now, on the menu step whose failure brought the call here.
 */
export function fallbackOptedOut(request: FallbackRequest): boolean {
  if (parseMenuState(callQuery(request)).optedOut) return true;
  const failedUrl = request.query.get("step") ? "" : request.params.get("ErrorUrl") ?? "";
  return failedUrl.includes("/voice-menu-handler") && request.params.get("Digits")?.trim() === "0";
}

/** Decides what voice-fallback answers (see the module comment). */
export function decideFallback(request: FallbackRequest): FallbackAction {
  const action = decideWhere(request);
  // Consent follows the key the caller pressed, never the place the call ends up.
  return action.kind === "voicemail" && fallbackOptedOut(request)
    ? { kind: "unrecorded-goodbye" }
    : action;
}
