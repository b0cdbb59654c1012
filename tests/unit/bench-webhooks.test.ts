/**
 * The benchmark's pre-signed webhooks (bench/lib/webhooks.ts) are what the
 * suite's figures are of: each must carry the fields Twilio sends that
 * webhook (twilio-facts.md), or a step is measured doing other work than in
 * production, and must verify as a genuine one.
 */
import assert from "node:assert/strict";
import { HOT_PATH, writeSignedWebhooks } from "../../bench/lib/webhooks.ts";
import { validateTwilioSignature } from "../../supabase/functions/_shared/twilio/signature.ts";

const BASE = "http://127.0.0.1:54321/functions/v1";
const TOKEN = "0123456789abcdef0123456789abcdef";

async function firstWebhook(label: string) {
  const step = HOT_PATH.find((s) => s.label === label);
  assert.ok(step, `no step ${label}`);
  const file = await Deno.makeTempFile();
  try {
    await writeSignedWebhooks({
      file,
      step,
      count: 1,
      run: 7,
      publicBaseUrl: BASE,
      authToken: TOKEN,
      accountSid: "AC" + "0".repeat(31) + "1",
      hotline: "+15877428885",
    });
    const [path, signature, body] = (await Deno.readTextFile(file)).trim().split("\t");
    return { url: `${BASE}${path}`, signature, params: new URLSearchParams(body) };
  } finally {
    await Deno.remove(file);
  }
}

Deno.test("bench webhooks: every step's webhook verifies as Twilio's", async () => {
  for (const step of HOT_PATH) {
    const w = await firstWebhook(step.label);
    assert.ok(
      await validateTwilioSignature({ authToken: TOKEN, ...w }),
      `${step.label}: signature does not verify`,
    );
  }
});

Deno.test("bench webhooks: the voicemail's three carry what Twilio sends each", async () => {
  // Record's action and the recording status callback bring the duration,
  // which marks the voicemail recorded; the transcription callback does not.
  for (const label of ["voice-voicemail (recorded)", "voice-voicemail (recording)"]) {
    const { params } = await firstWebhook(label);
    for (const field of ["RecordingSid", "RecordingUrl", "RecordingDuration"]) {
      assert.ok(params.get(field), `${label} lacks ${field}`);
    }
  }
  const { params } = await firstWebhook("voice-voicemail (transcription)");
  for (
    const field of ["RecordingSid", "TranscriptionSid", "TranscriptionStatus", "TranscriptionText"]
  ) {
    assert.ok(params.get(field), `transcription lacks ${field}`);
  }
  assert.equal(params.get("RecordingDuration"), null, "a transcription callback has no duration");
});
