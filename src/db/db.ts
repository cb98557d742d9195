// One small interface over two drivers (PGlite embedded, PostgreSQL via
// postgres.js) speaking one SQL dialect. Feature code reaches tenant data only
// through withTenant(), which runs its callback in a transaction that has the
// tenant context and the row-level-security role set, so a forgotten WHERE
// can never leak another tenant's rows.
import type { AuditEntry, PendingEntry } from '../audit/audit-leaf.ts';
import { pendingEntry } from '../audit/audit-leaf.ts';
import { AUDIT_INSERT_SQL, auditInsertParams } from '../audit/audit-insert.ts';

export type Row = Record<string, any>;

/** An audit entry on a platform transaction names its tenant (null: none). */
export type PlatformAuditEntry = AuditEntry & { tenantId: string | null };

export interface Tx {
  query<T extends Row = Row>(text: string, params?: unknown[]): Promise<T[]>;
  /** Several statements at once, no parameters (migrations). */
  exec(sql: string): Promise<void>;
  /**
   * The transaction's final statement: on PostgreSQL its COMMIT is sent in the
   * same round trip. Any statement after it is refused.
   */
  last<T extends Row = Row>(text: string, params?: unknown[]): Promise<T[]>;
  /**
   * Adds an audit entry to this transaction. The driver writes all of them in
   * one multi-row INSERT just before COMMIT (on PostgreSQL in the round trip
   * of the final statement), so they commit with the change they record or
   * not at all. Refused once the final statement has been sent.
   */
  audit(entry: PlatformAuditEntry): void;
}

/**
 * Statements only, without audit entries: what `db` itself offers (each
 * statement commits on its own). Read paths and bookkeeping take this; a
 * change that must be audited needs a Tx, which only a transaction makes.
 */
export type Queries = Omit<Tx, 'audit'>;

declare const tenantBrand: unique symbol;

/**
 * A transaction with a tenant context: the RLS role is set and app.tenant_id
 * holds `tenantId` (canonical lower-case UUID). Only withTenant makes one
 * (through the drivers' use of tenantTx), so a tenant repo handed the platform
 * `db` or a platform transaction does not compile.
 */
export type TenantTx = Omit<Tx, 'audit'> & {
  readonly tenantId: string;
  readonly [tenantBrand]: true;
  /** As Tx.audit; the entry's tenant is the transaction's. */
  audit(entry: AuditEntry): void;
};

/**
 * Sets the tenant context on a platform transaction and returns it as a
 * TenantTx (tenant creation: the tenant row and its first keys commit together).
 */
export async function enterTenant(tx: Tx, tenantId: string): Promise<TenantTx> {
  await tx.query(TENANT_CONTEXT_SQL, [tenantId]);
  return tenantTx(tx, tenantId);
}

/** For the drivers only: brands a transaction whose tenant context is already set. */
export const tenantTx = (tx: Tx, tenantId: string): TenantTx =>
  ({ ...tx, tenantId, audit: (entry: AuditEntry) => tx.audit({ ...entry, tenantId }) }) as TenantTx;

/** A view of tx whose query() is the final statement: for repo calls that end a transaction. */
export const finalStatement = <T extends Tx>(tx: T): T => ({ ...tx, query: tx.last });

/** A session-level lock held for as long as its connection lives (background-job leadership). */
export interface LeaderLease {
  /** False once the connection holding the lock is gone: leadership is lost. */
  alive(): Promise<boolean>;
  release(): Promise<void>;
}

export interface Db extends Queries {
  readonly kind: 'pglite' | 'postgres';
  /** A transaction in platform context (no tenant, not under the app role). */
  transaction<T>(fn: (tx: Tx) => Promise<T>): Promise<T>;
  /**
   * Entries outside any data transaction (the request log): one INSERT,
   * committed on its own.
   */
  appendAudit(entries: readonly PendingEntry[]): Promise<void>;
  /** A transaction under the RLS role with app.tenant_id set for this transaction only. */
  withTenant<T>(tenantId: string, fn: (tx: TenantTx) => Promise<T>): Promise<T>;
  /** Takes the advisory lock `key` on a connection of its own, or null when another session holds it. */
  leaderLock(key: number): Promise<LeaderLease | null>;
  /**
   * Embedded store only: runs `read` and copies the data dir while no other
   * transaction can run, so the copy and what `read` saw are the same state.
   */
  snapshot?<T>(read: (tx: Queries) => Promise<T>): Promise<{ result: T; tar: Blob }>;
  /** Transactions open right now in this process (for /metrics). */
  transactionsInFlight(): number;
  close(): Promise<void>;
}

// set_config(..., true) is transaction-local, so a pooled connection never
// carries one tenant's context into another request. The role switch makes the
// session NOSUPERUSER NOBYPASSRLS, so FORCE ROW LEVEL SECURITY applies.
export const TENANT_CONTEXT_SQL =
  "select set_config('app.tenant_id', $1, true), set_config('role', 'tresor_app', true)";

// Errors that mean "the database cannot be reached right now": the caller gets
// a retryable 503, never a 500.
const UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOTFOUND', 'EPIPE',
  'CONNECT_TIMEOUT', 'TRANSACTION_TIMEOUT', 'CONNECTION_CLOSED', 'CONNECTION_ENDED', 'CONNECTION_DESTROYED',
  '57P01', '57P02', '57P03', '57014', '53300', '08000', '08001', '08003', '08004', '08006', '25006',
]);

export function isDbUnavailable(err: unknown): boolean {
  const code = (err as { code?: unknown })?.code;
  return typeof code === 'string' && UNAVAILABLE_CODES.has(code);
}

export function isUniqueViolation(err: unknown): boolean {
  return (err as { code?: unknown })?.code === '23505';
}

/** A write to a tenant that is not active, refused by the tenant_writes_frozen trigger (migration 0010). */
export function isTenantFrozen(err: unknown): boolean {
  return (err as { code?: unknown })?.code === 'TR409';
}

/** A referenced row (e.g. the tenant of a new key) does not exist. */
export function isForeignKeyViolation(err: unknown): boolean {
  return (err as { code?: unknown })?.code === '23503';
}

export function toBuffer(value: Uint8Array | Buffer): Buffer {
  return Buffer.isBuffer(value) ? value : Buffer.from(value.buffer, value.byteOffset, value.byteLength);
}

/** Counts open transactions for the pool gauge on /metrics. */
export function transactionCounter() {
  let open = 0;
  return {
    count: () => open,
    track: async <T>(run: () => Promise<T>): Promise<T> => {
      open++;
      try { return await run(); } finally { open--; }
    },
  };
}

/**
 * The entries a transaction collects (Tx.audit) and the one statement that
 * writes them. `seal()` is called when the final statement is sent: later
 * entries would miss the commit, so they are refused loudly.
 */
export function auditCollector(now: () => Date = () => new Date()) {
  const pending: PendingEntry[] = [];
  let sealed = false;
  return {
    audit(entry: PlatformAuditEntry): void {
      if (sealed) throw new Error('audit entry added after the transaction\'s final statement: it would not be committed');
      const { tenantId, ...body } = entry;
      pending.push(pendingEntry({ kind: 'data', ...body }, tenantId, now()));
    },
    /** The INSERT for the entries collected so far, or null; no entry is accepted after it. */
    seal(): { text: string; params: unknown[] } | null {
      sealed = true;
      return pending.length ? auditInsertStatement(pending) : null;
    },
  };
}

export const auditInsertStatement = (entries: readonly PendingEntry[]) => ({ text: AUDIT_INSERT_SQL, params: auditInsertParams(entries) as unknown[] });
