/**
 * The session cookie. The __Host- prefix makes browsers accept it only with
 * Secure, Path=/ and no Domain, so no subdomain can set or overwrite it;
 * HttpOnly keeps it from scripts, SameSite=Strict from cross-site requests.
 */
export const SESSION_COOKIE = '__Host-tresor';

export function sessionCookie(token: string, maxAgeSeconds: number): string {
  return `${SESSION_COOKIE}=${token}; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=${Math.max(0, Math.floor(maxAgeSeconds))}`;
}

/** Tells the browser to drop the cookie (logout). */
export const clearedSessionCookie = () => `${SESSION_COOKIE}=; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=0`;

/** The session token from a Cookie header, or undefined. */
export function sessionTokenFrom(cookieHeader: string | undefined): string | undefined {
  if (!cookieHeader) return undefined;
  for (const part of cookieHeader.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === SESSION_COOKIE) return part.slice(eq + 1).trim() || undefined;
  }
  return undefined;
}
