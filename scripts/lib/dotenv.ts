/**
 * Reads a dotenv file the way the Supabase CLI does for `--env-file`:
 * KEY=VALUE lines, `#` comments, optional single or double quotes.
 */

/** A line the reader cannot take, named by file and line number. */
export class DotenvError extends Error {
  constructor(readonly source: string, readonly line: number, detail: string) {
    super(`${source} line ${line}: ${detail}`);
    this.name = "DotenvError";
  }
}

/** Parses dotenv text; `source` names the file in errors (the line's value is never echoed). */
export function parseDotenv(text: string, source = "env file"): Record<string, string> {
  const out: Record<string, string> = {};
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = raw.trim();
    if (!line || line.startsWith("#")) return;
    const match = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/.exec(line);
    if (!match) {
      // The name only, if there is one: the value may be a secret.
      const name = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)/.exec(line)?.[1];
      throw new DotenvError(
        source,
        index + 1,
        name ? `expected ${name}=value` : "expected NAME=value (or a # comment)",
      );
    }
    let value = match[2];
    const quoted = /^(["'])(.*)\1$/.exec(value);
    if (quoted) value = quoted[2];
    else value = value.replace(/\s+#.*$/, "");
    out[match[1]] = value;
  });
  return out;
}

/** Reads and parses one env file, naming it (relative to `root` when given) in errors. */
export async function readDotenvFile(
  path: string,
  root?: string,
): Promise<Record<string, string>> {
  const name = root && path.startsWith(root + "/") ? path.slice(root.length + 1) : path;
  return parseDotenv(await Deno.readTextFile(path), name);
}

/** The functions' env file: `.env` when present, else the committed `.env.example`. */
export async function readFunctionsEnv(
  functionsDir: string,
  root?: string,
): Promise<{ path: string; env: Record<string, string> }> {
  for (const name of [".env", ".env.example"]) {
    const path = `${functionsDir}/${name}`;
    try {
      return { path, env: await readDotenvFile(path, root) };
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
  }
  return { path: "(none)", env: {} };
}
