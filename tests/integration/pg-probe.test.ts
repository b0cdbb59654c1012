/**
 * voice-health's own Postgres probe (platform/pg-probe.ts) against the real
 * test cluster (SCRAM-SHA-256 over TCP, as Supabase's), and the driver
 * fallback for what the probe does not speak.
 */
import assert from "node:assert/strict";
import { checkDatabase } from "../../supabase/functions/_shared/platform/health.ts";
import { DeadlineExceeded, openDatabase } from "../../supabase/functions/_shared/platform/db.ts";
import {
  probeQuery,
  ProbeServerError,
  probeTarget,
  ProbeUnsupported,
} from "../../supabase/functions/_shared/platform/pg-probe.ts";
import { testDbUrl } from "../support/stack.ts";

const target = () => probeTarget(testDbUrl())!;

Deno.test("pg-probe: SCRAM login and one query against the test cluster", async () => {
  const rows = await probeQuery(
    target(),
    "select 1 as one, null::text as nothing, 'é''x' as text, current_user",
    { deadlineMs: 2_000 },
  );
  assert.deepEqual(rows, [["1", null, "é'x", target().user]]);
  const many = await probeQuery(target(), "select g from generate_series(1, 3) g", {
    deadlineMs: 2_000,
  });
  assert.deepEqual(many, [["1"], ["2"], ["3"]]);
});

Deno.test("pg-probe: a wrong password is the server's refusal, not a hang", async () => {
  // Postgres says 28P01; PgBouncer, between, says 08P01.
  await assert.rejects(
    probeQuery({ ...target(), password: "wrong" }, "select 1", { deadlineMs: 2_000 }),
    (e: unknown) => e instanceof ProbeServerError && ["28P01", "08P01"].includes(e.code),
  );
});

Deno.test("pg-probe: a failing query carries its SQLSTATE", async () => {
  await assert.rejects(
    probeQuery(target(), "select * from no_such_table", { deadlineMs: 2_000 }),
    (e: unknown) => e instanceof ProbeServerError && e.code === "42P01",
  );
});

Deno.test("pg-probe: which URLs it takes, and which it leaves to the driver", () => {
  assert.deepEqual(probeTarget("postgresql://us%40er:p%3Ass@db.example:6543/app"), {
    hostname: "db.example",
    port: 6543,
    user: "us@er",
    password: "p:ss",
    database: "app",
  });
  assert.equal(probeTarget("postgres://u:p@[::1]/")?.hostname, "::1");
  assert.equal(probeTarget("postgres://u:p@h/")?.database, "u");
  assert.equal(probeTarget("postgres://u:p@h/d?sslmode=disable")?.port, 5432);
  for (
    const url of [
      "postgres://u:p@h/d?sslmode=require",
      "postgres://u:p@h/d?sslmode=prefer",
      "postgres://u:p@h/d?options=-c%20search_path%3Dx",
      "postgres://u:p@h1,h2/d",
      "postgres://h/d",
      "not a url",
    ]
  ) assert.equal(probeTarget(url), null, url);
});

/** A server that asks for md5 and counts the connections it gets. */
function md5Server() {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  let connections = 0;
  (async () => {
    for await (const conn of listener) {
      connections++;
      // AuthenticationMD5Password with a salt.
      await conn.write(new Uint8Array([82, 0, 0, 0, 12, 0, 0, 0, 5, 1, 2, 3, 4])).catch(() => {});
    }
  })();
  return {
    port: (listener.addr as Deno.NetAddr).port,
    connections: () => connections,
    close: () => listener.close(),
  };
}

Deno.test("pg-probe: an auth method it does not speak is ProbeUnsupported", async () => {
  const server = md5Server();
  try {
    await assert.rejects(
      probeQuery({ ...target(), hostname: "127.0.0.1", port: server.port }, "select 1", {
        deadlineMs: 2_000,
      }),
      ProbeUnsupported,
    );
  } finally {
    server.close();
  }
});

