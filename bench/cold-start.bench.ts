/**
 * Cold start of each edge function (process start → first response) next to
 * a bare `Deno.serve` answering constant TwiML, measured in the same run, as
 * ratios. Part of `deno task bench`; alone:
 *
 *   .tools/bin/deno task bench:cold-start [runs] [database-url]
 *
 * Each run spawns a fresh process (a fresh isolate, as the edge runtime does
 * on a cold start) and times until its first HTTP response. Twilio-facing
 * functions get an unsigned POST (answered 400 after every module is loaded,
 * before any database work); telephony-provision gets an unauthenticated
 * request (401, after it writes the refusal's audit row: against the
 * refused port, a failed write). voice-health gets a GET against a database
 * port that refuses. Given a database URL, both are also timed against that
 * live database ("… (live database)": connect, authenticate, the health
 * check's query or the audit row's insert, all before the first answer).
 * Goal: ratio ≤ 2.
 */
import { parseDotenv } from "../scripts/lib/dotenv.ts";
import { freePort, functionRunArgs, runtimeEnv } from "../scripts/lib/function-workers.ts";

const ROOT = new URL("..", import.meta.url).pathname.replace(/\/$/, "");

export interface ColdStart {
  name: string;
  medianMs: number;
  /** Median over the bare server's median. */
  ratio: number;
}

async function coldStart(
  entry: string,
  request: RequestInit,
  env: Record<string, string>,
): Promise<number> {
  const port = freePort();
  const started = performance.now();
  const child = new Deno.Command(Deno.execPath(), {
    args: functionRunArgs(`${ROOT}/deno.json`, entry),
    env: { ...env, DENO_SERVE_ADDRESS: `tcp:127.0.0.1:${port}` },
    clearEnv: true,
    stdout: "null",
    stderr: "null",
  }).spawn();
  try {
    for (;;) {
      try {
        const res = await fetch(`http://127.0.0.1:${port}/fn`, request);
        await res.body?.cancel();
        return performance.now() - started;
      } catch {
        if (performance.now() - started > 20_000) throw new Error(`${entry} did not answer`);
        await new Promise((r) => setTimeout(r, 2));
      }
    }
  } finally {
    child.kill("SIGKILL");
    await child.status;
  }
}

/** Functions that answer their first request only after a database write or query. */
const DATABASE_FIRST = ["telephony-provision", "voice-health"];

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/**
 * Median cold start of the bare server and of every function, over `runs`
 * interleaved runs; with `databaseUrl`, the functions in DATABASE_FIRST also against
 * that live database.
 */
export async function measureColdStarts(
  runs: number,
  opts: { databaseUrl?: string } = {},
): Promise<ColdStart[]> {
  const env = {
    ...parseDotenv(Deno.readTextFileSync(`${ROOT}/supabase/functions/.env.example`)),
    SUPABASE_DB_URL: `postgresql://postgres:postgres@127.0.0.1:${freePort()}/postgres`,
    ...runtimeEnv(),
  };
  const targets: {
    name: string;
    entry: string;
    request: RequestInit;
    env?: Record<string, string>;
  }[] = [
    {
      name: "bare Deno.serve (baseline)",
      entry: `${ROOT}/bench/fixtures/bare-twiml.ts`,
      request: {},
    },
    // Not a function: shows what the Postgres driver's import alone costs.
    {
      name: "bare + Postgres driver import",
      entry: `${ROOT}/bench/fixtures/bare-with-driver.ts`,
      request: {},
    },
  ];
  for (
    const entry of [...Deno.readDirSync(`${ROOT}/supabase/functions`)].sort((a, b) =>
      a.name.localeCompare(b.name)
    )
  ) {
    if (!entry.isDirectory || entry.name.startsWith("_")) continue;
    const isHealth = entry.name === "voice-health";
    targets.push({
      name: entry.name,
      entry: `${ROOT}/supabase/functions/${entry.name}/index.ts`,
      request: isHealth ? {} : {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: "CallSid=CA00000000000000000000000000000000",
      },
    });
    // The two whose first answer waits on the database: also timed against a live one.
    if (DATABASE_FIRST.includes(entry.name) && opts.databaseUrl) {
      targets.push({
        ...targets.at(-1)!,
        name: `${entry.name} (live database)`,
        env: { SUPABASE_DB_URL: opts.databaseUrl },
      });
    }
  }
  // Interleave runs so drift in machine load hits every target alike.
  const samples = new Map(targets.map((t) => [t.name, [] as number[]]));
  const envOf = (t: (typeof targets)[number]) => ({ ...env, ...t.env });
  for (const t of targets) await coldStart(t.entry, t.request, envOf(t)); // warm Deno's module cache
  for (let i = 0; i < runs; i++) {
    for (const t of targets) {
      samples.get(t.name)!.push(await coldStart(t.entry, t.request, envOf(t)));
    }
  }
  const baseline = median(samples.get(targets[0].name)!);
  return targets.map((t) => {
    const m = median(samples.get(t.name)!);
    return { name: t.name, medianMs: m, ratio: m / baseline };
  });
}

if (import.meta.main) {
  const runs = Number(Deno.args[0] ?? 15);
  const databaseUrl = Deno.args[1];
  console.log(`cold start, median of ${runs} runs (process start → first response)`);
  console.log("function".padEnd(36), "median ms".padStart(10), "ratio".padStart(7));
  for (const r of await measureColdStarts(runs, { databaseUrl })) {
    console.log(
      r.name.padEnd(36),
      r.medianMs.toFixed(1).padStart(10),
      r.ratio.toFixed(2).padStart(7),
    );
  }
}
