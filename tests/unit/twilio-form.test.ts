import assert from "node:assert/strict";
import {
  param,
  readTwilioForm,
  TwilioFormError,
} from "../../supabase/functions/_shared/twilio/form.ts";

const post = (body: string, type = "application/x-www-form-urlencoded") =>
  new Request("http://h/voice-frontdoor", {
    method: "POST",
    body,
    headers: { "content-type": type },
  });

Deno.test("form: parses, keeping repeated keys and empty values", async () => {
  const { rawBody, params } = await readTwilioForm(
    post("Digits=1&FinishedOnKey=&A=x&A=y&From=%2B15875551234"),
  );
  assert.equal(rawBody, "Digits=1&FinishedOnKey=&A=x&A=y&From=%2B15875551234");
  assert.deepEqual(params.getAll("A"), ["x", "y"]);
  assert.equal(params.get("FinishedOnKey"), "");
  assert.equal(params.get("From"), "+15875551234");
});

Deno.test("form: a charset suffix is fine", async () => {
  const { params } = await readTwilioForm(
    post("Digits=2", "application/x-www-form-urlencoded; charset=UTF-8"),
  );
  assert.equal(params.get("Digits"), "2");
});

Deno.test("form: a JSON body is kept raw, with no form params", async () => {
  const { rawBody, params } = await readTwilioForm(post(`{"a":1}`, "application/json"));
  assert.equal(rawBody, `{"a":1}`);
  assert.equal([...params].length, 0);
});

Deno.test("form: other content types get 415", async () => {
  await assert.rejects(
    readTwilioForm(post("x", "text/plain")),
    (e) => e instanceof TwilioFormError && e.status === 415,
  );
  const none = new Request("http://h/x", { method: "POST", body: new Uint8Array([1]) });
  await assert.rejects(
    readTwilioForm(none),
    (e) => e instanceof TwilioFormError && e.status === 415,
  );
});

Deno.test("form: a body over the limit gets 413", async () => {
  await assert.rejects(
    readTwilioForm(post("a=" + "x".repeat(100)), { maxBytes: 50 }),
    (e) => e instanceof TwilioFormError && e.status === 413,
  );
});

Deno.test("form: param trims, and treats empty as absent", () => {
  const p = new URLSearchParams("Digits=%201%20&Empty=&Blank=%20");
  assert.equal(param(p, "Digits"), "1");
  assert.equal(param(p, "Empty"), undefined);
  assert.equal(param(p, "Blank"), undefined);
  assert.equal(param(p, "Missing"), undefined);
});

Deno.test("form: a chunked body is refused at the cap, without reading the rest", async () => {
  let pulled = 0;
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      pulled++;
      controller.enqueue(new TextEncoder().encode("a=" + "x".repeat(1022)));
    },
  });
  const req = new Request("http://h/voice-frontdoor", {
    method: "POST",
    body,
    headers: { "content-type": "application/x-www-form-urlencoded" },
  });
  await assert.rejects(
    readTwilioForm(req, { maxBytes: 4096 }),
    (e) => e instanceof TwilioFormError && e.status === 413,
  );
  assert.ok(pulled <= 6, `read ${pulled} chunks of an endless body`);
});

Deno.test("form: a body that declares its length is read whole, and still held to the cap", async () => {
  const declared = (body: string, length: number) =>
    new Request("http://h/voice-frontdoor", {
      method: "POST",
      body,
      headers: {
        "content-type": "application/x-www-form-urlencoded",
        "content-length": String(length),
      },
    });
  const { params } = await readTwilioForm(declared("Digits=1&From=%2B1", 18));
  assert.equal(params.get("From"), "+1");
  // A Request built in-process can declare less than it carries: refused all the same.
  await assert.rejects(
    readTwilioForm(declared("a=" + "x".repeat(100), 10), { maxBytes: 50 }),
    (e) => e instanceof TwilioFormError && e.status === 413,
  );
});
