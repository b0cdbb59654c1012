/**
 * Walks the running local hotline as a caller, printing what the caller hears.
 *
 *   deno task call 1                       press 1 (sales); the agent accepts
 *   deno task call -- --agent busy 2       support is busy → voicemail
 *   deno task call 9 speak:20              leave a 20 s voicemail
 *   deno task call 5 silence               invalid, then silence → voicemail
 *   deno task call -- --from +17805550123 '*' 1
 *                                          call from another number; repeat the menu, then 1
 *   deno task call                         interactive: type keys at each prompt
 *
 * Keys: 0-9, * and # (quote them in a shell: '*'), silence, hangup,
 * speak:<seconds>. Options (after `--`):
 *   --from E164    the caller's number (default +15875550000); the rate limit is per caller
 *   --to E164      the number called (default the hotline, +15877428885)
 *   --agent accepts|declines|busy|no-answer|fails   what the dialled agent does
 *   --url BASE     another stack's functions URL, ending in /functions/v1
 *
 * It calls the stack `scripts/start` is running (found in .local/stack.json,
 * whatever its port), signing every request with that stack's
 * TWILIO_AUTH_TOKEN against the URL it verifies (its PUBLIC_BASE_URL), as
 * Twilio would. Exits 1 when any webhook answered 4xx/5xx or the stack cannot
 * be reached, 2 on a bad argument.
 */
import { readDotenvFile, readFunctionsEnv } from "./lib/dotenv.ts";
import { readStackState, type StackState } from "./lib/stack-state.ts";
import {
  type AgentBehaviour,
  type CallerAction,
  TwilioDriver,
} from "../tests/flow/twilio-driver.ts";

const ROOT = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
const KEYS_HELP = "use 0-9, *, #, silence, hangup, speak:<seconds>";
const AGENTS: AgentBehaviour[] = ["accepts", "declines", "busy", "no-answer", "fails"];

function usageError(message: string): never {
  console.error(`${message}\n(see the top of scripts/call.ts, or the README)`);
  Deno.exit(2);
}

/** A key word as a caller action, or undefined when it is not one. */
export function parseAction(word: string): CallerAction | undefined {
  if (word === "silence") return { silence: true };
  if (word === "hangup") return { hangup: true };
  const speak = /^speak:(\d+)$/.exec(word);
  if (speak) return { speak: Number(speak[1]) };
  if (/^[0-9*#]+$/.test(word)) return { press: word };
  return undefined;
}

const args = [...Deno.args];
const option = (name: string) => {
  const i = args.indexOf(`--${name}`);
  if (i < 0) return undefined;
  const value = args[i + 1];
  if (value === undefined || value.startsWith("--")) usageError(`--${name} needs a value`);
  return args.splice(i, 2)[1];
};
const from = option("from") ?? "+15875550000";
const to = option("to") ?? "+15877428885";
const agent = (option("agent") ?? "accepts") as AgentBehaviour;
const urlOption = option("url");
if (!AGENTS.includes(agent)) usageError(`unknown --agent "${agent}": ${AGENTS.join(", ")}`);
for (const [name, value] of [["from", from], ["to", to]]) {
  if (!/^\+[1-9]\d{1,14}$/.test(value)) usageError(`--${name} must be E.164, like +15875550000`);
}

const script = args.filter((a) => a !== "--").map((word) =>
  parseAction(word) ?? usageError(`unknown key "${word}": ${KEYS_HELP}`)
);
const interactive = script.length === 0 && Deno.stdin.isTerminal();

/** The stack to call: --url, else the one scripts/start recorded. */
async function target(): Promise<{ stack: StackState | undefined; env: Record<string, string> }> {
  if (urlOption) {
    return {
      stack: undefined,
      env: (await readFunctionsEnv(`${ROOT}/supabase/functions`, ROOT)).env,
    };
  }
  let stack: StackState;
  try {
    stack = readStackState();
  } catch (e) {
    console.error((e as Error).message);
    Deno.exit(1);
  }
  return { stack, env: await readDotenvFile(stack.envFile, ROOT) };
}

const { stack, env } = await target();
const publicBase = (urlOption ?? stack!.publicBaseUrl).replace(/\/$/, "");
const localBase = (urlOption ?? stack!.functionsUrl).replace(/\/$/, "");

try {
  const probe = await fetch(`${localBase}/voice-health`, { signal: AbortSignal.timeout(3_000) });
  await probe.body?.cancel();
} catch (e) {
  console.error(
    `the hotline at ${localBase} does not answer (${(e as Error).message}).` +
      (stack ? " Is the stack still running? scripts/start" : ""),
  );
  Deno.exit(1);
}

/** Asks until the caller types something a caller can do. */
function ask(moment: "gather" | "record"): Promise<CallerAction> {
  const question = moment === "record"
    ? "  🎙  speak:<seconds> or hangup >"
    : "  ☎  key (or silence, hangup) >";
  for (;;) {
    const answer = prompt(question);
    if (answer === null) return Promise.resolve({ hangup: true }); // end of input
    const action = parseAction(answer.trim());
    if (action) return Promise.resolve(action);
    console.log(`  ? "${answer.trim()}" is not a key: ${KEYS_HELP}`);
  }
}

const driver = new TwilioDriver({
  baseUrl: publicBase,
  authToken: env.TWILIO_AUTH_TOKEN ?? "",
  accountSid: env.TWILIO_ACCOUNT_SID ?? "",
  // Signed for the URL the stack verifies; delivered to where it listens.
  route: (url) => url.startsWith(publicBase) ? localBase + url.slice(publicBase.length) : url,
});
let failed: { status: number; url: string }[] = [];
try {
  const call = await driver.call({
    from,
    to,
    agent,
    script,
    statusCallbacks: true,
    transcription: "after-recording-callback",
    onHear: (text) => console.log(`  🔊 ${text}`),
    ask: interactive ? ask : undefined,
  });
  for (const d of call.dials) {
    console.log(
      `  📞 dialled ${d.number} (caller ID ${d.callerId}${d.record ? ", recorded" : ""})`,
    );
  }
  if (call.end === "rejected") {
    console.log(
      `  ⛔ rejected before answering (${call.finalStatus}): the rate limit for ${from} refused it; ` +
        `try again later or use --from with another number`,
    );
  }
  failed = call.exchanges.filter((e) => e.status >= 400);
  for (const e of failed) console.log(`  ⚠ ${e.status} from ${e.url}`);
  console.log(`call ${call.callSid}: ${call.end}, ${call.exchanges.length} webhooks`);
} catch (e) {
  console.error(`the call failed at ${localBase}: ${(e as Error).message}`);
  Deno.exit(1);
}
if (failed.length > 0) {
  console.error(
    `${failed.length} webhook(s) failed` +
      (failed.some((e) => e.status === 403)
        ? ": 403 means the signature did not verify (PUBLIC_BASE_URL or TWILIO_AUTH_TOKEN differ)"
        : ""),
  );
  Deno.exit(1);
}