Deno.test("health: a URL asking for TLS is checked by the driver, for real", async () => {
  // sslmode=prefer: the driver asks for TLS, the test cluster declines, the
  // driver goes on in plain text. The probe never touched it.
  const logged: string[] = [];
  const log = console.log;
  console.log = (line: string) => logged.push(line);
  try {
    const checks = await checkDatabase(`${testDbUrl()}?sslmode=prefer`);
    assert.equal(checks.database.state, "pass", JSON.stringify(checks));
    assert.equal(checks.call_path.state, "pass");
  } finally {
    console.log = log;
    await (await openDatabase(`${testDbUrl()}?sslmode=prefer`)).end({ timeout: 1 });
  }
  assert.deepEqual(logged, [], "the probe declined quietly: no fallback after trying");
});

Deno.test("health: the probe against the real database, and concurrent checks share one connection", async () => {
  const checks = await checkDatabase(testDbUrl());
  assert.equal(checks.database.state, "pass", JSON.stringify(checks));
  assert.equal(checks.call_path.state, "pass");

  const hanging = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const held: Deno.Conn[] = [];
  (async () => {
    for await (const conn of hanging) held.push(conn);
  })();
  const url = `postgresql://postgres:postgres@127.0.0.1:${(hanging.addr as Deno.NetAddr).port}/x`;
  try {
    const started = performance.now();
    const results = await Promise.all([1, 2, 3].map(() => checkDatabase(url, 300)));
    assert.ok(performance.now() - started < 1_000);
    for (const r of results) {
      assert.equal(r.database.state, "fail");
      assert.equal(r.database.detail, "no answer within 300 ms");
    }
    assert.equal(held.length, 1, "three concurrent checks, one connection");
  } finally {
    hanging.close();
    for (const conn of held) conn.close();
  }
});

Deno.test("pg-probe: a server that never answers costs the deadline, then the socket is closed", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  let closedByProbe: Promise<number | null> | undefined;
  (async () => {
    for await (const conn of listener) {
      closedByProbe = conn.read(new Uint8Array(1024)).then(() => conn.read(new Uint8Array(1024)))
        .finally(() => conn.close());
    }
  })();
  try {
    await assert.rejects(
      probeQuery(
        { ...target(), hostname: "127.0.0.1", port: (listener.addr as Deno.NetAddr).port },
        "select 1",
        { deadlineMs: 200 },
      ),
      DeadlineExceeded,
    );
    // The first read got the startup message; the next sees the probe's close.
    assert.equal(await closedByProbe, null);
  } finally {
    listener.close();
  }
});

/** An authentication message: 'R', length, code, data. */
function auth(code: number, data: string): Uint8Array {
  const body = new TextEncoder().encode(data);
  const out = new Uint8Array(9 + body.length);
  const view = new DataView(out.buffer);
  out[0] = 82;
  view.setInt32(1, 8 + body.length);
  view.setInt32(5, code);
  out.set(body, 9);
  return out;
}

Deno.test("pg-probe: a server that cannot prove it knows the password is refused", async () => {
  // Speaks SCRAM up to the end, then signs with a key it does not have.
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const served = (async () => {
    const conn = await listener.accept();
    const buf = new Uint8Array(4096);
    const read = async () => new TextDecoder().decode(buf.subarray(0, (await conn.read(buf))!));
    try {
      await read(); // startup
      await conn.write(auth(10, "SCRAM-SHA-256\0\0"));
      const nonce = /r=([^,\0]+)/.exec(await read())![1];
      await conn.write(auth(11, `r=${nonce}standin,s=${btoa("0123456789abcdef")},i=4096`));
      await read(); // client-final with its proof
      await conn.write(auth(12, `v=${btoa("x".repeat(32))}`));
      await read().catch(() => "");
    } finally {
      conn.close();
    }
  })();
  try {
    await assert.rejects(
      probeQuery(
        { ...target(), hostname: "127.0.0.1", port: (listener.addr as Deno.NetAddr).port },
        "select 1",
        {
          deadlineMs: 2_000,
        },
      ),
      /SCRAM signature is wrong/,
    );
  } finally {
    listener.close();
    await served.catch(() => {});
  }
});
