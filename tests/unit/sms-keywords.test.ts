import assert from "node:assert/strict";
import {
  detectKeyword,
  keywordFromOptOutType,
} from "../../supabase/functions/_shared/sms/keywords.ts";

const cases: [string, string | null][] = [
  ["STOP", "opt-out"],
  ["STOPALL", "opt-out"],
  ["UNSUBSCRIBE", "opt-out"],
  ["CANCEL", "opt-out"],
  ["END", "opt-out"],
  ["QUIT", "opt-out"],
  // Twilio's default list has these two as well.
  ["REVOKE", "opt-out"],
  ["OPTOUT", "opt-out"],
  ["START", "opt-in"],
  ["YES", "opt-in"],
  ["UNSTOP", "opt-in"],
  ["HELP", "help"],
  ["INFO", "help"],
];

for (const [word, keyword] of cases) {
  Deno.test(`sms keyword: ${word} in any case, with surrounding spaces → ${keyword}`, () => {
    for (const body of [word, word.toLowerCase(), word[0] + word.slice(1).toLowerCase()]) {
      assert.equal(detectKeyword(body), keyword, body);
      assert.equal(detectKeyword(`  ${body} \n`), keyword, `padded ${body}`);
      assert.equal(detectKeyword(`\t${body}\r\n`), keyword, `tab/CRLF ${body}`);
    }
  });
}

Deno.test("sms keyword: only a message that is the keyword alone counts, as Twilio's filtering", () => {
  for (
    const body of [
      "please stop",
      "STOP please",
      "stop.",
      "stopp",
      "helpful",
      "yes please",
      "S T O P",
      "",
      "   ",
      "Can I speak to someone about my order?",
    ]
  ) {
    assert.equal(detectKeyword(body), null, JSON.stringify(body));
  }
});

Deno.test("sms keyword: Twilio's OptOutType STOP/START/HELP in any case; absent or unknown → null", () => {
  assert.equal(keywordFromOptOutType("STOP"), "opt-out");
  assert.equal(keywordFromOptOutType("START"), "opt-in");
  assert.equal(keywordFromOptOutType("HELP"), "help");
  assert.equal(keywordFromOptOutType("stop"), "opt-out");
  assert.equal(keywordFromOptOutType(undefined), null);
  assert.equal(keywordFromOptOutType(""), null);
  assert.equal(keywordFromOptOutType("SOMETHING"), null);
});
