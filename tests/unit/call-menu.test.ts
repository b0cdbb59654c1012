import assert from "node:assert/strict";
import {
  decideMenu,
  FIRST_HEARING,
  MAX_REPEATS,
  menuChoiceName,
  parseMenuState,
} from "../../supabase/functions/_shared/call/menu.ts";

const retryState = { attempt: 2, repeats: 0, optedOut: false };

Deno.test("menu: 1 dials sales, 2 dials support, 9 is voicemail — on either attempt", () => {
  for (const state of [FIRST_HEARING, retryState]) {
    assert.deepEqual(decideMenu(state, "1"), { kind: "dial", department: "sales" });
    assert.deepEqual(decideMenu(state, "2"), { kind: "dial", department: "support" });
    assert.deepEqual(decideMenu(state, "9"), { kind: "voicemail", reason: "chosen" });
  }
});

Deno.test("menu: * repeats the menu without using up the retry", () => {
  assert.deepEqual(decideMenu(FIRST_HEARING, "*"), {
    kind: "menu",
    reason: "repeat",
    next: { attempt: 1, repeats: 1, optedOut: false },
  });
  assert.deepEqual(decideMenu(retryState, "*"), {
    kind: "menu",
    reason: "repeat",
    next: { attempt: 2, repeats: 1, optedOut: false },
  });
});

Deno.test("menu: 0 continues without recording, and hears the menu again", () => {
  assert.deepEqual(decideMenu(FIRST_HEARING, "0"), {
    kind: "menu",
    reason: "opt-out",
    next: { attempt: 1, repeats: 1, optedOut: true },
  });
});

Deno.test("menu: repeats are capped, then voicemail", () => {
  const state = { attempt: 1, repeats: MAX_REPEATS, optedOut: false };
  assert.deepEqual(decideMenu(state, "*"), { kind: "voicemail", reason: "too-many-repeats" });
});

Deno.test("menu: consent follows the key — after a 0, nothing ends in a voicemail", () => {
  // `* * * 0`: the 0 that hits the repeat cap used to end in voicemail.
  const capped = { attempt: 1, repeats: MAX_REPEATS, optedOut: false };
  assert.deepEqual(decideMenu(capped, "0"), {
    kind: "unrecorded-goodbye",
    reason: "too-many-repeats",
  });
  const optedOut = { attempt: 1, repeats: 1, optedOut: true };
  assert.deepEqual(decideMenu(optedOut, "9"), { kind: "unrecorded-goodbye", reason: "chosen" });
  assert.deepEqual(decideMenu({ ...optedOut, attempt: 2 }, undefined), {
    kind: "unrecorded-goodbye",
    reason: "no-valid-input",
  });
  assert.deepEqual(decideMenu({ ...optedOut, repeats: MAX_REPEATS }, "*"), {
    kind: "unrecorded-goodbye",
    reason: "too-many-repeats",
  });
  // A dial is still offered; the stored consent keeps it unrecorded.
  assert.deepEqual(decideMenu(optedOut, "1"), { kind: "dial", department: "sales" });
  // The opt-out survives retries and repeats.
  const retry = decideMenu(optedOut, "5");
  assert.ok(retry.kind === "menu" && retry.next.optedOut);
  const repeat = decideMenu(optedOut, "*");
  assert.ok(repeat.kind === "menu" && repeat.next.optedOut);
  assert.equal(
    menuChoiceName({ kind: "unrecorded-goodbye", reason: "chosen" }),
    "unrecorded-goodbye",
  );
});

Deno.test("menu: first invalid key → one retry that says it was invalid", () => {
  for (const key of ["3", "4", "5", "6", "7", "8", "#", "12"]) {
    assert.deepEqual(decideMenu(FIRST_HEARING, key), {
      kind: "menu",
      reason: "retry",
      heard: "invalid",
      next: { attempt: 2, repeats: 0, optedOut: false },
    });
  }
});

Deno.test("menu: first silence → one retry that says nothing was heard", () => {
  for (const digits of [undefined, "", "  "]) {
    assert.deepEqual(decideMenu(FIRST_HEARING, digits), {
      kind: "menu",
      reason: "retry",
      heard: "silence",
      next: { attempt: 2, repeats: 0, optedOut: false },
    });
  }
});

Deno.test("menu: second invalid or silent answer → voicemail", () => {
  assert.deepEqual(decideMenu(retryState, "5"), { kind: "voicemail", reason: "no-valid-input" });
  assert.deepEqual(decideMenu(retryState, undefined), {
    kind: "voicemail",
    reason: "no-valid-input",
  });
});

Deno.test("menu: state from the action URL, odd values give a fresh menu", () => {
  assert.deepEqual(parseMenuState(new URLSearchParams("attempt=2&repeats=1")), {
    attempt: 2,
    repeats: 1,
    optedOut: false,
  });
  assert.deepEqual(parseMenuState(new URLSearchParams("")), FIRST_HEARING);
  assert.deepEqual(parseMenuState(new URLSearchParams("attempt=x&repeats=-1")), FIRST_HEARING);
  assert.deepEqual(parseMenuState(new URLSearchParams("attempt=99&repeats=99")), {
    attempt: 2,
    repeats: MAX_REPEATS,
    optedOut: false,
  });
  assert.equal(parseMenuState(new URLSearchParams("attempt=1&repeats=1&optout=1")).optedOut, true);
  assert.equal(parseMenuState(new URLSearchParams("optout=yes")).optedOut, false);
});

Deno.test("menu: every path ends — no state leads back to itself forever", () => {
  // From any state, any key sequence reaches dial or voicemail within a bounded number of steps.
  const keys = ["1", "2", "9", "*", "0", "5", "#", undefined];
  let frontier = [FIRST_HEARING];
  for (let depth = 0; depth < 10 && frontier.length; depth++) {
    const next = [];
    for (const state of frontier) {
      for (const key of keys) {
        const d = decideMenu(state, key);
        if (d.kind === "menu") next.push(d.next);
      }
    }
    frontier = next;
  }
  assert.equal(frontier.length, 0, "some menu state survives 10 key presses");
});

Deno.test("menu: the names the database records", () => {
  assert.equal(menuChoiceName({ kind: "dial", department: "sales" }), "sales");
  assert.equal(menuChoiceName({ kind: "voicemail", reason: "chosen" }), "voicemail");
  assert.equal(menuChoiceName({ kind: "menu", reason: "opt-out", next: FIRST_HEARING }), "opt-out");
});
