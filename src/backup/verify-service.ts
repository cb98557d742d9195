import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { v7 as uuidv7 } from 'uuid';
import type { Db } from '../db/db.ts';
import type { KeyProvider } from '../crypto/key-provider.ts';
import { decodeCursor, encodeCursor } from '../http/cursor.ts';
import { RequestError } from '../errors.ts';
import type { Actor } from '../access/permissions.ts';
import { auditActor, canonicalJson } from '../audit/audit-leaf.ts';
import { BackupError } from './backup-format.ts';
import { restoreBackup } from './backup-restore.ts';
import type { BackupService } from './backup-service.ts';
import type { BackupSummary, Verification, VerificationCheck, VerificationEvidence, VerificationRun } from './backup-schemas.ts';
import type { TenantKeks } from '../keys/tenant-keks.ts';
import { auditLogCheck, erasureLedgerCheck, migrationsCheck, recordDecryptionCheck, rowCountsCheck } from './restore-checks.ts';
import { verificationRepo, type VerificationRow } from './verification-repo.ts';
import { listPgBackups, type PgBackRestConfig } from './pgbackrest.ts';
import { readPgManifest } from './pg-manifest.ts';
import { PG_VERIFY_STEPS, pgRestoreChecks } from './pg-verify.ts';

/** The Ed25519 key that signs restore evidence (its own purpose, derived from the root key). */
export interface EvidenceSigner { keyId: string; publicKey: Buffer; sign(message: Buffer): Buffer }

export interface VerifyDeps {
  db: Db;
  keyProvider: KeyProvider;
  /** The root key with the tenant secrets: restored records are decrypted as the running store would. */
  tenantKeks: TenantKeks;
  backups: BackupService;
  backupDir: string;
  signer: EvidenceSigner;
  sample: number;
  /** PostgreSQL with pgBackRest (TRESOR_PGBACKREST_STANZA): its backups are the ones verified. */
  pgbackrest?: { cfg: PgBackRestConfig; databaseUrl: string };
  now?: () => Date;
  /** Where a background verification's unexpected failure is logged. */
  onError?: (msg: string, err: unknown) => void;
  /** Hears of each recorded outcome, pass or fail (the incident rule); must not throw or wait. */
  onRecorded?: (v: Verification) => void;
}

type OnStep = (step: string) => void;
const EMBEDDED_STEPS = ['restore', 'row_counts', 'record_decryption', 'migrations', 'audit_log', 'erasure_ledger'] as const;

// The checks that must pass (and none may fail) for a verification to pass.
// A row count that could only be compared approximately is `skipped`, visible
// in the evidence, and does not make a pgBackRest verification pass or fail.
const REQUIRED = { embedded: ['checksum', 'decryption', 'row_counts', 'record_decryption', 'migrations'], pgbackrest: ['restore', 'record_decryption', 'migrations'] };

// Where a restore failure shows up in the evidence: the step it stopped at.
const failedStep: Record<BackupError['code'], string> = {
  'backup.checksum_mismatch': 'checksum', 'backup.corrupt': 'decryption', 'backup.wrong_key': 'decryption',
  'backup.newer_schema': 'migrations', 'backup.target_not_empty': 'restore', 'backup.pgbackrest_failed': 'restore',
  'backup.production_into_non_production': 'restore',
};

function toVerification(row: VerificationRow): Verification {
  const evidence = JSON.parse(row.evidence.toString('utf8')) as VerificationEvidence;
  return { id: row.id, ...evidence, evidence: row.evidence.toString('base64'), signature: row.signature.toString('base64'),
    keyId: row.keyId, publicKey: row.publicKey.toString('base64') };
}

