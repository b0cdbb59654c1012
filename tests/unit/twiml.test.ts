import assert from "node:assert/strict";
import { XMLParser, XMLValidator } from "fast-xml-parser";
import {
  dial,
  gather,
  hangup,
  number,
  pause,
  record,
  redirect,
  reject,
  renderTwiml,
  say,
  twimlResponse,
} from "../../supabase/functions/_shared/twilio/twiml.ts";

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: "@",
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: false,
  processEntities: true,
  htmlEntities: false,
});

function parse(xml: string) {
  const valid = XMLValidator.validate(xml);
  assert.equal(valid, true, `not well-formed XML: ${JSON.stringify(valid)}\n${xml}`);
  return parser.parse(xml).Response;
}

const HOSTILE = `Tom & "Jerry" <b>'s</b> ]]> &amp; \u0001\u0008bell\u000b`;
const HOSTILE_CLEAN = `Tom & "Jerry" <b>'s</b> ]]> &amp; bell`;

Deno.test("twiml: a document parses, with the XML declaration and a Response root", () => {
  const xml = renderTwiml([say("Hello"), hangup()]);
  assert.ok(xml.startsWith(`<?xml version="1.0" encoding="UTF-8"?><Response>`));
  const doc = parse(xml);
  assert.equal(doc.Say, "Hello");
  assert.equal(doc.Hangup, "");
});

Deno.test("twiml: hostile text round-trips exactly, minus characters XML forbids", () => {
  const doc = parse(renderTwiml([say(HOSTILE)]));
  assert.equal(doc.Say, HOSTILE_CLEAN);
});

Deno.test("twiml: hostile attribute values round-trip in every verb", () => {
  const verbs = [
    say("x", { voice: HOSTILE }),
    gather({ action: HOSTILE, input: "dtmf" }, [say("y")]),
    dial({ callerId: HOSTILE }, [number("+15875550101", { url: HOSTILE })]),
    record({ action: HOSTILE, maxLength: 180 }),
    redirect("voice-menu-handler?a=1&b=2", { method: HOSTILE }),
    reject({ reason: HOSTILE }),
  ];
  const doc = parse(renderTwiml(verbs));
  assert.equal(doc.Say["@voice"], HOSTILE_CLEAN);
  assert.equal(doc.Gather["@action"], HOSTILE_CLEAN);
  assert.equal(doc.Dial["@callerId"], HOSTILE_CLEAN);
  assert.equal(doc.Dial.Number["@url"], HOSTILE_CLEAN);
  assert.equal(doc.Record["@action"], HOSTILE_CLEAN);
  assert.equal(doc.Redirect["@method"], HOSTILE_CLEAN);
  assert.equal(doc.Redirect["#text"], "voice-menu-handler?a=1&b=2");
  assert.equal(doc.Reject["@reason"], HOSTILE_CLEAN);
});

Deno.test("twiml: the escaped forms are the XML entities", () => {
  const xml = renderTwiml([say(`<&>`, { a: `"'<&>` })]);
  assert.ok(xml.includes(`a="&quot;&apos;&lt;&amp;&gt;"`), xml);
  assert.ok(xml.includes(`>&lt;&amp;&gt;</Say>`), xml);
});

Deno.test("twiml: nested Gather and Dial keep their structure; undefined attributes are omitted", () => {
  const xml = renderTwiml([
    gather({
      numDigits: 1,
      timeout: 5,
      actionOnEmptyResult: true,
      action: "voice-menu-handler",
      hints: undefined,
    }, [
      say("Press 1"),
      pause(1),
    ]),
    dial({ timeout: 20, action: "voice-action" }, [
      number("+15875550101", { url: "voice-action?step=screen" }),
    ]),
  ]);
  assert.ok(!xml.includes("hints"), xml);
  const doc = parse(xml);
  assert.equal(doc.Gather["@numDigits"], "1");
  assert.equal(doc.Gather["@actionOnEmptyResult"], "true");
  assert.equal(doc.Gather.Say, "Press 1");
  assert.equal(doc.Gather.Pause["@length"], "1");
  assert.equal(doc.Dial["@timeout"], "20");
  assert.equal(doc.Dial.Number["#text"], "+15875550101");
  assert.equal(doc.Dial.Number["@url"], "voice-action?step=screen");
});

Deno.test("twiml: an empty document is a valid empty Response", () => {
  const xml = renderTwiml([]);
  assert.equal(XMLValidator.validate(xml), true);
  assert.ok(xml.endsWith("<Response></Response>"));
});

Deno.test("twiml: twimlResponse is text/xml with status 200 by default", async () => {
  const res = twimlResponse([hangup()]);
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("content-type"), "text/xml; charset=utf-8");
  parse(await res.text());
});
