/**
 * The local stack's start-up honesty, with the real scripts: serve-functions
 * (what scripts/start runs) and the call tool, on ports of their own.
 */
import assert from "node:assert/strict";
import { freePort } from "../../scripts/lib/function-workers.ts";
import { readStackState } from "../../scripts/lib/stack-state.ts";
import { testDbUrl, testSql } from "../support/stack.ts";

const ROOT = new URL("../..", import.meta.url).pathname.replace(/\/$/, "");
const DENO = Deno.execPath();

/** A clean environment: none of scripts/test's PUBLIC_BASE_URL or test URLs. */
function baseEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of ["PATH", "HOME", "DENO_DIR", "TMPDIR", "NO_COLOR"]) {
    const value = Deno.env.get(name);
    if (value !== undefined) env[name] = value;
  }
  return { ...env, NO_COLOR: "1", ...extra };
}

interface Stack {
  port: number;
  stateFile: string;
  child: Deno.ChildProcess;
  stop(): Promise<void>;
}

/** Starts serve-functions as scripts/start does; resolves once it wrote its state file. */
async function startStack(opts: { envFile?: string } = {}): Promise<Stack> {
  const port = freePort();
  const dir = await Deno.makeTempDir({ prefix: "hotline-stack-" });
  const stateFile = `${dir}/stack.json`;
  const args = [
    "run",
    "--allow-all",
    `${ROOT}/scripts/serve-functions.ts`,
    "--port",
    String(port),
    "--db-url",
    testDbUrl(),
    "--state-file",
    stateFile,
  ];
  if (opts.envFile) args.push("--env-file", opts.envFile);
  const child = new Deno.Command(DENO, {
    args,
    env: baseEnv(),
    clearEnv: true,
    stdout: "null",
    stderr: "null",
  }).spawn();
  const stop = async () => {
    try {
      child.kill("SIGTERM");
    } catch { /* already gone */ }
    await child.status;
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  };
  for (let i = 0; i < 300; i++) {
    try {
      await Deno.stat(stateFile);
      return { port, stateFile, child, stop };
    } catch { /* not yet */ }
    await new Promise((r) => setTimeout(r, 50));
  }
  await stop();
  throw new Error("serve-functions never wrote its state file");
}

/** Runs serve-functions expecting it to refuse to start; returns its exit code and stderr. */
async function refusedStart(envFile: string): Promise<{ code: number; stderr: string }> {
  const out = await new Deno.Command(DENO, {
    args: [
      "run",
      "--allow-all",
      `${ROOT}/scripts/serve-functions.ts`,
      "--port",
      String(freePort()),
      "--db-url",
      testDbUrl(),
      "--env-file",
      envFile,
    ],
    env: baseEnv(),
    clearEnv: true,
    stdout: "null",
    stderr: "piped",
    signal: AbortSignal.timeout(20_000),
  }).output();
  return { code: out.code, stderr: new TextDecoder().decode(out.stderr) };
}

async function callTool(
  stateFile: string,
  args: string[],
): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = await new Deno.Command(DENO, {
    args: ["run", "--allow-net", "--allow-env", "--allow-read", `${ROOT}/scripts/call.ts`, ...args],
    env: baseEnv({ HOTLINE_STACK_STATE: stateFile }),
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(30_000),
  }).output();
  const text = (b: Uint8Array) => new TextDecoder().decode(b);
  return { code: out.code, stdout: text(out.stdout), stderr: text(out.stderr) };
}

async function envFileWith(lines: string): Promise<string> {
  const example = await Deno.readTextFile(`${ROOT}/supabase/functions/.env.example`);
  const path = await Deno.makeTempFile({ prefix: "hotline-env-", suffix: ".env" });
  await Deno.writeTextFile(path, example + lines);
  return path;
}

Deno.test("stack: on a moved port, signatures follow the port and the call tool finds the stack", async () => {
  const stack = await startStack();
  try {
    const state = readStackState(stack.stateFile);
    assert.equal(state.functionsUrl, `http://127.0.0.1:${stack.port}/functions/v1`);
    // .env.example says 54321; the stack is elsewhere, so it signs for itself.
    assert.equal(state.publicBaseUrl, state.functionsUrl);
    const call = await callTool(stack.stateFile, ["1"]);
    assert.equal(call.code, 0, call.stdout + call.stderr);
    assert.match(call.stdout, /dialled \+15875550101/);
    assert.doesNotMatch(call.stdout, /⚠/);
  } finally {
    await stack.stop();
  }
});

Deno.test("stack: the call tool exits 1 when a webhook answers 4xx", async () => {
  const stack = await startStack();
  try {
    // Signed for localhost, verified against 127.0.0.1: every webhook is 403.
    const call = await callTool(stack.stateFile, [
      "--url",
      `http://localhost:${stack.port}/functions/v1`,
      "1",
    ]);
    assert.equal(call.code, 1);
    assert.match(call.stdout, /403 from/);
    assert.match(call.stderr, /signature did not verify/);
  } finally {
    await stack.stop();
  }
});

