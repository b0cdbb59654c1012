/**
 * Local stand-in for `supabase functions serve`: routes
 * http://127.0.0.1:<port>/functions/v1/<slug> to the function, applies
 * `verify_jwt` from supabase/config.toml, and passes the env file through.
 *
 *   deno run -A scripts/serve-functions.ts --port 54321 --db-url postgresql://… [--env-file F]
 *     [--resume-every SECONDS] [--state-file .local/stack.json]
 *
 * --resume-every stands in for hosted Supabase's pg_cron + pg_net job (there
 * is no pg_net here): it calls POST telephony-provision/transactions/resume
 * with the admin key on that period, so crashed provisioning transactions
 * are finished on the local stack too.
 *
 * Before it says it is ready it validates the functions' configuration (each
 * bad variable named) and has every function answer once; with --state-file
 * it then writes where it runs, for `deno task call` and the benchmarks.
 * PUBLIC_BASE_URL follows --port unless the operator set it (in their own
 * supabase/functions/.env, or in the environment), so signatures keep working
 * when the port moves.
 */
import { DotenvError, readDotenvFile, readFunctionsEnv } from "./lib/dotenv.ts";
import { removeStackState, writeStackState } from "./lib/stack-state.ts";
import { parseConfig } from "../supabase/functions/_shared/platform/config.ts";
import { functionsWithoutJwt, verifyGatewayJwt } from "./lib/gateway-jwt.ts";
import { FunctionWorkers, runtimeEnv } from "./lib/function-workers.ts";

/** The Supabase CLI's local JWT secret, so its well-known local keys work here too. */
const LOCAL_JWT_SECRET = "super-secret-jwt-token-with-at-least-32-characters-long";
const ROOT = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
const FUNCTIONS_DIR = `${ROOT}/supabase/functions`;

function arg(name: string, fallback?: string): string {
  const i = Deno.args.indexOf(`--${name}`);
  const value = i >= 0 ? Deno.args[i + 1] : fallback;
  if (value === undefined) throw new Error(`--${name} is required`);
  return value;
}

function slugs(): Set<string> {
  const found = new Set<string>();
  for (const entry of Deno.readDirSync(FUNCTIONS_DIR)) {
    if (entry.isDirectory && !entry.name.startsWith("_")) {
      try {
        Deno.statSync(`${FUNCTIONS_DIR}/${entry.name}/index.ts`);
        found.add(entry.name);
      } catch { /* not a function */ }
    }
  }
  return found;
}

/** Stops with a message and no stack trace: the operator has something to fix. */
function fail(message: string): never {
  console.error(`[serve-functions] ${message}`);
  Deno.exit(1);
}

const port = Number(arg("port", "54321"));
const dbUrl = arg("db-url", Deno.env.get("HOTLINE_DB_URL") ?? Deno.env.get("SUPABASE_DB_URL"));
const envFileArg = Deno.args.includes("--env-file") ? arg("env-file") : undefined;
const stateFile = Deno.args.includes("--state-file") ? arg("state-file") : undefined;
let envPath: string, fileEnv: Record<string, string>;
try {
  ({ path: envPath, env: fileEnv } = envFileArg
    ? { path: envFileArg, env: await readDotenvFile(envFileArg, ROOT) }
    : await readFunctionsEnv(FUNCTIONS_DIR, ROOT));
} catch (e) {
  if (e instanceof DotenvError || e instanceof Deno.errors.NotFound) fail((e as Error).message);
  throw e;
}
const jwtSecret = Deno.env.get("SUPABASE_JWT_SECRET") ?? LOCAL_JWT_SECRET;
const localBaseUrl = `http://127.0.0.1:${port}/functions/v1`;

// The env file is the functions' configuration; variables set in this
// process's environment win, so tests and operators can override one value.
const functionEnv: Record<string, string> = { ...fileEnv };
for (const name of Object.keys(fileEnv)) {
  const override = Deno.env.get(name);
  if (override !== undefined) functionEnv[name] = override;
}
// The committed .env.example's PUBLIC_BASE_URL is the default port's; a
// stack on another port signs with its own, unless the operator chose one.
const operatorChoseBaseUrl = Deno.env.get("PUBLIC_BASE_URL") !== undefined ||
  (envPath.endsWith("/.env") && fileEnv.PUBLIC_BASE_URL !== undefined);
if (!operatorChoseBaseUrl) functionEnv.PUBLIC_BASE_URL = localBaseUrl;
Object.assign(functionEnv, runtimeEnv(), {
  SUPABASE_DB_URL: dbUrl,
  SUPABASE_URL: `http://127.0.0.1:${port}`,
  SUPABASE_JWT_SECRET: jwtSecret,
});
const envName = envPath.replace(ROOT + "/", "");
const config = parseConfig(functionEnv);
if (!config.ok) {
  fail(
    `invalid configuration (from ${envName} and the environment):\n  ${config.errors.join("\n  ")}`,
  );
}

