/**
 * Checks environment variables against patterns, one message per variable.
 * Written out rather than taken from a schema library: every function checks
 * its configuration before its first answer, and importing zod cost ~20 ms of
 * that cold start (about two thirds of a bare Deno.serve's whole start,
 * bench/cold-start.bench.ts), for what is a handful of regular expressions.
 */

export interface EnvRule {
  /** The message when the variable is missing or blank; omit for an optional variable. */
  missing?: string;
  /** What a present value must match. */
  pattern?: RegExp;
  /** The message when it does not: it names the variable, never echoes the value. */
  invalid?: string;
}

/**
 * Checks `values` (already trimmed; blank as undefined) against `rules`, in
 * the rules' order. Returns every problem, one message per variable.
 */
export function checkEnv(
  values: Record<string, string | undefined>,
  rules: Record<string, EnvRule>,
): string[] {
  const errors: string[] = [];
  for (const [name, rule] of Object.entries(rules)) {
    const value = values[name];
    if (value === undefined) {
      if (rule.missing) errors.push(rule.missing);
    } else if (rule.pattern && !rule.pattern.test(value)) {
      errors.push(rule.invalid ?? `${name} is malformed`);
    }
  }
  return errors;
}

/** The variable's value, trimmed; a blank one (a blank line in .env) as undefined. */
export function envValue(
  env: Record<string, string | undefined>,
  name: string,
): string | undefined {
  return env[name]?.trim() || undefined;
}
