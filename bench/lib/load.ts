/** One load level against one target with wrk, replaying pre-signed webhooks (replay.lua). */
import { run } from "./processes.ts";

const LUA = new URL("./replay.lua", import.meta.url).pathname;

export interface LoadResult {
  /** Offered rate in requests/s (undefined: closed loop, as fast as answers come). */
  offered?: number;
  connections: number;
  throughput: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  /** Non-2xx answers, timeouts and socket errors together. */
  errors: number;
  requests: number;
  /** Times a thread ran out of fresh webhooks and replayed its list (0: every request was new). */
  wrapped: number;
}

/**
 * Runs wrk for `seconds` at `url` (its path prefix before the webhook's path)
 * with `connections` connections. With `rate`, each connection waits
 * connections/rate between answers (offered load); without, it saturates.
 */
export async function loadLevel(opts: {
  url: string;
  requestsFile: string;
  runTag: string;
  connections: number;
  seconds: number;
  rate?: number;
}): Promise<LoadResult> {
  const { origin, pathname } = new URL(opts.url);
  const threads = Math.min(2, opts.connections);
  const delayMs = opts.rate ? Math.max(0, Math.round((opts.connections / opts.rate) * 1000)) : 0;
  const out = await run("wrk", [
    `-t${threads}`,
    `-c${opts.connections}`,
    `-d${opts.seconds}s`,
    "--timeout",
    "10s",
    "-s",
    LUA,
    origin,
  ], {
    BENCH_REQUESTS: opts.requestsFile,
    BENCH_PREFIX: pathname.replace(/\/$/, ""),
    BENCH_DELAY_MS: String(delayMs),
    BENCH_THREADS: String(threads),
    BENCH_RUN: opts.runTag,
  });
  const line = out.split("\n").find((l) => l.startsWith("BENCH_JSON "));
  if (!line) throw new Error(`wrk printed no result:\n${out}`);
  const r = JSON.parse(line.slice("BENCH_JSON ".length));
  const ms = (us: number) => us / 1000;
  return {
    offered: opts.rate,
    connections: opts.connections,
    throughput: r.requests / (r.duration_us / 1e6),
    p50: ms(r.p50_us),
    p90: ms(r.p90_us),
    p99: ms(r.p99_us),
    max: ms(r.max_us),
    errors: r.connect + r.read + r.write + r.status + r.timeout,
    requests: r.requests,
    wrapped: r.wrapped,
  };
}
