/**
 * JSON with object keys sorted, so that two bodies holding the same value
 * (whatever their key order or spacing, jsonb read back included) compare
 * equal: what "the same body" means for an admin request's Idempotency-Key.
 */

/** A JSON value. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** The value as JSON text with every object's keys in sorted order and no spacing. */
export function canonicalJson(value: Json): string {
  if (value === null || typeof value !== "object") return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  const keys = Object.keys(value).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(value[k])}`).join(",")}}`;
}
