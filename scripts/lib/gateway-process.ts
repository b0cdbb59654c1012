/**
 * Spawns the local functions gateway (scripts/serve-functions.ts) as a child
 * process, for the tests and benchmarks that need a gateway of their own
 * (their own port, database or environment) beside the one scripts/test runs.
 */
const ROOT = new URL("../..", import.meta.url).pathname.replace(/\/$/, "");

export interface GatewayOptions {
  port: number;
  dbUrl: string;
  /** Variables that win over the committed env file (supabase/functions/.env.example). */
  env?: Record<string, string>;
  /** More serve-functions flags, e.g. `["--resume-every", "1"]`. */
  args?: string[];
}

/** Starts the gateway, its output discarded; the caller kills it (`child.kill()`). */
export function spawnGateway(opts: GatewayOptions): Deno.ChildProcess {
  return new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-net",
      "--allow-env",
      "--allow-read",
      "--allow-run",
      "--allow-sys=hostname",
      `${ROOT}/scripts/serve-functions.ts`,
      "--port",
      String(opts.port),
      "--db-url",
      opts.dbUrl,
      "--env-file",
      `${ROOT}/supabase/functions/.env.example`,
      ...(opts.args ?? []),
    ],
    env: opts.env,
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
}
