/**
 * The menu's routing decision: a pure function of where the caller is in the
 * menu (carried in the action URL) and what they pressed.
 *
 * 1 sales · 2 support · 9 voicemail · * repeat · 0 continue without recording.
 * Invalid input or silence gets exactly one retry, then voicemail; repeats are
 * capped too, so no caller can loop forever.
 *
 * Consent follows the key (PIPEDA): once the caller pressed 0, nothing of this
 * call is recorded, wherever the menu takes them next. A voicemail is a
 * recording, so where the menu would offer one, a caller who pressed 0 hears
 * why no message can be taken and is said goodbye (`unrecorded-goodbye`).
 */

export type Department = "sales" | "support";

/** Where the caller is in the menu. */
export interface MenuState {
  /** 1 on the first hearing; 2 after one invalid or silent answer. */
  attempt: number;
  /** Times the caller asked to hear the menu again (* or 0). */
  repeats: number;
  /** The caller pressed 0: this call is never recorded, voicemail included. */
  optedOut: boolean;
}

/** Why the menu ends where a voicemail would be taken. */
export type MenuEndReason = "chosen" | "no-valid-input" | "too-many-repeats";

export type MenuDecision =
  | { kind: "dial"; department: Department }
  | { kind: "voicemail"; reason: MenuEndReason }
  | { kind: "unrecorded-goodbye"; reason: MenuEndReason }
  | { kind: "menu"; reason: "repeat" | "opt-out"; next: MenuState }
  | { kind: "menu"; reason: "retry"; heard: "invalid" | "silence"; next: MenuState };

export const MAX_ATTEMPTS = 2;
export const MAX_REPEATS = 3;
export const FIRST_HEARING: MenuState = { attempt: 1, repeats: 0, optedOut: false };

/** Reads the state from our own query string; anything odd means a fresh menu. */
export function parseMenuState(query: URLSearchParams): MenuState {
  const int = (name: string, min: number, max: number, fallback: number) => {
    const raw = query.get(name);
    if (raw === null || !/^\d{1,2}$/.test(raw)) return fallback;
    return Math.min(max, Math.max(min, Number(raw)));
  };
  return {
    attempt: int("attempt", 1, MAX_ATTEMPTS, 1),
    repeats: int("repeats", 0, MAX_REPEATS, 0),
    optedOut: query.get("optout") === "1",
  };
}

/** The opt-out mark alone, for URLs that carry no menu state (voice-action, voice-fallback). */
export function optOutQuery(state: Pick<MenuState, "optedOut">): Record<string, string> {
  return state.optedOut ? { optout: "1" } : {};
}

/** The state as our action URL's query carries it (`optout` only once the caller pressed 0). */
export function menuStateQuery(state: MenuState): Record<string, string | number> {
  return { attempt: state.attempt, repeats: state.repeats, ...optOutQuery(state) };
}

/** What happens next, given the state and the digits pressed (undefined: silence). */
export function decideMenu(state: MenuState, digits: string | undefined): MenuDecision {
  const key = digits?.trim() ?? "";
  const optedOut = state.optedOut || key === "0";
  const end = (reason: MenuEndReason): MenuDecision =>
    optedOut ? { kind: "unrecorded-goodbye", reason } : { kind: "voicemail", reason };
  if (key === "1") return { kind: "dial", department: "sales" };
  if (key === "2") return { kind: "dial", department: "support" };
  if (key === "9") return end("chosen");
  if (key === "*" || key === "0") {
    if (state.repeats >= MAX_REPEATS) return end("too-many-repeats");
    return {
      kind: "menu",
      reason: key === "*" ? "repeat" : "opt-out",
      next: { attempt: state.attempt, repeats: state.repeats + 1, optedOut },
    };
  }
  if (state.attempt >= MAX_ATTEMPTS) return end("no-valid-input");
  return {
    kind: "menu",
    reason: "retry",
    heard: key === "" ? "silence" : "invalid",
    next: { attempt: state.attempt + 1, repeats: state.repeats, optedOut },
  };
}

/**
 * The word the database records for a decision (voice_menu_choice's p_choice).
 * `opt-out` and `unrecorded-goodbye` both decline recording there.
 */
export function menuChoiceName(decision: MenuDecision): string {
  switch (decision.kind) {
    case "dial":
      return decision.department;
    case "voicemail":
    case "unrecorded-goodbye":
      return decision.kind;
    case "menu":
      return decision.reason;
  }
}
