/** Server processes under test: started with the edge runtime's permissions, read from /proc. */
import { freePort, functionRunArgs, runtimeEnv } from "../../scripts/lib/function-workers.ts";

const ROOT = new URL("../..", import.meta.url).pathname.replace(/\/$/, "");

export interface ServerProcess {
  port: number;
  pid: number;
  stop(): Promise<void>;
}

/** Starts `entry` (a function's index.ts or a fixture) on a free port; resolves once it listens. */
export async function startServer(
  entry: string,
  env: Record<string, string>,
): Promise<ServerProcess> {
  const port = freePort();
  const child = new Deno.Command(Deno.execPath(), {
    args: functionRunArgs(`${ROOT}/deno.json`, entry),
    env: { ...runtimeEnv(), ...env, DENO_SERVE_ADDRESS: `tcp:127.0.0.1:${port}` },
    clearEnv: true,
    stdin: "null",
    stdout: "null",
    stderr: "inherit",
  }).spawn();
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      (await Deno.connect({ hostname: "127.0.0.1", port })).close();
      break;
    } catch {
      if (Date.now() > deadline) throw new Error(`${entry} did not listen within 30 s`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }
  return {
    port,
    pid: child.pid,
    async stop() {
      try {
        child.kill("SIGTERM");
      } catch { /* already gone */ }
      await child.status;
    },
  };
}

/** Resident memory of a process, in MiB (VmRSS). */
export function residentMiB(pid: number): number {
  const kib = /^VmRSS:\s+(\d+) kB$/m.exec(Deno.readTextFileSync(`/proc/${pid}/status`));
  if (!kib) throw new Error(`no VmRSS for process ${pid}`);
  return Number(kib[1]) / 1024;
}

/** CPU time (user + system) a process has used so far, in milliseconds. */
export function cpuMs(pid: number): number {
  const fields = statFields(pid);
  const ticks = Number(fields[11]) + Number(fields[12]); // utime, stime
  return ticks * 10; // USER_HZ is 100 on Linux
}

/** /proc/PID/stat from field 3 on (state, ppid, …): the command name may hold spaces. */
function statFields(pid: number): string[] {
  const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
  return stat.slice(stat.lastIndexOf(")") + 2).split(" ");
}

/**
 * CPU time (user + system) of a Postgres cluster so far, in ms: its postmaster,
 * the children it has reaped (a backend that exits during a run keeps
 * counting, in the postmaster's cutime/cstime) and every live child.
 */
export function clusterCpuMs(postmasterPid: number): number {
  const fields = statFields(postmasterPid);
  let ticks = Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14]);
  for (const entry of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    try {
      const child = statFields(Number(entry.name));
      if (Number(child[1]) === postmasterPid) ticks += Number(child[11]) + Number(child[12]);
    } catch { /* the process ended while we looked */ }
  }
  return ticks * 10; // USER_HZ is 100 on Linux
}

/** CPU time every process on the machine has used so far (user, nice, system, irq, softirq), in ms. */
export function machineCpuMs(): number {
  const ticks = Deno.readTextFileSync("/proc/stat").split("\n")[0].trim().split(/\s+/).slice(1)
    .map(Number);
  return (ticks[0] + ticks[1] + ticks[2] + ticks[5] + ticks[6]) * 10;
}

/** Runs a command and returns its stdout; throws with its stderr when it fails. */
export async function run(cmd: string, args: string[], env: Record<string, string> = {}) {
  const out = await new Deno.Command(cmd, { args, env, stdout: "piped", stderr: "piped" }).output();
  const text = new TextDecoder().decode(out.stdout);
  if (!out.success) {
    throw new Error(`${cmd} ${args.join(" ")} failed: ${new TextDecoder().decode(out.stderr)}`);
  }
  return text;
}