Deno.test("stack: the call tool says when the rate limit refused a call", async () => {
  const caller = `+1780${String(Math.floor(Math.random() * 1e7)).padStart(7, "0")}`;
  const sql = testSql();
  const stack = await startStack();
  try {
    for (let i = 0; i < 10; i++) {
      await sql`select public.rate_limit_take('voice-frontdoor', 'caller', ${caller})`;
    }
    const call = await callTool(stack.stateFile, ["--from", caller, "1"]);
    assert.equal(call.code, 0, call.stderr);
    assert.match(call.stdout, /rate limit for \+1780\d{7} refused it/);
  } finally {
    await stack.stop();
    await sql.end();
  }
});

/**
 * Runs the call tool on a terminal (util-linux `script` gives it a pty) and
 * answers each prompt with the next line, once the prompt is shown.
 */
async function interactiveCall(stateFile: string, answers: string[]): Promise<string> {
  const command = [
    DENO,
    "run",
    "--allow-net",
    "--allow-env",
    "--allow-read",
    `${ROOT}/scripts/call.ts`,
  ]
    .join(" ");
  const child = new Deno.Command("script", {
    args: ["-qec", command, "/dev/null"],
    env: baseEnv({ HOTLINE_STACK_STATE: stateFile }),
    clearEnv: true,
    stdin: "piped",
    stdout: "piped",
    stderr: "null",
    signal: AbortSignal.timeout(30_000),
  }).spawn();
  const writer = child.stdin.getWriter();
  let output = "";
  let prompts = 0;
  for await (const chunk of child.stdout.pipeThrough(new TextDecoderStream())) {
    output += chunk;
    const shown =
      output.match(/(key \(or silence, hangup\)|speak:<seconds> or hangup) >/g)?.length ?? 0;
    while (prompts < shown) {
      prompts++;
      await writer.write(new TextEncoder().encode(`${answers.shift() ?? "hangup"}\n`));
    }
  }
  await writer.close().catch(() => {});
  await child.status;
  // The terminal's escape sequences (bracketed paste, cursor moves) are noise here.
  // deno-lint-ignore no-control-regex
  return output.replace(/\x1b\[[0-9;?]*[a-zA-Z]/g, "");
}

Deno.test("stack: interactive, a typo is explained and asked again, not the end of the call", async () => {
  const stack = await startStack();
  try {
    const out = await interactiveCall(stack.stateFile, ["x", "9", "speak:4"]);
    assert.match(out, /"x" is not a key/);
    assert.match(out, /Your message has been saved/);
    assert.match(out, /call CA[0-9a-f]{32}: completed/);
  } finally {
    await stack.stop();
  }
});

Deno.test("stack: no running stack → the call tool says how to start one, exit 1", async () => {
  const call = await callTool("/nonexistent/stack.json", ["1"]);
  assert.equal(call.code, 1);
  assert.match(call.stderr, /no local stack is running \(start it with scripts\/start\)/);
});

Deno.test("stack: a malformed env line is named by file and line, without a stack trace", async () => {
  const envFile = await envFileWith("GOOD=1\nTHIS LINE IS BROKEN\n");
  try {
    const { code, stderr } = await refusedStart(envFile);
    assert.equal(code, 1);
    const lineNo = (await Deno.readTextFile(envFile)).split("\n").indexOf("THIS LINE IS BROKEN") +
      1;
    assert.match(stderr, new RegExp(`\\.env line ${lineNo}: expected THIS=value`));
    assert.doesNotMatch(stderr, /\n\s+at /, "no stack trace");
  } finally {
    await Deno.remove(envFile);
  }
});

Deno.test("stack: invalid configuration stops start-up, each variable named", async () => {
  const envFile = await envFileWith("TWILIO_AUTH_TOKEN=\nSALES_TARGET_E164=587-555-0101\n");
  try {
    const { code, stderr } = await refusedStart(envFile);
    assert.equal(code, 1);
    assert.match(stderr, /TWILIO_AUTH_TOKEN is missing/);
    assert.match(stderr, /SALES_TARGET_E164 must be an E\.164 number/);
    assert.doesNotMatch(stderr, /587-555-0101/, "the value is not echoed");
  } finally {
    await Deno.remove(envFile);
  }
});

Deno.test("stack: an operator's PUBLIC_BASE_URL in their own .env is kept", async () => {
  // Only a file named .env counts as the operator's (the example is the default).
  const dir = await Deno.makeTempDir({ prefix: "hotline-env-" });
  const envFile = `${dir}/.env`;
  await Deno.writeTextFile(
    envFile,
    (await Deno.readTextFile(`${ROOT}/supabase/functions/.env.example`)).replace(
      /^PUBLIC_BASE_URL=.*$/m,
      "PUBLIC_BASE_URL=https://hotline.example.org/functions/v1",
    ),
  );
  const stack = await startStack({ envFile });
  try {
    assert.equal(
      readStackState(stack.stateFile).publicBaseUrl,
      "https://hotline.example.org/functions/v1",
    );
    // The call tool signs for the public URL and delivers to the local port.
    const call = await callTool(stack.stateFile, ["9", "speak:5"]);
    assert.equal(call.code, 0, call.stdout + call.stderr);
  } finally {
    await stack.stop();
    await Deno.remove(dir, { recursive: true });
  }
});
