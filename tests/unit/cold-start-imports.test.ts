/**
 * What each function loads before its first answer: its static module graph.
 * No npm package and no `node:` module in it. Either costs a large share of
 * the cold-start budget (2× a bare Deno.serve, bench/cold-start.bench.ts):
 * zod's import alone was ~20 ms, the Postgres driver with Deno's Node layer
 * (node:net, tls, crypto, stream) ~35 ms, against ~30 ms for the bare
 * server's whole start. The driver is imported dynamically, on first database
 * work (platform/db.ts).
 */
import assert from "node:assert/strict";

const ROOT = new URL("../../", import.meta.url);
const FUNCTIONS = new URL("supabase/functions/", ROOT);

interface Dependency {
  code?: { specifier: string };
  isDynamic?: boolean;
}
interface ModuleInfo {
  specifier: string;
  dependencies?: Dependency[];
}

/** The specifiers an entry point loads before any of its code runs: static imports, followed. */
async function staticGraph(entry: URL): Promise<string[]> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", `--config=${new URL("deno.json", ROOT).pathname}`, entry.pathname],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.ok(out.success, new TextDecoder().decode(out.stderr));
  const info = JSON.parse(new TextDecoder().decode(out.stdout)) as {
    roots: string[];
    modules: ModuleInfo[];
  };
  const bySpecifier = new Map(info.modules.map((m) => [m.specifier, m]));
  const seen = new Set<string>();
  const walk = (specifier: string) => {
    if (seen.has(specifier)) return;
    seen.add(specifier);
    for (const dep of bySpecifier.get(specifier)?.dependencies ?? []) {
      if (dep.code && !dep.isDynamic) walk(dep.code.specifier);
    }
  };
  walk(info.roots[0]);
  return [...seen];
}

const slugs = [...Deno.readDirSync(FUNCTIONS)]
  .filter((e) => e.isDirectory && !e.name.startsWith("_"))
  .map((e) => e.name)
  .sort();

for (const slug of slugs) {
  Deno.test(`cold start: ${slug} loads no npm package and no node: module at start`, async () => {
    const graph = await staticGraph(new URL(`${slug}/index.ts`, FUNCTIONS));
    const heavy = graph.filter((s) => s.startsWith("npm:") || s.startsWith("node:"));
    assert.deepEqual(heavy, [], `${slug} loads ${heavy.join(", ")} before its first answer`);
  });
}
