/**
 * The part of the Supabase gateway that `verify_jwt = true` stands for: a
 * request must carry `Authorization: Bearer <JWT>` signed (HS256) with the
 * project's JWT secret. The function itself still decides which role may act.
 */
const encoder = new TextEncoder();

function base64UrlDecode(part: string): Uint8Array<ArrayBuffer> {
  const b64 = part.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((part.length + 3) % 4);
  return Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
}

/** Returns the JWT's claims when the signature and expiry hold, else null. */
export async function verifyGatewayJwt(
  authorization: string | null,
  secret: string,
  nowSeconds = Math.floor(Date.now() / 1000),
): Promise<Record<string, unknown> | null> {
  const token = authorization?.match(/^Bearer\s+(\S+)$/i)?.[1];
  const parts = token?.split(".");
  if (!parts || parts.length !== 3) return null;
  try {
    const header = JSON.parse(new TextDecoder().decode(base64UrlDecode(parts[0])));
    if (header.alg !== "HS256") return null;
    const key = await crypto.subtle.importKey(
      "raw",
      encoder.encode(secret),
      { name: "HMAC", hash: "SHA-256" },
      false,
      ["verify"],
    );
    const ok = await crypto.subtle.verify(
      "HMAC",
      key,
      base64UrlDecode(parts[2]),
      encoder.encode(`${parts[0]}.${parts[1]}`),
    );
    if (!ok) return null;
    const claims = JSON.parse(new TextDecoder().decode(base64UrlDecode(parts[1])));
    if (typeof claims.exp === "number" && claims.exp < nowSeconds) return null;
    return claims;
  } catch {
    return null;
  }
}

/** `[functions.<slug>] verify_jwt = false` entries of supabase/config.toml. */
export function functionsWithoutJwt(configToml: string): Set<string> {
  const open = new Set<string>();
  let current: string | null = null;
  for (const line of configToml.split(/\r?\n/)) {
    const section = /^\s*\[functions\.([A-Za-z0-9_-]+)\]\s*$/.exec(line);
    if (section) {
      current = section[1];
      continue;
    }
    if (/^\s*\[/.test(line)) current = null;
    if (current && /^\s*verify_jwt\s*=\s*false\b/.test(line)) open.add(current);
  }
  return open;
}
