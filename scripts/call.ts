/**
 * Walks the local hotline as a caller, printing what the caller hears.
 *
 *   deno task call 1                  press 1 (sales); the agent accepts
 *   deno task call -- --agent busy 2  support is busy → voicemail
 *   deno task call 9 speak:20         leave a 20 s voicemail
 *   deno task call 5 silence          invalid, then silence → voicemail
 *   deno task call                    interactive: type keys at each prompt
 *
 * Keys: 0-9, *, #, silence, hangup, speak:<seconds>. Options: --from E164,
 * --to E164, --agent accepts|declines|busy|no-answer|fails, --url BASE.
 * It signs requests with TWILIO_AUTH_TOKEN from supabase/functions/.env (or
 * .env.example), as Twilio would, against the stack `scripts/start` runs.
 */
import { readFunctionsEnv } from "./lib/dotenv.ts";
import {
  type AgentBehaviour,
  type CallerAction,
  TwilioDriver,
} from "../tests/flow/twilio-driver.ts";

const ROOT = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
const args = [...Deno.args];
const option = (name: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args.splice(i, 2)[1] : undefined;
};
const from = option("from") ?? "+15875550000";
const to = option("to") ?? "+15877428885";
const agent = (option("agent") ?? "accepts") as AgentBehaviour;
const { env } = await readFunctionsEnv(`${ROOT}/supabase/functions`);
const baseUrl = option("url") ?? env.PUBLIC_BASE_URL ?? "http://127.0.0.1:54321/functions/v1";

function toAction(word: string): CallerAction {
  if (word === "silence") return { silence: true };
  if (word === "hangup") return { hangup: true };
  const speak = /^speak:(\d+)$/.exec(word);
  if (speak) return { speak: Number(speak[1]) };
  if (/^[0-9*#]+$/.test(word)) return { press: word };
  console.error(`unknown key "${word}": use 0-9, *, #, silence, hangup, speak:<seconds>`);
  Deno.exit(2);
}

const script = args.filter((a) => a !== "--").map(toAction);
const interactive = script.length === 0 && Deno.stdin.isTerminal();

const driver = new TwilioDriver({
  baseUrl,
  authToken: env.TWILIO_AUTH_TOKEN ?? "",
  accountSid: env.TWILIO_ACCOUNT_SID ?? "",
});
try {
  const call = await driver.call({
    from,
    to,
    agent,
    script,
    statusCallbacks: true,
    transcription: "after-recording-callback",
    onHear: (text) => console.log(`  🔊 ${text}`),
    ask: interactive
      ? (moment) =>
        Promise.resolve(toAction(
          prompt(
            moment === "record"
              ? "  🎙  speak:<seconds> or hangup >"
              : "  ☎  key (or silence, hangup) >",
          ) ??
            "hangup",
        ))
      : undefined,
  });
  for (const d of call.dials) {
    console.log(
      `  📞 dialled ${d.number} (caller ID ${d.callerId}${d.record ? ", recorded" : ""})`,
    );
  }
  const failed = call.exchanges.filter((e) => e.status !== 200);
  for (const e of failed) console.log(`  ⚠ ${e.status} from ${e.url}`);
  console.log(`call ${call.callSid}: ${call.end}, ${call.exchanges.length} webhooks`);
} catch (e) {
  console.error(
    `could not reach the hotline at ${baseUrl}: ${
      (e as Error).message
    }\nIs it running? scripts/start`,
  );
  Deno.exit(1);
}
