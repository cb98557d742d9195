import { createHash } from 'node:crypto';

// What an audit entry may say: who, when, which tenant, which collection,
// which record ids, which action and which field *names* — never a value.
// The leaf is the entry's canonical bytes (UTF-8 JSON, keys sorted, no
// whitespace): the exact bytes the Merkle tree hashes and an independent
// verifier rebuilds, so its shape is a published contract (docs/audit.md).

/** Who acted, as the leaf names it: ids only, never a secret. */
export interface AuditActor { type: 'api_key' | 'user' | 'system'; id: string; role: string; sessionId?: string }

/** A data or configuration operation, recorded in the transaction that performs it. */
export interface AuditEntry {
  action: string;
  actor: AuditActor;
  collection?: string;
  recordIds?: readonly string[];
  fields?: readonly string[];
  /** The non-record object acted on (a tenant, an API key, a key version): type and id only. */
  target?: { type: string; id: string };
  /** Counts and flags about the operation (never values). */
  detail?: Record<string, string | number | boolean | null>;
}

/** One API request (the request log). */
export interface RequestEntry {
  requestId: string;
  actor: AuditActor | null;
  ip: string;
  method: string;
  route: string | null;
  path: string;
  status: number;
  durationMs: number;
  userAgent: string | null;
}

export type LeafBody =
  | ({ kind: 'data' } & AuditEntry)
  | ({ kind: 'request' } & RequestEntry);

/** What is written: the body plus the time and tenant every entry has. */
export type Leaf = LeafBody & { v: 1; time: string; tenantId: string | null };

/**
 * JSON with object keys in code-point order at every level and no whitespace;
 * undefined members are left out, as JSON.stringify does. Numbers must be
 * finite integers or plain decimals (no NaN/Infinity, which JSON cannot carry).
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return JSON.stringify(value);
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new Error('canonicalJson: non-finite number');
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) return `[${value.map((v) => canonicalJson(v ?? null)).join(',')}]`;
  if (typeof value === 'object') {
    const keys = Object.keys(value).filter((k) => (value as Record<string, unknown>)[k] !== undefined).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  throw new Error(`canonicalJson: cannot encode a ${typeof value}`);
}

/** RFC 6962 §2.1 leaf hash: SHA-256(0x00 ‖ leaf bytes). */
export const leafHash = (leaf: Uint8Array): Buffer => createHash('sha256').update(Buffer.from([0])).update(leaf).digest();

/** An entry ready for the one multi-row INSERT: its leaf bytes and the query columns taken from it. */
export interface PendingEntry { leaf: Leaf; bytes: Buffer }

export function pendingEntry(body: LeafBody, tenantId: string | null, time: Date): PendingEntry {
  // The actor is cut down to its ids here, whatever the caller passed (an
  // Actor also carries a display name that has no place in the log).
  const actor = body.actor && auditActor(body.actor);
  const leaf = { ...body, actor, v: 1, time: time.toISOString(), tenantId } as Leaf;
  return { leaf, bytes: Buffer.from(canonicalJson(leaf), 'utf8') };
}

export const auditActor = (a: { type: AuditActor['type']; id: string; role: string; sessionId?: string }): AuditActor =>
  (a.sessionId ? { type: a.type, id: a.id, role: a.role, sessionId: a.sessionId } : { type: a.type, id: a.id, role: a.role });
