/**
 * Reads a dotenv file the way the Supabase CLI does for `--env-file`:
 * KEY=VALUE lines, `#` comments, optional single or double quotes.
 */
export function parseDotenv(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line || line.startsWith("#")) continue;
    const match = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/.exec(line);
    if (!match) throw new Error(`unreadable env line: ${line.slice(0, 40)}`);
    let value = match[2];
    const quoted = /^(["'])(.*)\1$/.exec(value);
    if (quoted) value = quoted[2];
    else value = value.replace(/\s+#.*$/, "");
    out[match[1]] = value;
  }
  return out;
}

/** The functions' env file: `.env` when present, else the committed `.env.example`. */
export async function readFunctionsEnv(
  functionsDir: string,
): Promise<{ path: string; env: Record<string, string> }> {
  for (const name of [".env", ".env.example"]) {
    const path = `${functionsDir}/${name}`;
    try {
      return { path, env: parseDotenv(await Deno.readTextFile(path)) };
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
  }
  return { path: "(none)", env: {} };
}
