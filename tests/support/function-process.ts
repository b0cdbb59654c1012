/**
 * Runs one edge function in a process of its own with an environment the test
 * chooses (e.g. a database that is down), the same way the local stack does.
 */
import { FunctionWorkers, runtimeEnv } from "../../scripts/lib/function-workers.ts";
import { parseDotenv } from "../../scripts/lib/dotenv.ts";

const ROOT = new URL("../..", import.meta.url).pathname.replace(/\/$/, "");

/** The committed local defaults, as the tests' functions server uses them. */
export function exampleEnv(): Record<string, string> {
  return parseDotenv(Deno.readTextFileSync(`${ROOT}/supabase/functions/.env.example`));
}

export interface RunningFunction {
  url: string;
  stop(): Promise<void>;
}

export async function startFunction(
  slug: string,
  env: Record<string, string>,
): Promise<RunningFunction> {
  const workers = new FunctionWorkers({
    deno: Deno.execPath(),
    functionsDir: `${ROOT}/supabase/functions`,
    configPath: `${ROOT}/deno.json`,
    env: { ...runtimeEnv(), ...env },
  });
  const port = await workers.portFor(slug);
  return { url: `http://127.0.0.1:${port}/${slug}`, stop: () => workers.stopAll() };
}