// A restore test: the backup is restored into a scratch data dir exactly as
// `tresor backup restore` would, the checks run on it, and the outcome is
// signed and appended to backup_verifications, pass or fail.
export function verifyServiceFactory({ db, keyProvider, tenantKeks, backups, backupDir, signer, sample, pgbackrest, now = () => new Date(), onError = () => {}, onRecorded }: VerifyDeps) {
  async function runChecks(summary: BackupSummary, onStep: OnStep): Promise<VerificationCheck[]> {
    const scratch = mkdtempSync(join(tmpdir(), 'tresor-verify-'));
    const checks: VerificationCheck[] = [];
    let restored: Db | undefined;
    try {
      onStep('restore');
      restored = await restoreBackup({ backupDir, summary, target: join(scratch, 'data'), keyProvider: () => keyProvider });
      checks.push({ name: 'checksum', status: 'passed', detail: 'SHA-256 of the file and of the decrypted snapshot match the manifest' },
        { name: 'decryption', status: 'passed', detail: 'every frame authenticated under the backup key' });
      onStep('row_counts');
      checks.push(await rowCountsCheck(restored, summary));
      onStep('record_decryption');
      checks.push(await recordDecryptionCheck(restored, tenantKeks, sample));
      onStep('migrations');
      checks.push(await migrationsCheck(restored, summary));
      onStep('audit_log');
      checks.push(await auditLogCheck(restored, keyProvider, summary));
      onStep('erasure_ledger');
      checks.push(await erasureLedgerCheck(restored, keyProvider, backupDir));
    } catch (err) {
      if (!(err instanceof BackupError)) throw err;
      checks.push({ name: failedStep[err.code], status: 'failed', detail: `${err.code}: ${err.message}` });
    } finally {
      await restored?.close();
      rmSync(scratch, { recursive: true, force: true });
    }
    return checks;
  }

  async function record(actor: Actor, backupId: string, checks: VerificationCheck[], id: string): Promise<Verification> {
    const required = REQUIRED[pgbackrest ? 'pgbackrest' : 'embedded'];
    const passed = required.every((name) => checks.some((c) => c.name === name && c.status === 'passed')) && !checks.some((c) => c.status === 'failed');
    const evidence: VerificationEvidence = { backupId, verifiedAt: now().toISOString(), result: passed ? 'passed' : 'failed', checks };
    // The signed bytes: the same canonical JSON (sorted keys) as audit leaves, so one rule rebuilds both.
    const bytes = Buffer.from(canonicalJson(evidence), 'utf8');
    const row: VerificationRow = { id, backupId, verifiedAt: new Date(evidence.verifiedAt), result: evidence.result,
      evidence: bytes, signature: signer.sign(bytes), keyId: signer.keyId, publicKey: signer.publicKey };
    await db.transaction(async (tx) => {
      await verificationRepo.insert(tx, row);
      tx.audit({ tenantId: null, action: 'backup.verify', actor: auditActor(actor), target: { type: 'backup', id: backupId }, detail: { result: evidence.result } });
    });
    if (passed) lastPassed.set(row.verifiedAt);
    const verification = toVerification(row);
    onRecorded?.(verification);
    return verification;
  }

  // A scrape must answer while the database is down or busy (PGlite runs one
  // transaction at a time), so /metrics reads this copy; it is refreshed from
  // the database in the background at most once a minute, which also brings
  // passes recorded by other nodes.
  const lastPassed = knownValue<Date | null>(null, LAST_PASSED_REFRESH_MS, () => db.transaction((tx) => verificationRepo.lastPassedAt(tx)));

  // One verification at a time per process (a restore test of a large store
  // takes minutes and a scratch copy as large as the store). Runs started over
  // the API are kept in memory, newest last, a handful; their outcome is also
  // in backup_verifications under the same id.
  let running = false;
  let settled: Promise<unknown> = Promise.resolve();
  const runs = new Map<string, VerificationRun>();
  const remember = (run: VerificationRun) => { runs.set(run.id, run); if (runs.size > 20) runs.delete(runs.keys().next().value as string); };

  type Target = { backupId: string; steps: readonly string[]; check: (onStep: OnStep) => Promise<VerificationCheck[]> };
  /** The backup to verify (`backupId`, or the newest), and how: before anything is claimed, so a wrong id answers 404 at once. */
  async function target(backupId?: string): Promise<Target> {
    if (pgbackrest) {
      const all = await listPgBackups(pgbackrest.cfg);
      const backup = backupId ? all.find((b) => b.id === backupId) : all[0];
      if (!backup) throw new RequestError('backup.not_found', backupId ? `No backup ${backupId} in the pgBackRest repository` : 'There is no backup to verify yet');
      const manifest = readPgManifest(backupDir, backup.id, backup.manifestId);
      return { backupId: backup.id, steps: PG_VERIFY_STEPS, check: (onStep) => pgRestoreChecks({ ...pgbackrest, keyProvider, tenantKeks, sample, backupDir }, backup, manifest, onStep) };
    }
    const summary = backupId ? backups.get(backupId) : backups.list()[0];
    if (!summary) throw new RequestError('backup.not_found', 'There is no backup to verify yet');
    return { backupId: summary.id, steps: EMBEDDED_STEPS, check: (onStep) => runChecks(summary, onStep) };
  }

  function claim(): void {
    if (running) throw new RequestError('backup.verification_in_progress');
    running = true;
  }

  async function execute(actor: Actor, id: string, t: Target, onStep: OnStep): Promise<Verification> {
    try { return await record(actor, t.backupId, await t.check(onStep), id); } finally { running = false; }
  }

  return {
    /** Verifies `backupId`, or the newest backup when none is named, and waits for the outcome (the scheduled job). */
    async verify(actor: Actor, backupId?: string): Promise<Verification> {
      const t = await target(backupId);
      claim();
      return execute(actor, uuidv7(), t, () => {});
    },
    /** Starts a verification in the background (a restore test takes minutes); follow it with status(id). */
    async start(actor: Actor, backupId?: string): Promise<VerificationRun> {
      const t = await target(backupId);
      claim();
      const run: VerificationRun = { id: uuidv7(), backupId: t.backupId, status: 'running', step: t.steps[0], stepsDone: 0, stepsTotal: t.steps.length,
        error: null, verification: null };
      remember(run);
      settled = execute(actor, run.id, t, (step) => { run.step = step; run.stepsDone = Math.max(run.stepsDone, t.steps.indexOf(step)); }).then(
        (verification) => { run.status = 'complete'; run.stepsDone = run.stepsTotal; run.verification = verification; },
        (err) => {
          run.status = 'failed';
          const coded = err instanceof RequestError;
          run.error = { code: coded ? err.code : 'internal.error', detail: coded ? err.message : 'the verification could not run; the server log has the details' };
          if (!coded) onError(`restore verification ${run.id} failed to run`, err);
        });
      return { ...run };
    },
    async status(id: string): Promise<VerificationRun> {
      const run = runs.get(id);
      if (run) return { ...run };
      const row = await db.transaction((tx) => verificationRepo.get(tx, id));
      if (!row) throw new RequestError('backup.verification_not_found');
      const verification = toVerification(row);
      return { id, backupId: verification.backupId, status: 'complete', step: 'done', stepsDone: 1, stepsTotal: 1, error: null, verification };
    },
    /** Resolves when the verification started last has finished (tests, shutdown). */
    idle: () => settled.then(() => {}, () => {}),
    /** Whether there is a backup to verify (the scheduled job waits for the first). */
    hasBackups: async () => (pgbackrest ? (await listPgBackups(pgbackrest.cfg)).length : backups.list().length) > 0,
    async list(page: { limit: number; cursor?: string }) {
      const rows = await db.transaction((tx) => verificationRepo.list(tx, page.cursor ? decodeCursor(page.cursor) : null, page.limit + 1));
      const items = rows.slice(0, page.limit).map(toVerification);
      return { items, nextCursor: rows.length > page.limit ? encodeCursor(items[items.length - 1].id) : null };
    },
    lastPassedAt: () => db.transaction((tx) => verificationRepo.lastPassedAt(tx)),
    /** The last pass as this process knows it, for /metrics: never waits for the database. */
    lastPassedKnown: () => lastPassed.get(),
    lastAt: () => db.transaction((tx) => verificationRepo.lastAt(tx)),
  };
}

export type VerifyService = ReturnType<typeof verifyServiceFactory>;

const LAST_PASSED_REFRESH_MS = 60_000;

/** A value read from the database in the background, never awaited by its readers. */
function knownValue<T>(initial: T, refreshMs: number, load: () => Promise<T>) {
  let value = initial;
  let loadedAt = -Infinity;
  let loading = false;
  let generation = 0;
  return {
    get(): T {
      if (!loading && Date.now() - loadedAt > refreshMs) {
        loading = true;
        const started = generation;
        // A set() while the read was under way is newer than what it returns.
        load().then((v) => { if (generation === started) { value = v; loadedAt = Date.now(); } }, () => {}).finally(() => { loading = false; });
      }
      return value;
    },
    set(v: T): void { value = v; loadedAt = Date.now(); generation++; },
  };
}
