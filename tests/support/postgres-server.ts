/**
 * The throwaway Postgres cluster scripts/test started, stopped and started
 * again as a failover would: an immediate shutdown (no checkpoint, every
 * connection cut), then a start on the same port with crash recovery.
 *
 * A test that stops it must start it again in a `finally`, and leave every
 * function process it used storing again, so the files after it see a
 * working stack.
 */
import { testDbUrl } from "./stack.ts";

function required(name: string): string {
  const value = Deno.env.get(name);
  if (!value) throw new Error(`${name} is not set: run the tests with scripts/test`);
  return value;
}

async function pgCtl(args: string[]): Promise<void> {
  const pgCtlPath = `${required("HOTLINE_TEST_PG_BIN")}/pg_ctl`;
  const data = required("HOTLINE_TEST_PG_DATA");
  // Postgres refuses to run as root; scripts/test runs it as `postgres` then.
  const asRoot = Deno.uid() === 0;
  const [cmd, cmdArgs] = asRoot
    ? ["runuser", ["-u", "postgres", "--", pgCtlPath, "-D", data, ...args]]
    : [pgCtlPath, ["-D", data, ...args]];
  const out = await new Deno.Command(cmd as string, { args: cmdArgs as string[] }).output();
  if (!out.success) {
    throw new Error(`pg_ctl ${args.join(" ")} failed: ${new TextDecoder().decode(out.stderr)}`);
  }
}

/** Kills the cluster the way a crash or failover does (`pg_ctl -m immediate`). */
export async function stopPostgresImmediately(): Promise<void> {
  await pgCtl(["-m", "immediate", "-w", "-t", "30", "stop"]);
}

/**
 * Starts the cluster again on its own port (not the pooler's, when the tests
 * run through PgBouncer) and waits until it accepts connections.
 */
export async function startPostgres(): Promise<void> {
  const port = Deno.env.get("HOTLINE_TEST_PG_PORT") ?? new URL(testDbUrl()).port;
  const data = required("HOTLINE_TEST_PG_DATA");
  await pgCtl(["-l", `${data}/server.log`, "-o", `-p ${port}`, "-w", "-t", "60", "start"]);
}

/** Whether the cluster's postmaster is running. */
export async function postgresRunning(): Promise<boolean> {
  try {
    await pgCtl(["status"]);
    return true;
  } catch {
    return false;
  }
}

/**
 * Runs `body` with a cluster that the body may stop (with
 * stopPostgresImmediately); the cluster is running again afterwards,
 * whatever happened.
 */
export async function withRestartablePostgres(body: () => Promise<void>): Promise<void> {
  try {
    await body();
  } finally {
    if (!(await postgresRunning())) await startPostgres();
  }
}
