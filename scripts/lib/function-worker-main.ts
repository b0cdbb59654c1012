/**
 * A function process started by the local gateway (function-workers.ts): it
 * runs the function given as its argument, and ends when the gateway ends.
 *
 * The gateway holds this process's stdin. However the gateway goes (SIGKILL
 * and crashes included, which run no clean-up), the pipe closes and this
 * process exits. Without it, a gateway killed by a test or a timeout left its
 * function processes running with the parent's inherited file descriptors:
 * they kept ports, memory and even the machine's benchmark lock (flock) held.
 */
const entry = Deno.args[0];
if (!entry?.startsWith("/")) {
  throw new Error("usage: function-worker-main.ts <absolute path of index.ts>");
}

(async () => {
  try {
    for await (const _ of Deno.stdin.readable) {
      // Nothing is sent; the stream only ends.
    }
  } finally {
    Deno.exit(0);
  }
})();

await import(`file://${entry}`);
