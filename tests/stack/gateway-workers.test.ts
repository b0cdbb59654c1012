/**
 * A function process never outlives its gateway: however the gateway goes
 * (SIGKILL runs no clean-up), its function processes exit with it. Stray
 * workers used to keep ports, memory and inherited file descriptors (the
 * machine's benchmark lock among them) after a test killed its gateway.
 */
import assert from "node:assert/strict";
import { spawnGateway } from "../../scripts/lib/gateway-process.ts";
import { freePort } from "../../scripts/lib/function-workers.ts";
import { testDbUrl } from "../support/stack.ts";

function childrenOf(pid: number): number[] {
  const children: number[] = [];
  for (const entry of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    try {
      const stat = Deno.readTextFileSync(`/proc/${entry.name}/stat`);
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (ppid === pid) children.push(Number(entry.name));
    } catch { /* gone meanwhile */ }
  }
  return children;
}

const alive = (pid: number) => {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
  } catch {
    return false;
  }
};

Deno.test("gateway: its function processes exit when it is killed with SIGKILL", async () => {
  const port = freePort();
  const gateway = spawnGateway({ port, dbUrl: testDbUrl() });
  try {
    // Any answer starts the function's process (a GET gets 405 from voice-status).
    for (let i = 0;; i++) {
      try {
        const res = await fetch(`http://127.0.0.1:${port}/functions/v1/voice-fallback`);
        await res.body?.cancel();
        break;
      } catch (error) {
        if (i > 300) throw error;
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    const workers = childrenOf(gateway.pid);
    assert.ok(workers.length >= 1, "the gateway started a function process");
    gateway.kill("SIGKILL");
    await gateway.status;
    const deadline = Date.now() + 5_000;
    while (workers.some(alive) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.deepEqual(workers.filter(alive), [], "no function process outlived its gateway");
  } finally {
    try {
      gateway.kill("SIGKILL");
    } catch { /* already gone */ }
  }
});
