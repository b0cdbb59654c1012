/**
 * One Deno process per edge function, started on its first request (a cold
 * start, as the edge runtime does) and restarted after it exits. Each process
 * runs the function's own `index.ts` unchanged: `Deno.serve` binds to the
 * address in DENO_SERVE_ADDRESS.
 */
export interface WorkerOptions {
  deno: string;
  functionsDir: string;
  configPath: string;
  env: Record<string, string>;
  /**
   * Receives each function's stdout and stderr text instead of this process's
   * own streams inheriting them (tests read a function's log lines this way).
   */
  onOutput?: (slug: string, text: string) => void;
  /**
   * Runs each function under memory-probe.ts (with --expose-gc): SIGUSR2 then
   * prints its memory after a full garbage collection (tests read it).
   */
  memoryProbe?: boolean;
}

/**
 * What a function process needs from ours besides its configuration: where
 * Deno keeps its cache, and the machine's TLS and proxy settings (a custom CA
 * bundle, say), without which fetching an uncached npm package fails.
 */
export function runtimeEnv(): Record<string, string> {
  const names = [
    "PATH",
    "HOME",
    "DENO_DIR",
    "DENO_CERT",
    "DENO_TLS_CA_STORE",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "NO_PROXY",
    "NPM_CONFIG_REGISTRY",
  ];
  const env: Record<string, string> = {};
  for (const name of names) {
    const value = Deno.env.get(name) ?? Deno.env.get(name.toLowerCase());
    if (value !== undefined) env[name] = value;
  }
  return env;
}

const WORKER_MAIN = new URL("./function-worker-main.ts", import.meta.url).pathname;
const MEMORY_PROBE = new URL("./memory-probe.ts", import.meta.url).pathname;

/**
 * V8's young generation held at 2 MiB per semi-space. Left to itself, V8
 * grows it under steady load from 1 to 16 MiB per semi-space and keeps it:
 * a function process's resident size rose ~85 → ~150 MiB over four minutes at
 * 150 requests/s with the heap left after a full GC flat at ~11 MiB (growth,
 * not a leak). Held here, it stayed at 81 → 84 MiB, with no throughput lost
 * at saturation (docs/benchmarks.md, "Memory"). An edge worker lives under a
 * memory cap, so a footprint that does not drift is the one to test against.
 */
export const FUNCTION_V8_FLAGS = ["--max-semi-space-size=2"];

/** `deno run` arguments for one function: the permissions the edge runtime grants, no more. */
export function functionRunArgs(
  configPath: string,
  entry: string,
  v8Flags: string[] = [],
): string[] {
  return [
    "run",
    `--v8-flags=${[...FUNCTION_V8_FLAGS, ...v8Flags].join(",")}`,
    "--allow-net",
    "--allow-env",
    "--allow-read",
    "--allow-sys",
    `--config=${configPath}`,
    entry,
  ];
}

interface Worker {
  port: number;
  child: Deno.ChildProcess;
}

/** A port nothing listens on right now (the OS picks it). */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

async function waitForPort(port: number, child: Deno.ChildProcess, slug: string): Promise<void> {
  let exited = false;
  child.status.then(() => (exited = true));
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (exited) throw new Error(`function ${slug} exited during start (see its log above)`);
    try {
      (await Deno.connect({ hostname: "127.0.0.1", port })).close();
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 10));
    }
  }
  throw new Error(`function ${slug} did not listen within 30 s`);
}

export class FunctionWorkers {
  #workers = new Map<string, Promise<Worker>>();
  constructor(private readonly opts: WorkerOptions) {}

  /** The port of the slug's running process, starting it when needed. */
  portFor(slug: string): Promise<number> {
    let worker = this.#workers.get(slug);
    if (!worker) {
      worker = this.#start(slug);
      this.#workers.set(slug, worker);
      worker.catch(() => this.#workers.delete(slug));
    }
    return worker.then((w) => w.port);
  }

  /** The process id of the slug's running process, starting it when needed. */
  async pidFor(slug: string): Promise<number> {
    await this.portFor(slug);
    return (await this.#workers.get(slug)!).child.pid;
  }

  async #start(slug: string): Promise<Worker> {
    const port = freePort();
    const entry = `${this.opts.functionsDir}/${slug}/index.ts`;
    const probe = this.opts.memoryProbe
      ? { MEMORY_PROBE_ENTRY: entry }
      : ({} as Record<string, string>);
    const child = new Deno.Command(this.opts.deno, {
      // The function runs under a launcher that exits when our pipe to it
      // closes, so no function process outlives its gateway; the memory
      // probe, when asked for, runs the function inside it.
      args: [
        ...functionRunArgs(
          this.opts.configPath,
          WORKER_MAIN,
          this.opts.memoryProbe ? ["--expose-gc"] : [],
        ),
        this.opts.memoryProbe ? MEMORY_PROBE : entry,
      ],
      env: {
        ...this.opts.env,
        ...probe,
        DENO_SERVE_ADDRESS: `tcp:127.0.0.1:${port}`,
        SB_FUNCTION_SLUG: slug,
      },
      clearEnv: true,
      stdin: "piped",
      stdout: this.opts.onOutput ? "piped" : "inherit",
      stderr: this.opts.onOutput ? "piped" : "inherit",
    }).spawn();
    if (this.opts.onOutput) {
      for (const stream of [child.stdout, child.stderr]) {
        stream.pipeThrough(new TextDecoderStream()).pipeTo(
          new WritableStream({ write: (text) => this.opts.onOutput!(slug, text) }),
        ).catch(() => {});
      }
    }
    child.status.then(() => this.#workers.delete(slug));
    await waitForPort(port, child, slug);
    return { port, child };
  }

  async stopAll(): Promise<void> {
    const workers = await Promise.allSettled(this.#workers.values());
    this.#workers.clear();
    for (const w of workers) {
      if (w.status !== "fulfilled") continue;
      try {
        w.value.child.kill("SIGTERM");
      } catch { /* already gone */ }
      await w.value.child.status;
    }
  }
}
