/**
 * Values written into step SQL as literals (platform/sql-literal.ts) read
 * back from Postgres exactly as they went in, whatever they contain: the
 * hot path's arguments are caller input, so a value that could end its
 * literal would be SQL injection.
 */
import assert from "node:assert/strict";
import {
  inlineSql,
  sqlLiteral,
  SqlLiteralError,
} from "../../supabase/functions/_shared/platform/sql-literal.ts";
import { testSql } from "../support/stack.ts";

const HOSTILE = [
  "",
  "'",
  "''",
  "\\",
  "\\'",
  "'\\",
  "\\\\'; drop table public.call_logs; --",
  "E'x'",
  "$$ $q$ $",
  "a'); select pg_sleep(10); --",
  "line\nbreak\r\ttab",
  "\\x41\\101\\u0041",
  "<Say>&amp;</Say>",
  "Ελληνικά 日本語 👩🏽‍💻",
  "%00%27",
  "\u0001\u001f\u007f",
];

/** A seeded random string over the characters that matter to quoting, and some that do not. */
function randomText(seed: number): string {
  const alphabet = ["'", "\\", "E", "$", ";", "-", "\n", "a", "é", "😀", "\u2028", '"', " ", "0"];
  let x = seed;
  let out = "";
  const length = seed % 40;
  for (let i = 0; i < length; i++) {
    x = (x * 1103515245 + 12345) % 2147483648;
    out += alphabet[x % alphabet.length];
  }
  return out;
}

Deno.test("sql-literal: hostile and random text reads back byte-exact", async () => {
  const sql = testSql();
  try {
    const values = [...HOSTILE, ...Array.from({ length: 500 }, (_, i) => randomText(i + 1))];
    // Many literals in one statement, as a step sends them.
    const list = values.map((v) => sqlLiteral(v)).join(", ");
    // Read back as rows of text, not as one text[]: the driver parses arrays
    // only once it has fetched their types, which through the pooler it
    // sometimes had not (this test once got the array's raw text).
    const rows = await sql.unsafe(
      `select v from unnest(array[${list}]::text[]) with ordinality as t(v, i) order by i`,
    );
    assert.deepEqual(rows.map((r) => r.v), values);
  } finally {
    await sql.end();
  }
});

Deno.test("sql-literal: numbers, booleans, null and dates keep their value", async () => {
  const sql = testSql();
  try {
    const at = new Date("2026-11-26T01:02:03.456Z");
    const { text } = inlineSql`select ${-7} - ${3} as n, ${2.5}::numeric as f, ${true} as t,
                                      ${null}::text as z, ${undefined}::int as u, ${at} as at`;
    const [row] = await sql.unsafe(text);
    assert.equal(row.n, -10);
    assert.equal(Number(row.f), 2.5);
    assert.equal(row.t, true);
    assert.equal(row.z, null);
    assert.equal(row.u, null);
    assert.equal(new Date(row.at).getTime(), at.getTime());
  } finally {
    await sql.end();
  }
});

Deno.test("sql-literal: what Postgres text cannot hold is refused, not altered", () => {
  assert.throws(() => sqlLiteral("a\0b"), SqlLiteralError);
  assert.throws(() => sqlLiteral(Number.NaN), SqlLiteralError);
  assert.throws(() => sqlLiteral(Infinity), SqlLiteralError);
  assert.throws(() => sqlLiteral(new Date("nope")), SqlLiteralError);
});
