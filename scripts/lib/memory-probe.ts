/**
 * Runs one function's index.ts unchanged (MEMORY_PROBE_ENTRY) and, on
 * SIGUSR2, forces a full garbage collection and prints one line,
 * `memory-probe {"heapUsed", "heapTotal", "external", "rss"}` (bytes, after
 * the collection), to stdout. Run with `--v8-flags=--expose-gc`
 * (FunctionWorkers' `memoryProbe`).
 *
 * Why: a process's resident set grows while V8 sizes its heap for the load
 * (its young generation alone grows from 2 to about 52 MiB under a high
 * allocation rate) and keeps that memory, so the resident set cannot tell a
 * leak from heap sizing. What survives a full collection can: a leak keeps
 * it growing, heap sizing does not. See docs/reliability.md, "Memory".
 */
const entry = Deno.env.get("MEMORY_PROBE_ENTRY");
if (!entry) throw new Error("MEMORY_PROBE_ENTRY: the function's index.ts is required");
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error("run with --v8-flags=--expose-gc");

Deno.addSignalListener("SIGUSR2", () => {
  gc();
  const { heapUsed, heapTotal, external, rss } = Deno.memoryUsage();
  console.log(`memory-probe ${JSON.stringify({ heapUsed, heapTotal, external, rss })}`);
});

await import(new URL(entry, `file://${Deno.cwd()}/`).href);
