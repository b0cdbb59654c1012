/**
 * Runs one edge function in a process of its own with an environment the test
 * chooses (e.g. a database that is down), the same way the local stack does.
 */
import { FunctionWorkers, runtimeEnv } from "../../scripts/lib/function-workers.ts";
import { parseDotenv } from "../../scripts/lib/dotenv.ts";
import { TwilioDriver } from "../flow/twilio-driver.ts";
import { testDbUrl } from "./stack.ts";

const ROOT = new URL("../..", import.meta.url).pathname.replace(/\/$/, "");

/** The committed local defaults, as the tests' functions server uses them. */
export function exampleEnv(): Record<string, string> {
  return parseDotenv(Deno.readTextFileSync(`${ROOT}/supabase/functions/.env.example`));
}

export interface RunningFunction {
  url: string;
  /** The function's process (its memory is read from /proc/<pid>/status). */
  pid: number;
  /** Everything the process wrote to stdout and stderr so far, when started with `captureLogs`. */
  logs(): string;
  /** Its memory after a full garbage collection (started with `memoryProbe` only). */
  memory(): Promise<MemoryReading>;
  stop(): Promise<void>;
}

/** A function process's memory, in bytes, right after a full garbage collection. */
export interface MemoryReading {
  /** What survived the collection: grows with a leak, not with heap sizing. */
  heapUsed: number;
  /** The heap V8 keeps committed (sized to the load, then kept). */
  heapTotal: number;
  external: number;
  rss: number;
}

/**
 * Starts `slug` in a process of its own. `memoryProbe` runs it under
 * scripts/lib/memory-probe.ts (implies `captureLogs`), so that `memory()` works.
 */
export async function startFunction(
  slug: string,
  env: Record<string, string>,
  opts: { captureLogs?: boolean; memoryProbe?: boolean } = {},
): Promise<RunningFunction> {
  let output = "";
  const workers = new FunctionWorkers({
    deno: Deno.execPath(),
    functionsDir: `${ROOT}/supabase/functions`,
    configPath: `${ROOT}/deno.json`,
    env: { ...runtimeEnv(), ...env },
    onOutput: opts.captureLogs || opts.memoryProbe ? (_slug, text) => (output += text) : undefined,
    memoryProbe: opts.memoryProbe,
  });
  const port = await workers.portFor(slug);
  const pid = await workers.pidFor(slug);
  return {
    url: `http://127.0.0.1:${port}/${slug}`,
    pid,
    logs: () => output,
    memory: async () => {
      if (!opts.memoryProbe) throw new Error(`${slug} was not started with memoryProbe`);
      const from = output.length;
      Deno.kill(pid, "SIGUSR2");
      const deadline = Date.now() + 10_000;
      while (Date.now() < deadline) {
        const line = /memory-probe (\{[^\n]*\})\n/.exec(output.slice(from));
        if (line) return JSON.parse(line[1]) as MemoryReading;
        await new Promise((r) => setTimeout(r, 20));
      }
      throw new Error(`${slug}: no memory reading within 10 s`);
    },
    stop: () => workers.stopAll(),
  };
}

/** A process's resident memory in bytes (VmRSS in /proc/<pid>/status). */
export async function residentBytes(pid: number): Promise<number> {
  const status = await Deno.readTextFile(`/proc/${pid}/status`);
  const kib = /^VmRSS:\s+(\d+) kB$/m.exec(status);
  if (!kib) throw new Error(`no VmRSS for process ${pid}`);
  return Number(kib[1]) * 1024;
}

/** The public base URL Twilio signs for a function run alone. */
export const ISOLATED_PUBLIC_BASE = "https://hotline.example/functions/v1";

/**
 * Runs one function alone with the given database. Twilio signs the public
 * URL; the driver delivers to the function's own port, as the gateway would.
 */
export async function startIsolated(
  slug: string,
  dbUrl: string,
): Promise<{ fn: RunningFunction; driver: TwilioDriver }> {
  const env = exampleEnv();
  const fn = await startFunction(slug, {
    ...env,
    SUPABASE_DB_URL: dbUrl,
    PUBLIC_BASE_URL: ISOLATED_PUBLIC_BASE,
  });
  const local = fn.url.slice(0, fn.url.lastIndexOf("/"));
  const driver = new TwilioDriver({
    baseUrl: ISOLATED_PUBLIC_BASE,
    authToken: env.TWILIO_AUTH_TOKEN,
    accountSid: env.TWILIO_ACCOUNT_SID,
    route: (url) => url.replace(ISOLATED_PUBLIC_BASE, local),
  });
  return { fn, driver };
}

/** Several functions, each in a process of its own, behind one Twilio driver. */
export interface FunctionsBehindDriver {
  driver: TwilioDriver;
  /** The local URL of one function's process. */
  url(slug: string): string;
  /** Each function's process id (for its resident memory). */
  pids: Record<string, number>;
  /** Everything the processes logged so far, when started with `captureLogs`. */
  logs(): string;
  stop(): Promise<void>;
}

/**
 * Starts `slugs` on the real test database (or `dbUrl`); the driver signs the
 * public URL and delivers each request to its function's own process, as the
 * gateway would. Twilio's retries (`#rc=`) come every `retryDelayMs`.
 */
export async function startFunctionsBehindDriver(
  slugs: string[],
  opts: { retryDelayMs?: number; captureLogs?: boolean; dbUrl?: string } = {},
): Promise<FunctionsBehindDriver> {
  const env = exampleEnv();
  const running: Record<string, RunningFunction> = {};
  for (const slug of slugs) {
    running[slug] = await startFunction(slug, {
      ...env,
      SUPABASE_DB_URL: opts.dbUrl ?? testDbUrl(),
      PUBLIC_BASE_URL: ISOLATED_PUBLIC_BASE,
    }, { captureLogs: opts.captureLogs });
  }
  const driver = new TwilioDriver({
    baseUrl: ISOLATED_PUBLIC_BASE,
    authToken: env.TWILIO_AUTH_TOKEN,
    accountSid: env.TWILIO_ACCOUNT_SID,
    route: (url) => {
      const slug = new URL(url).pathname.split("/").pop()!;
      const fn = running[slug];
      if (!fn) throw new Error(`no process for ${slug}`);
      return fn.url + new URL(url).search;
    },
    retryDelayMs: opts.retryDelayMs ?? 500,
  });
  return {
    driver,
    url: (slug) => running[slug].url,
    pids: Object.fromEntries(Object.entries(running).map(([slug, fn]) => [slug, fn.pid])),
    // Each line prefixed with its function, to tell which process said it.
    logs: () =>
      Object.entries(running).flatMap(([slug, fn]) =>
        fn.logs().split("\n").filter((line) => line !== "").map((line) => `${slug}: ${line}`)
      ).join("\n"),
    stop: async () => {
      await Promise.all(Object.values(running).map((fn) => fn.stop()));
    },
  };
}
