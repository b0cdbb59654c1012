/**
 * Databases that fail the two ways production ones do: refused (stopped) and
 * hanging (accepts the connection, never answers — a stuck server or network).
 */
import { freePort } from "../../scripts/lib/function-workers.ts";

const urlFor = (port: number) => `postgresql://postgres:postgres@127.0.0.1:${port}/postgres`;

/** A database URL on which nothing listens: connections are refused. */
export function stoppedDatabaseUrl(): string {
  return urlFor(freePort());
}

/** A database that accepts connections and never says a word; close it after the test. */
export function hangingDatabase(): { url: string; close(): void } {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const held: Deno.Conn[] = [];
  (async () => {
    for await (const conn of listener) held.push(conn);
  })();
  return {
    url: urlFor((listener.addr as Deno.NetAddr).port),
    close() {
      listener.close();
      for (const conn of held) conn.close();
    },
  };
}
