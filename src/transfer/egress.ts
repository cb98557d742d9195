import { lookup, Resolver } from 'node:dns/promises';
import { request as httpRequest, type ClientRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { once } from 'node:events';
import ipaddr from 'ipaddr.js';
import type { Db } from '../db/db.ts';
import { type Actor, systemActor } from '../access/permissions.ts';
import { RequestError, type ErrorCode } from '../errors.ts';
import { type Destination, EU_EEA, destinationOf } from './destinations.ts';

// The one way out: every outbound connection Tresor makes (security alerts,
// sub-processor notices, tenant exports to a destination) goes through
// send(). A destination must be on the allowlist (TRESOR_EGRESS_ALLOW), each
// entry tagged with its country; outside the EU/EEA it also needs the
// tenant's confirmed instruction to name it with a transfer mechanism. The
// host is resolved once, every address checked (only global unicast, unless
// the entry is marked `internal`, literal IPs included; by the system
// resolver, or by TRESOR_EGRESS_DNS_SERVERS when set), and the
// connection made to the checked address, so a second DNS answer cannot
// point it elsewhere. Redirects are never followed; the answer is read up to
// a bound. Every attempt, sent, refused or failed, leaves a transfer-log
// entry (action `transfer`) in the audit trail: tenant, destination origin,
// country, purpose, bytes, outcome; never a value, never the URL's path.

export type TransferOutcome = 'sent' | 'refused' | 'failed';

export interface TransferRequest {
  /** Whose data leaves (null: the platform's own). Its confirmed instruction decides on transfers outside the EU/EEA. */
  tenantId: string | null;
  /** Why it leaves, a short name: `security_alert`, `sub_processor_notice`, `tenant_export`. */
  purpose: string;
  url: string;
  method?: 'POST' | 'PUT';
  headers?: Record<string, string>;
  /** A body in memory, or a stream (counted as it is written). */
  body: string | Buffer | AsyncIterable<Uint8Array>;
  /** Who caused it (default: the system). */
  actor?: Actor;
  /** Overrides the configured timeout; for a stream it bounds each wait for the peer, not the whole transfer. */
  timeoutMs?: number;
}

export interface TransferResult { status: number; bytes: number; country: string; destination: string }

/** The tenant's confirmed instruction: the transfer mechanism it names for this destination, or null. */
export interface TransferPermits { mechanismFor(tenantId: string, url: URL, country: string): Promise<string | null> }

export interface EgressDeps {
  db: Db;
  destinations: readonly Destination[];
  timeoutMs: number;
  responseMaxBytes: number;
  permits?: TransferPermits;
  /** DNS servers to resolve destination names with (TRESOR_EGRESS_DNS_SERVERS); empty: the system resolver. */
  dnsServers?: string[];
  /** Hears of each refused transfer after its transfer-log entry (the incident rule); must not throw or wait. */
  onRefused?: (t: { tenantId: string | null; purpose: string; destination: string | null; reason: string }) => void;
}

/** A transfer that did not happen (refused before or at connect) or failed; `code` is in the error catalogue. */
export class TransferError extends RequestError {
  constructor(code: ErrorCode, readonly outcome: Exclude<TransferOutcome, 'sent'>, readonly reason: string, detail?: string,
    /** The destination's HTTP status, when it answered. */
    readonly peerStatus?: number) {
    super(code, detail);
  }
}

const refuse = (code: ErrorCode, reason: string, detail: string) => new TransferError(code, 'refused', reason, detail);

/** Global unicast only; anything else (private, loopback, link-local, unique-local, CGNAT, 0.0.0.0, multicast, reserved) is internal. */
export function isPublicAddress(address: string): boolean {
  if (!ipaddr.isValid(address)) return false;
  return ipaddr.process(address).range() === 'unicast';
}

type Address = { address: string; family: number };
const unresolved = () => new TransferError('transfer.failed', 'failed', 'dns', 'The destination\'s name does not resolve');

/** Every address of `host`: from the configured DNS servers (A and AAAA), else the system resolver. */
async function resolve(host: string, dns: Resolver | null): Promise<Address[]> {
  if (isIP(host)) return [{ address: host, family: isIP(host) }];
  if (dns) {
    const [v4, v6] = await Promise.allSettled([dns.resolve4(host), dns.resolve6(host)]);
    const all = [...(v4.status === 'fulfilled' ? v4.value.map((address) => ({ address, family: 4 })) : []),
      ...(v6.status === 'fulfilled' ? v6.value.map((address) => ({ address, family: 6 })) : [])];
    if (!all.length) throw unresolved();
    return all;
  }
  try {
    return await lookup(host, { all: true, verbatim: true });
  } catch {
    throw unresolved();
  }
}

// Hands the already checked address to the socket: no second lookup.
const pinned = (a: { address: string; family: number }): LookupFunction => (_host, opts, cb) => {
  if ((opts as { all?: boolean }).all) (cb as unknown as (e: null, all: { address: string; family: number }[]) => void)(null, [a]);
  else cb(null, a.address, a.family);
};

export function createEgress({ db, destinations, timeoutMs, responseMaxBytes, permits, dnsServers = [], onRefused }: EgressDeps) {
  const dns = dnsServers.length ? new Resolver({ timeout: Math.min(timeoutMs, 5000), tries: 2 }) : null;
  dns?.setServers(dnsServers);
  /** Allowlist, country and address checks; returns where to connect. */
  async function check(r: TransferRequest, url: URL) {
    const dest = destinationOf(destinations, url);
    if (!dest) throw refuse('transfer.destination_not_allowed', 'not_allowlisted', 'The destination is not on the egress allowlist (TRESOR_EGRESS_ALLOW)');
    let mechanism: string | null = null;
    if (!EU_EEA.has(dest.country)) {
      mechanism = r.tenantId && permits ? await permits.mechanismFor(r.tenantId, url, dest.country) : null;
      if (!mechanism) {
        throw Object.assign(refuse('transfer.outside_eea', 'outside_eea',
          `The destination lies in ${dest.country}, outside the EU/EEA, and the tenant's confirmed instruction names no transfer mechanism for it`), { dest });
      }
    }
    const addresses = await resolve(url.hostname.replace(/^\[|\]$/g, ''), dns);
    for (const a of addresses) {
      if (!isPublicAddress(a.address) && !dest.internal) {
        throw Object.assign(refuse('transfer.address_forbidden', 'address_forbidden',
          'The destination resolves to a private, loopback, link-local or otherwise internal address that is not allowlisted as `internal`'), { dest });
      }
    }
    return { dest, mechanism, address: addresses[0] };
  }

  function exchange(r: TransferRequest, url: URL, address: { address: string; family: number }, counted: { bytes: number }): Promise<number> {
    const wait = r.timeoutMs ?? timeoutMs;
    const streamed = typeof r.body !== 'string' && !Buffer.isBuffer(r.body);
    return new Promise((resolvePromise, reject) => {
      const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
      const req: ClientRequest = send(url, {
        method: r.method ?? 'POST', headers: r.headers, lookup: pinned(address), timeout: wait,
        ...(streamed ? {} : { signal: AbortSignal.timeout(wait) }),
      });
      req.on('timeout', () => req.destroy(new TransferError('transfer.failed', 'failed', 'timeout', 'The destination did not answer in time')));
      req.on('error', (err) => reject(err instanceof TransferError ? err
        : new TransferError('transfer.failed', 'failed', (err as NodeJS.ErrnoException).code === 'ABORT_ERR' ? 'timeout' : 'network',
          'The connection to the destination failed')));
      req.on('response', (res: IncomingMessage) => {
        const status = res.statusCode ?? 0;
        if (status >= 300 && status < 400) {
          res.destroy();
          return reject(new TransferError('transfer.redirect_refused', 'refused', 'redirect', 'The destination answered with a redirect; redirects are not followed', status));
        }
        let read = 0;
        res.on('data', (chunk: Buffer) => {
          read += chunk.length;
          if (read > responseMaxBytes) res.destroy(new TransferError('transfer.failed', 'failed', 'response_too_large', 'The destination\'s answer is too large'));
        });
        res.on('error', reject);
        res.on('end', () => (status >= 200 && status < 300 ? resolvePromise(status)
          : reject(new TransferError('transfer.failed', 'failed', 'status', `The destination answered ${status}`, status))));
      });
      if (!streamed) {
        const body = r.body as string | Buffer;
        counted.bytes = Buffer.byteLength(body);
        req.end(body);
        return;
      }
      (async () => {
        for await (const chunk of r.body as AsyncIterable<Uint8Array>) {
          counted.bytes += chunk.byteLength;
          if (!req.write(chunk)) await once(req, 'drain');
        }
        req.end();
      })().catch((err) => req.destroy(err));
    });
  }

  async function log(r: TransferRequest, url: URL | null, o: { outcome: TransferOutcome; country: string | null; bytes: number; reason?: string;
    status?: number; mechanism?: string | null }) {
    const actor = r.actor ?? systemActor('egress');
    const entry = {
      action: 'transfer', actor, target: { type: 'destination', id: url?.origin ?? 'invalid' },
      detail: { destination: url?.origin ?? null, country: o.country, purpose: r.purpose, bytes: o.bytes, outcome: o.outcome,
        reason: o.reason ?? null, status: o.status ?? null, mechanism: o.mechanism ?? null },
    };
    if (r.tenantId) await db.withTenant(r.tenantId, async (tx) => { tx.audit(entry); });
    else await db.transaction(async (tx) => { tx.audit({ ...entry, tenantId: null }); });
    if (o.outcome === 'refused') onRefused?.({ tenantId: r.tenantId, purpose: r.purpose, destination: url?.origin ?? null, reason: o.reason ?? 'refused' });
  }

  return {
    /** Sends one request to an allowlisted destination and logs the transfer; throws TransferError when refused or failed. */
    async send(r: TransferRequest): Promise<TransferResult> {
      const url = URL.canParse(r.url) ? new URL(r.url) : null;
      if (!url || !['http:', 'https:'].includes(url.protocol) || url.username || url.password) {
        const err = refuse('transfer.destination_not_allowed', 'invalid_url', 'The destination must be an http(s) URL without credentials');
        await log(r, null, { outcome: 'refused', country: null, bytes: 0, reason: err.reason });
        throw err;
      }
      let checked: Awaited<ReturnType<typeof check>> | undefined;
      const counted = { bytes: 0 };
      try {
        checked = await check(r, url);
        const status = await exchange(r, url, checked.address, counted);
        await log(r, url, { outcome: 'sent', country: checked.dest.country, bytes: counted.bytes, status, mechanism: checked.mechanism });
        return { status, bytes: counted.bytes, country: checked.dest.country, destination: url.origin };
      } catch (err) {
        if (!(err instanceof TransferError)) throw err;
        const dest = checked?.dest ?? (err as { dest?: Destination }).dest ?? destinationOf(destinations, url);
        await log(r, url, { outcome: err.outcome, country: dest?.country ?? null, bytes: counted.bytes,
          reason: err.reason, status: err.peerStatus, mechanism: checked?.mechanism });
        throw err;
      }
    },
    /** The allowlisted destination covering `url`, if any (for checks at configuration time). */
    destinationOf: (url: URL) => destinationOf(destinations, url),
  };
}

export type Egress = ReturnType<typeof createEgress>;
