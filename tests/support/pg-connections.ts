/**
 * How many server connections some processes hold, as Postgres sees them
 * (pg_stat_activity), matched to the processes by their sockets' local ports
 * (/proc/<pid>/fd and /proc/net/tcp), so other clients of the same cluster
 * (the shared functions server, other tests) do not count.
 */
import { testSql } from "./stack.ts";

/** The local TCP ports of `pid`'s open sockets. */
async function localPorts(pid: number): Promise<Set<number>> {
  const inodes = new Set<string>();
  for await (const entry of Deno.readDir(`/proc/${pid}/fd`)) {
    try {
      const target = await Deno.readLink(`/proc/${pid}/fd/${entry.name}`);
      const m = /^socket:\[(\d+)\]$/.exec(target);
      if (m) inodes.add(m[1]);
    } catch { /* closed meanwhile */ }
  }
  const ports = new Set<number>();
  for (const table of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    const text = await Deno.readTextFile(table).catch(() => "");
    for (const line of text.split("\n").slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols.length > 9 && inodes.has(cols[9])) {
        ports.add(parseInt(cols[1].split(":").pop()!, 16));
      }
    }
  }
  return ports;
}

/** Server connections held by `pids` now, by state (active, idle, idle in transaction…). */
export async function serverConnections(
  pids: number[],
): Promise<{ total: number; byState: Record<string, number> }> {
  const ports = new Set<number>();
  for (const pid of pids) for (const p of await localPorts(pid)) ports.add(p);
  const sql = testSql({ max: 1, connect_timeout: 3 });
  try {
    const rows = await sql`select coalesce(state, 'unknown') as state, client_port
                             from pg_stat_activity where client_port is not null`;
    const byState: Record<string, number> = {};
    let total = 0;
    for (const r of rows) {
      if (!ports.has(r.client_port as number)) continue;
      total++;
      byState[r.state as string] = (byState[r.state as string] ?? 0) + 1;
    }
    return { total, byState };
  } finally {
    await sql.end({ timeout: 1 });
  }
}
