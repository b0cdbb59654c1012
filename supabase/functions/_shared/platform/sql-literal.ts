/**
 * SQL text with its values written in as literals, for the hot path's one
 * statement per webhook (see `timedQuery` in db.ts).
 *
 * Why not parameters: with `prepare: false` (which a transaction-mode pooler
 * needs) postgres.js sends a parameterised statement in two exchanges, Parse
 * + Describe first and Bind + Execute after the answer, and the server runs
 * the extended protocol's five messages for it. A statement with no
 * parameters goes as one simple-protocol Query, together with its
 * `set local statement_timeout`: one message, one network round trip, one
 * implicit transaction.
 *
 * Quoting is Postgres's own escape-string syntax, E'…', whose meaning does
 * not depend on `standard_conforming_strings`: a backslash is written `\\`
 * and a quote `''`, so no value can end its literal. A value Postgres text
 * cannot hold (NUL) is refused here, as the server would refuse it.
 */

/** A value that may be written into step SQL. */
export type SqlValue = string | number | boolean | Date | null | undefined;

/** SQL text whose values are already literals; only `inlineSql` makes one. */
export class InlineSql {
  /** @internal */
  constructor(readonly text: string) {}
}

export class SqlLiteralError extends TypeError {}

/** One value as a SQL literal (untyped where Postgres can infer the type from its use). */
export function sqlLiteral(value: SqlValue): string {
  if (value === null || value === undefined) return "NULL";
  if (typeof value === "boolean") return value ? "true" : "false";
  if (typeof value === "number") {
    if (!Number.isFinite(value)) throw new SqlLiteralError(`not a finite number: ${value}`);
    // Parenthesised: a negative number next to an operator stays one value.
    return value < 0 ? `(${value})` : String(value);
  }
  if (value instanceof Date) {
    if (Number.isNaN(value.getTime())) throw new SqlLiteralError("invalid date");
    return `'${value.toISOString()}'::timestamptz`;
  }
  if (value.includes("\0")) throw new SqlLiteralError("text cannot contain NUL");
  return `E'${value.replaceAll("\\", "\\\\").replaceAll("'", "''")}'`;
}

/** Tagged template: `inlineSql\`select f(${a}, ${b}) as r\`` with every value a literal. */
export function inlineSql(strings: TemplateStringsArray, ...values: SqlValue[]): InlineSql {
  let text = strings[0];
  for (let i = 0; i < values.length; i++) text += sqlLiteral(values[i]) + strings[i + 1];
  return new InlineSql(text);
}
