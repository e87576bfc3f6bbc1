// Signed cookies of the dashboard, as pure functions: a value travels with its HMAC, so a forged or
// altered cookie is refused before any lookup. The session's data stays server-side (Redis).
import { createHmac, timingSafeEqual } from 'node:crypto';

export const SESSION_COOKIE = 'kritik_session';
/** Holds the OAuth `state` between the redirect to GitHub and the callback. */
export const STATE_COOKIE = 'kritik_oauth_state';

const mac = (secret: string, value: string) => createHmac('sha256', secret).update(value).digest('base64url');

/** `value.signature`; `value` must not contain a dot. */
export function sign(secret: string, value: string): string {
  if (value.includes('.')) throw new Error('a signed value must not contain a dot');
  return `${value}.${mac(secret, value)}`;
}

/** The value of a cookie signed with `secret`, or undefined when the signature does not match. */
export function unsign(secret: string, signed: string | undefined): string | undefined {
  if (!signed) return undefined;
  const dot = signed.lastIndexOf('.');
  if (dot <= 0) return undefined;
  const value = signed.slice(0, dot);
  const given = Buffer.from(signed.slice(dot + 1));
  const expected = Buffer.from(mac(secret, value));
  return given.length === expected.length && timingSafeEqual(given, expected) ? value : undefined;
}

/** The cookies of a `Cookie` header, by name (the first of a repeated name wins). */
export function parseCookies(header: string | undefined): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq <= 0) continue;
    const name = part.slice(0, eq).trim();
    if (!out.has(name)) {
      try {
        out.set(name, decodeURIComponent(part.slice(eq + 1).trim()));
      } catch {
        // A malformed escape is no cookie of ours.
      }
    }
  }
  return out;
}

/** A `Set-Cookie` value: HttpOnly, Secure, SameSite=Lax, whole site; `maxAgeSeconds` 0 deletes it. */
export function cookie(name: string, value: string, maxAgeSeconds: number): string {
  return `${name}=${encodeURIComponent(value)}; Path=/; Max-Age=${maxAgeSeconds}; HttpOnly; Secure; SameSite=Lax`;
}
