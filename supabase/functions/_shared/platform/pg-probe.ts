/**
 * A one-query Postgres client over `Deno.connect`, for the few answers that
 * wait on the database before the driver has been needed: voice-health's
 * check, and an admin API's audit row for a refused request (admin/audit.ts).
 *
 * Why it exists: voice-health answers only after a database check, so its
 * first answer waited for the driver's import, and postgres.js pulls in
 * Deno's Node layer (node:net, tls, crypto, stream): ~35 ms measured, more
 * than a bare Deno.serve's whole start (~30 ms), which kept its cold start
 * above 2× the bare server whatever else was trimmed
 * (bench/cold-start.bench.ts). Deno's own sockets and WebCrypto cost nothing
 * to load.
 *
 * What it speaks, and no more: the v3 startup message; trust and
 * SCRAM-SHA-256 authentication (the server's signature is checked too); one
 * simple-protocol query whose rows come back as text; Terminate. For
 * anything else the caller uses the driver instead: a URL that asks for TLS
 * (`sslmode` other than `disable`: the driver's `require` encrypts without
 * checking the certificate, which Deno's own TLS cannot do), carries other
 * connection parameters or names several hosts (`probeTarget` gives null), or
 * a server that asks for another authentication method (md5, a cleartext password, GSS, SCRAM with
 * channel binding only: `ProbeUnsupported`). Passwords are not
 * SASLprep-normalised, as in postgres.js.
 */
import { APPLICATION_NAME, DeadlineExceeded } from "./db.ts";

/** Where and as whom to connect. */
export interface ProbeTarget {
  hostname: string;
  port: number;
  user: string;
  password: string;
  database: string;
}

/** The probe does not speak what this server or URL needs; use the driver. */
export class ProbeUnsupported extends Error {
  override name = "ProbeUnsupported";
}

/** The server's ErrorResponse: `code` is the SQLSTATE. */
export class ProbeServerError extends Error {
  override name = "ProbeServerError";
  constructor(readonly code: string, message: string) {
    super(`${message} (SQLSTATE ${code})`);
  }
}

