/**
 * The admin key check: `Authorization: Bearer <ADMIN_API_KEY>`, compared in
 * constant time (both sides hashed first, so neither the content nor the
 * length of the key leaks through timing).
 */

export type AdminKeyVerdict = "admin" | "anonymous" | "invalid-key";

async function sha256(text: string): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)));
}

/** Constant-time equality of two strings (over their SHA-256 digests). */
export async function constantTimeEqual(a: string, b: string): Promise<boolean> {
  const [x, y] = await Promise.all([sha256(a), sha256(b)]);
  let diff = 0;
  for (let i = 0; i < x.length; i++) diff |= x[i] ^ y[i];
  return diff === 0;
}

/** anonymous: no bearer token; invalid-key: a token that is not the admin key. */
export async function verifyAdminKey(
  authorization: string | null,
  adminKey: string,
): Promise<AdminKeyVerdict> {
  const match = authorization?.match(/^Bearer\s+(\S+)\s*$/i);
  if (!match) return "anonymous";
  return (await constantTimeEqual(match[1], adminKey)) ? "admin" : "invalid-key";
}
