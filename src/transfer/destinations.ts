import { isIP } from 'node:net';

// Where Tresor may send data: the egress allowlist (TRESOR_EGRESS_ALLOW),
// each destination a URL prefix tagged with the country it lies in.

/** EU member states and the other EEA states (Iceland, Liechtenstein, Norway), ISO 3166-1 alpha-2. */
export const EU_EEA = new Set([
  'AT', 'BE', 'BG', 'HR', 'CY', 'CZ', 'DK', 'EE', 'FI', 'FR', 'DE', 'GR', 'HU', 'IE', 'IT', 'LV', 'LT', 'LU', 'MT', 'NL', 'PL', 'PT', 'RO', 'SK',
  'SI', 'ES', 'SE', 'IS', 'LI', 'NO',
]);

export interface Destination {
  /** Normalised URL prefix: scheme, host, port and path start. */
  prefix: string;
  /** ISO 3166-1 alpha-2, upper case. */
  country: string;
  /** The destination may resolve to a private, loopback or link-local address (an internal service, said so explicitly). */
  internal: boolean;
}

const COUNTRY = /^[A-Z]{2}$/;

/** A prefix as a comparable string: lower-case scheme and host, explicit path; null when it is not an http(s) URL. */
export function normalisePrefix(text: string): string | null {
  if (!URL.canParse(text)) return null;
  const url = new URL(text);
  if (!['http:', 'https:'].includes(url.protocol) || url.username || url.password || url.search || url.hash) return null;
  return `${url.origin}${url.pathname}`;
}

/**
 * Does `url` fall under `prefix`? Same origin (scheme, host and port), and a
 * path that starts with the prefix's path at a segment boundary, so
 * `https://a.example/hooks` covers `/hooks/1` but not `/hooksmith`, and never
 * `https://a.example.evil.net`.
 */
export function underPrefix(url: URL, prefix: string): boolean {
  const p = new URL(prefix);
  if (url.origin !== p.origin) return false;
  if (p.pathname.endsWith('/')) return url.pathname.startsWith(p.pathname);
  return url.pathname === p.pathname || url.pathname.startsWith(`${p.pathname}/`);
}

/**
 * Parses TRESOR_EGRESS_ALLOW: comma-separated entries `CC url-prefix
 * [internal]`, e.g. `DE https://siem.example.eu/, US https://hooks.example.com/in`.
 * Returns the destinations, or the problems (never the value itself).
 */
export function parseAllowlist(text: string | undefined): { destinations: Destination[]; problems: string[] } {
  const destinations: Destination[] = [];
  const problems: string[] = [];
  const entries = (text ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  entries.forEach((entry, i) => {
    const [country, prefix, flag, ...rest] = entry.split(/\s+/);
    const normal = prefix ? normalisePrefix(prefix) : null;
    if (!COUNTRY.test(country ?? '')) problems.push(`entry ${i + 1}: must start with a two-letter upper-case country code`);
    else if (!normal) problems.push(`entry ${i + 1}: the prefix must be an http(s) URL without credentials, query or fragment`);
    else if ((flag !== undefined && flag !== 'internal') || rest.length) problems.push(`entry ${i + 1}: only the flag 'internal' may follow the prefix`);
    else destinations.push({ prefix: normal, country, internal: flag === 'internal' });
  });
  return { destinations, problems };
}

/** The most specific allowlisted destination covering `url`, if any. */
export function destinationOf(destinations: readonly Destination[], url: URL): Destination | undefined {
  return destinations.filter((d) => underPrefix(url, d.prefix)).sort((a, b) => b.prefix.length - a.prefix.length)[0];
}

/**
 * Parses TRESOR_EGRESS_DNS_SERVERS: comma-separated `IP`, `IP:port` or
 * `[IPv6]:port`, as node:dns's setServers takes them; null when an item is none.
 */
export function parseDnsServers(text: string | undefined): string[] | null {
  const items = (text ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  const valid = items.every((item) => {
    const m = /^\[([^\]]+)\](?::(\d{1,5}))?$/.exec(item) ?? /^([\d.]+)(?::(\d{1,5}))?$/.exec(item) ?? [item, item, undefined];
    const port = m[2] === undefined ? 53 : Number(m[2]);
    return isIP(m[1]) !== 0 && port >= 1 && port <= 65535;
  });
  return valid ? items : null;
}