/** The target a database URL names, or null when the probe must leave it to the driver. */
export function probeTarget(databaseUrl: string): ProbeTarget | null {
  let url: URL;
  try {
    url = new URL(databaseUrl);
  } catch {
    return null;
  }
  if (!/^postgres(ql)?:$/.test(url.protocol) || !url.hostname || url.hostname.includes(",")) {
    return null;
  }
  for (const [key, value] of url.searchParams) {
    if (key !== "sslmode" || value !== "disable") return null;
  }
  const user = decodeURIComponent(url.username);
  if (!user) return null;
  return {
    hostname: url.hostname.replace(/^\[(.*)\]$/, "$1"),
    port: Number(url.port || 5432),
    user,
    password: decodeURIComponent(url.password),
    database: decodeURIComponent(url.pathname.slice(1)) || user,
  };
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A frontend message: type byte (none for the startup message), length, body. */
function message(type: string, ...body: (string | Uint8Array)[]): Uint8Array {
  const parts = body.map((p) => typeof p === "string" ? encoder.encode(p) : p);
  const size = parts.reduce((n, p) => n + p.length, 0) + 4;
  const out = new Uint8Array(type.length + size);
  if (type) out[0] = type.charCodeAt(0);
  new DataView(out.buffer).setInt32(type.length, size);
  let at = type.length + 4;
  for (const p of parts) out.set(p, at), at += p.length;
  return out;
}

const int32 = (n: number) => {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setInt32(0, n);
  return out;
};

async function send(conn: Deno.Conn, data: Uint8Array): Promise<void> {
  for (let at = 0; at < data.length;) at += await conn.write(data.subarray(at));
}

/** Backend messages off one connection, whole. */
class Backend {
  #buffer = new Uint8Array(0);
  constructor(private readonly conn: Deno.Conn) {}

  async next(): Promise<{ type: string; body: Uint8Array }> {
    for (;;) {
      if (this.#buffer.length >= 5) {
        const size = new DataView(this.#buffer.buffer, this.#buffer.byteOffset).getInt32(1);
        if (this.#buffer.length >= 1 + size) {
          const type = String.fromCharCode(this.#buffer[0]);
          const body = this.#buffer.slice(5, 1 + size);
          this.#buffer = this.#buffer.subarray(1 + size);
          if (type === "E") throw serverError(body);
          return { type, body };
        }
      }
      const chunk = new Uint8Array(16 * 1024);
      const n = await this.conn.read(chunk);
      if (n === null) throw new Error("the server closed the connection");
      const joined = new Uint8Array(this.#buffer.length + n);
      joined.set(this.#buffer);
      joined.set(chunk.subarray(0, n), this.#buffer.length);
      this.#buffer = joined;
    }
  }
}

function serverError(body: Uint8Array): ProbeServerError {
  const fields = new Map<string, string>();
  for (let at = 0; at < body.length && body[at] !== 0;) {
    const end = body.indexOf(0, at + 1);
    fields.set(String.fromCharCode(body[at]), decoder.decode(body.subarray(at + 1, end)));
    at = end + 1;
  }
  return new ProbeServerError(fields.get("C") ?? "XX000", fields.get("M") ?? "server error");
}

const bytes = (b64: string) => Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
const base64 = (data: Uint8Array) => btoa(String.fromCharCode(...data));

async function hmac(key: Uint8Array<ArrayBuffer>, text: string): Promise<Uint8Array<ArrayBuffer>> {
  const k = await crypto.subtle.importKey("raw", key, { name: "HMAC", hash: "SHA-256" }, false, [
    "sign",
  ]);
  return new Uint8Array(await crypto.subtle.sign("HMAC", k, encoder.encode(text)));
}

/** SCRAM-SHA-256 (RFC 5802, RFC 7677) as Postgres runs it: the user name goes in the startup message. */
async function scram(conn: Deno.Conn, backend: Backend, password: string): Promise<void> {
  const nonce = base64(crypto.getRandomValues(new Uint8Array(18)));
  const clientFirstBare = `n=*,r=${nonce}`;
  const first = encoder.encode(`n,,${clientFirstBare}`);
  await send(conn, message("p", "SCRAM-SHA-256\0", int32(first.length), first));

  const serverFirst = decoder.decode((await expectAuth(backend, 11)).subarray(4));
  const attrs = new Map(serverFirst.split(",").map((kv) => [kv[0], kv.slice(2)]));
  const serverNonce = attrs.get("r") ?? "";
  const iterations = Number(attrs.get("i"));
  if (!serverNonce.startsWith(nonce) || !attrs.get("s") || !(iterations > 0)) {
    throw new Error("malformed SCRAM server-first message");
  }
  const salted = new Uint8Array(
    await crypto.subtle.deriveBits(
      { name: "PBKDF2", hash: "SHA-256", salt: bytes(attrs.get("s")!), iterations },
      await crypto.subtle.importKey("raw", encoder.encode(password), "PBKDF2", false, [
        "deriveBits",
      ]),
      256,
    ),
  );
  const clientKey = await hmac(salted, "Client Key");
  const storedKey = new Uint8Array(await crypto.subtle.digest("SHA-256", clientKey));
  const withoutProof = `c=biws,r=${serverNonce}`;
  const authMessage = `${clientFirstBare},${serverFirst},${withoutProof}`;
  const signature = await hmac(storedKey, authMessage);
  const proof = clientKey.map((b, i) => b ^ signature[i]);
  await send(conn, message("p", `${withoutProof},p=${base64(proof)}`));

  // Mutual authentication: a server that does not know the password cannot sign.
  const serverFinal = decoder.decode((await expectAuth(backend, 12)).subarray(4));
  const expected = base64(await hmac(await hmac(salted, "Server Key"), authMessage));
  if (serverFinal !== `v=${expected}`) throw new Error("the server's SCRAM signature is wrong");
}

/** The next message must be Authentication with this code; returns its body. */
async function expectAuth(backend: Backend, code: number): Promise<Uint8Array> {
  const { type, body } = await backend.next();
  const got = type === "R" ? new DataView(body.buffer).getInt32(0) : -1;
  if (got !== code) throw new Error(`expected authentication step ${code}, got ${type}/${got}`);
  return body;
}

async function authenticate(conn: Deno.Conn, backend: Backend, target: ProbeTarget) {
  for (;;) {
    const { type, body } = await backend.next();
    if (type !== "R") throw new Error(`expected authentication, got ${type}`);
    const code = new DataView(body.buffer).getInt32(0);
    if (code === 0) return; // AuthenticationOk (trust, or after SCRAM)
    if (code !== 10) throw new ProbeUnsupported(`authentication method ${code}`);
    const mechanisms = decoder.decode(body.subarray(4)).split("\0");
    if (!mechanisms.includes("SCRAM-SHA-256")) {
      throw new ProbeUnsupported(`SASL mechanisms ${mechanisms.filter(Boolean).join(" ")}`);
    }
    await scram(conn, backend, target.password);
  }
}

/** Connects, authenticates, runs `query` (simple protocol), closes; the rows as text. */
async function run(conn: Deno.Conn, target: ProbeTarget, query: string) {
  const backend = new Backend(conn);
  await send(
    conn,
    message(
      "",
      int32(196608), // protocol 3.0
      `user\0${target.user}\0database\0${target.database}\0`,
      // As the driver sends them (postgres.js: client_encoding, application_name).
      `client_encoding\0UTF8\0application_name\0${APPLICATION_NAME}\0\0`,
    ),
  );
  await authenticate(conn, backend, target);
  while ((await backend.next()).type !== "Z"); // ParameterStatus, BackendKeyData, ReadyForQuery
  await send(conn, message("Q", query, "\0"));
  const rows: (string | null)[][] = [];
  for (;;) {
    const { type, body } = await backend.next();
    if (type === "Z") break;
    if (type !== "D") continue; // RowDescription, CommandComplete, notices
    const view = new DataView(body.buffer);
    const row: (string | null)[] = [];
    for (let i = 0, at = 2; i < view.getInt16(0); i++) {
      const size = view.getInt32(at);
      row.push(size < 0 ? null : decoder.decode(body.subarray(at + 4, at + 4 + size)));
      at += 4 + Math.max(size, 0);
    }
    rows.push(row);
  }
  await send(conn, message("X")).catch(() => {}); // Terminate: a polite close
  return rows;
}

/**
 * Runs one query on a connection of its own, within `deadlineMs` from
 * connect to last row (then `DeadlineExceeded`, the connection closed).
 * Rejects with `ProbeUnsupported` when the server wants what the probe does
 * not speak, `ProbeServerError` when it refuses, or the socket's error.
 */
export async function probeQuery(
  target: ProbeTarget,
  query: string,
  opts: { deadlineMs: number },
): Promise<(string | null)[][]> {
  let conn: Deno.Conn | undefined;
  let over = false;
  // Not setTimeout: Deno loads its timers on their first use, ~5 ms of a
  // cold start (measured, Deno 2.9), and this query is often the isolate's
  // first timed work. AbortSignal.timeout's timer costs nothing to load.
  const signal = AbortSignal.timeout(opts.deadlineMs);
  let onAbort = () => {};
  const deadline = new Promise<never>((_, reject) => {
    onAbort = () => reject(new DeadlineExceeded(opts.deadlineMs));
    signal.addEventListener("abort", onAbort, { once: true });
  });
  const work = (async () => {
    const opened = await Deno.connect({ hostname: target.hostname, port: target.port });
    if (over) opened.close(); // connected after the deadline: nobody waits for it
    conn = opened;
    return await run(opened, target, query);
  })();
  work.catch(() => {}); // after the deadline, its failure (a closed socket) is nobody's
  try {
    return await Promise.race([work, deadline]);
  } finally {
    over = true;
    signal.removeEventListener("abort", onAbort);
    try {
      conn?.close();
    } catch { /* already closed */ }
  }
}

/**
 * `query` over the probe, or null when the probe cannot run it (the URL or the
 * server needs what only the driver speaks): the caller then uses the driver.
 * Any other failure (refused, too slow, an SQL error) is thrown as it is.
 */
export async function queryOverProbe(
  databaseUrl: string,
  query: string,
  opts: { deadlineMs: number },
): Promise<(string | null)[][] | null> {
  const target = probeTarget(databaseUrl);
  if (!target) return null;
  try {
    return await probeQuery(target, query, opts);
  } catch (e) {
    if (!(e instanceof ProbeUnsupported)) throw e;
    console.log(JSON.stringify({
      level: "info",
      msg: "database: the probe cannot connect here, the driver will",
      reason: e.message,
    }));
    return null;
  }
}
