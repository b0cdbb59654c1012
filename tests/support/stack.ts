/**
 * Where the tests find the throwaway stack that scripts/test starts: a fresh
 * Postgres cluster and a functions server on ports of their own.
 */
import postgres from "postgres";

function required(name: string): string {
  const value = Deno.env.get(name);
  if (!value) throw new Error(`${name} is not set: run the tests with scripts/test`);
  return value;
}

export const testDbUrl = (): string => required("HOTLINE_TEST_DB_URL");
export const functionsUrl = (): string => required("HOTLINE_TEST_FUNCTIONS_URL");

/** A client for one test file; close it at the end (`await sql.end()`). */
export function testSql(options: postgres.Options<Record<string, postgres.PostgresType>> = {}) {
  return postgres(testDbUrl(), { prepare: false, max: 4, onnotice: () => {}, ...options });
}

/** A CallSid no other test uses: CA + 32 hex digits. */
export function newCallSid(): string {
  return "CA" + crypto.randomUUID().replaceAll("-", "");
}