const known = slugs();
const openFunctions = functionsWithoutJwt(await Deno.readTextFile(`${ROOT}/supabase/config.toml`));
const workers = new FunctionWorkers({
  deno: Deno.execPath(),
  functionsDir: FUNCTIONS_DIR,
  configPath: `${ROOT}/deno.json`,
  env: functionEnv,
});

function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json" },
  });
}

async function route(req: Request): Promise<Response> {
  const url = new URL(req.url);
  const match = /^\/functions\/v1\/([^/?]+)(\/.*)?$/.exec(url.pathname);
  if (!match || !known.has(match[1])) return json(404, { error: "function not found" });
  const slug = match[1];
  if (
    !openFunctions.has(slug) &&
    !(await verifyGatewayJwt(req.headers.get("authorization"), jwtSecret))
  ) {
    return json(401, { error: "missing or invalid JWT" });
  }
  let target: number;
  try {
    target = await workers.portFor(slug);
  } catch (e) {
    console.error(`[serve-functions] ${(e as Error).message}`);
    return json(503, { error: `function ${slug} failed to start` });
  }
  // The function sees an internal URL, as behind the Supabase gateway.
  const inner = `http://127.0.0.1:${target}/${slug}${match[2] ?? ""}${url.search}`;
  const headers = new Headers(req.headers);
  headers.set("x-forwarded-host", url.host);
  headers.set("x-forwarded-proto", url.protocol.replace(":", ""));
  // The body is relayed as a stream, never held whole. Once the function has
  // answered (a 413 for an oversized upload, say), the rest of the upload is
  // not wanted: stop reading it, as a gateway does, so it costs us nothing.
  const upload = new AbortController();
  const body = req.body?.pipeThrough(new TransformStream(), { signal: upload.signal }) ?? null;
  try {
    const res = await fetch(inner, { method: req.method, headers, body, redirect: "manual" });
    upload.abort();
    return res;
  } catch (e) {
    console.error(`[serve-functions] ${slug}: ${(e as Error).message}`);
    return json(502, { error: `function ${slug} did not answer` });
  }
}

let server: Deno.HttpServer;
try {
  server = Deno.serve({ hostname: "127.0.0.1", port, onListen: () => {} }, route);
} catch (e) {
  if (e instanceof Deno.errors.AddrInUse) {
    console.error(`port ${port} is in use: is the stack already running?`);
    Deno.exit(1);
  }
  throw e;
}
const resumeEvery = Deno.args.includes("--resume-every") ? Number(arg("resume-every")) : 0;
const adminKey = functionEnv.ADMIN_API_KEY;
const resumer = resumeEvery > 0 && adminKey
  ? setInterval(async () => {
    try {
      const res = await fetch(
        `http://127.0.0.1:${port}/functions/v1/telephony-provision/transactions/resume`,
        { method: "POST", headers: { authorization: `Bearer ${adminKey}` } },
      );
      const body = await res.json();
      // The same request deletes queued recordings at Twilio: say so when it did.
      const deletions = Object.values(body.recordingDeletions ?? {}).some((n) => n !== 0);
      if (res.status !== 200 || body.resumed?.length || deletions) {
        console.error(`[serve-functions] resumer: ${res.status} ${JSON.stringify(body)}`);
      }
    } catch (e) {
      console.error(`[serve-functions] resumer: ${(e as Error).message}`);
    }
  }, resumeEvery * 1000)
  : undefined;

const shutdown = async () => {
  clearInterval(resumer);
  if (stateFile) removeStackState(stateFile);
  await workers.stopAll();
  await server.shutdown();
  Deno.exit(0);
};
Deno.addSignalListener("SIGINT", shutdown);
Deno.addSignalListener("SIGTERM", shutdown);

// Ready only when every function has answered once (a 405 or a health report
// is an answer; a function that fails to start is not).
const silent: string[] = [];
await Promise.all([...known].map(async (slug) => {
  try {
    const res = await fetch(`http://127.0.0.1:${await workers.portFor(slug)}/${slug}`);
    await res.body?.cancel();
  } catch (e) {
    silent.push(`${slug}: ${(e as Error).message}`);
  }
}));
if (silent.length > 0) {
  await workers.stopAll();
  fail(`functions did not answer:\n  ${silent.join("\n  ")}`);
}
if (stateFile) {
  writeStackState({
    pid: Deno.pid,
    functionsUrl: localBaseUrl,
    publicBaseUrl: config.config.PUBLIC_BASE_URL,
    dbUrl: config.config.SUPABASE_DB_URL,
    envFile: envPath,
  }, stateFile);
}
console.error(
  `[serve-functions] ${known.size} functions answered on ${localBaseUrl}/ (env: ${envName}; signatures for ${config.config.PUBLIC_BASE_URL})`,
);
