/**
 * Bodies are read as a stream with a byte cap, before the signature check: a
 * 200 MB chunked upload (no Content-Length to refuse up front) is refused
 * after the cap, and neither the function's process nor the local gateway
 * holds it in memory. Memory is the process's resident set (VmRSS), sampled
 * while the upload runs.
 */
import { spawnGateway } from "../../scripts/lib/gateway-process.ts";
import assert from "node:assert/strict";
import { exampleEnv, residentBytes, startFunction } from "../support/function-process.ts";
import { stoppedDatabaseUrl } from "../support/broken-database.ts";
import { freePort } from "../../scripts/lib/function-workers.ts";

const UPLOAD_BYTES = 200 * 1024 * 1024;
const CHUNK = new TextEncoder().encode("a=" + "x".repeat(64 * 1024 - 2));
/** Generous: the cap is 64 KiB; today's whole-body read grows by the upload's size. */
const MAX_GROWTH_BYTES = 48 * 1024 * 1024;
/** What the client can push before the refusal reaches it: socket buffers, a few MiB. */
const MAX_SENT_BYTES = 16 * 1024 * 1024;

/** Posts `bytes` of form body in chunks, produced only as fast as the server reads them. */
async function chunkedUpload(url: string, bytes: number) {
  let pulled = 0;
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (pulled >= bytes) return controller.close();
      pulled += CHUNK.byteLength;
      controller.enqueue(CHUNK);
    },
  });
  let status: number | "connection closed";
  try {
    const res = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body,
    });
    status = res.status;
    await res.body?.cancel();
  } catch {
    // The server may close the connection once it has answered, mid-upload.
    status = "connection closed";
  }
  return { status, pulled };
}

/** The largest resident set of `pids` (summed) while `work` runs, minus the one before. */
async function peakGrowth<T>(pids: number[], work: () => Promise<T>) {
  const rss = async () => (await Promise.all(pids.map(residentBytes))).reduce((a, b) => a + b);
  const before = await rss();
  let peak = before;
  let running = true;
  const sampler = (async () => {
    while (running) {
      peak = Math.max(peak, await rss());
      await new Promise((r) => setTimeout(r, 10));
    }
  })();
  const result = await work();
  running = false;
  await sampler;
  peak = Math.max(peak, await rss());
  return { growth: peak - before, result };
}

const mib = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MiB`;

/**
 * Runs `upload` against a warm voice-frontdoor process (its own start-up not
 * counted) and holds it to the cap: the process does not grow with the
 * upload, and the client cannot push much past the cap before being stopped.
 */
async function assertCappedUpload<T extends { pulled: number }>(
  upload: (fn: { url: string }) => Promise<T>,
): Promise<T> {
  const fn = await startFunction("voice-frontdoor", {
    ...exampleEnv(),
    SUPABASE_DB_URL: stoppedDatabaseUrl(),
  });
  try {
    const warm = await fetch(fn.url, { method: "POST", body: "" });
    await warm.body?.cancel();
    const { growth, result } = await peakGrowth([fn.pid], () => upload(fn));
    console.log(`function: rss growth ${mib(growth)}, client sent ${mib(result.pulled)}`);
    assert.ok(growth < MAX_GROWTH_BYTES, `the process grew by ${mib(growth)}`);
    assert.ok(result.pulled < MAX_SENT_BYTES, `the upload went on for ${mib(result.pulled)}`);
    return result;
  } finally {
    await fn.stop();
  }
}

Deno.test("body cap: a 200 MB chunked body is refused without the function's process growing", async () => {
  const result = await assertCappedUpload((fn) => chunkedUpload(fn.url, UPLOAD_BYTES));
  assert.ok(
    result.status === 413 || result.status === "connection closed",
    `answered ${result.status}`,
  );
});

/**
 * Posts `bytes` of chunked body over a raw connection whose headers also
 * declare a small Content-Length (HTTP/1.1 says chunked wins): the body must
 * still be capped as it streams, not trusted to be as short as declared.
 */
async function chunkedUploadDeclaringLength(port: number, bytes: number) {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const enc = new TextEncoder();
  const chunk = enc.encode(`${CHUNK.byteLength.toString(16)}\r\n`);
  const frame = new Uint8Array(chunk.byteLength + CHUNK.byteLength + 2);
  frame.set(chunk);
  frame.set(CHUNK, chunk.byteLength);
  frame.set(enc.encode("\r\n"), chunk.byteLength + CHUNK.byteLength);
  let sent = 0;
  try {
    await conn.write(enc.encode(
      "POST /voice-frontdoor HTTP/1.1\r\nHost: 127.0.0.1\r\n" +
        "Content-Type: application/x-www-form-urlencoded\r\n" +
        "Content-Length: 10\r\nTransfer-Encoding: chunked\r\n\r\n",
    ));
    while (sent < bytes) {
      await conn.write(frame);
      sent += CHUNK.byteLength;
    }
  } catch {
    // The server answered and closed the connection mid-upload.
  } finally {
    conn.close();
  }
  return { pulled: sent };
}

Deno.test("body cap: a chunked body that also declares a small Content-Length is capped as it streams", async () => {
  await assertCappedUpload((fn) =>
    chunkedUploadDeclaringLength(Number(new URL(fn.url).port), UPLOAD_BYTES)
  );
});

Deno.test("body cap: the local gateway stops reading an upload the function has already answered", async () => {
  const port = freePort();
  const gateway = spawnGateway({ port, dbUrl: stoppedDatabaseUrl() });
  try {
    // voice-health answers a POST with 405 at once, without reading the body:
    // what happens to the rest of the upload is then the gateway's doing alone.
    const url = `http://127.0.0.1:${port}/functions/v1/voice-health`;
    for (let i = 0; i < 200; i++) {
      try {
        const warm = await fetch(url, { method: "POST", body: "" });
        await warm.body?.cancel();
        break;
      } catch {
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    const { growth, result } = await peakGrowth(
      [gateway.pid],
      () => chunkedUpload(url, UPLOAD_BYTES),
    );
    console.log(`gateway: rss growth ${mib(growth)}, client produced ${mib(result.pulled)}`);
    assert.ok(growth < MAX_GROWTH_BYTES, `the gateway grew by ${mib(growth)}`);
    assert.ok(result.pulled < MAX_SENT_BYTES, `the upload went on for ${mib(result.pulled)}`);
    assert.ok(
      result.status === 405 || result.status === "connection closed",
      `answered ${result.status}`,
    );
  } finally {
    gateway.kill("SIGTERM");
    await gateway.status;
  }
});
