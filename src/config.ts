import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { isIP } from 'node:net';
import { Type, type Static, type TSchema } from 'typebox';
import type { StartupCode } from './errors.ts';
import { destinationOf, parseAllowlist, parseDnsServers } from './transfer/destinations.ts';
import { parseClockOffset } from './clock.ts';

// One schema for environment variables and the optional JSON config file
// (TRESOR_CONFIG). Each property is a setting: its JSON key is the property
// name, `env` its environment variable, plus type, default, bounds and a
// one-line description (docs/configuration.md's table is generated from
// it). The environment wins over the file. There are no secret defaults.

interface Doc {
  env: string;
  description: string;
  /** How the default reads in docs/configuration.md when it is not a plain value. */
  docDefault?: string;
  /** Shown as KiB/MiB/GiB in docs/configuration.md. */
  bytes?: boolean;
  /** Never echoed in a problem message. */
  secret?: boolean;
}
type Bounds = { minimum?: number; maximum?: number };

const KiB = 1024;
const MiB = 1024 * KiB;
const int = (def: number, bounds: Bounds, doc: Doc) => Type.Integer({ default: def, ...bounds, ...doc });
const str = (def: string | undefined, doc: Doc) => Type.String({ minLength: 1, ...(def === undefined ? {} : { default: def }), ...doc });
const oneOf = <const V extends string[]>(values: [...V], def: V[number], doc: Doc) => Type.Enum(values, { default: def, ...doc });

export const ConfigSchema = Type.Object({
  databaseUrl: Type.Optional(str(undefined, { env: 'DATABASE_URL', secret: true, docDefault: 'unset → embedded PGlite',
    description: '`postgres://…` for PostgreSQL ≥ 15; multi-host URLs (`host1,host2/db?target_session_attrs=read-write`) work' })),
  databaseCaFile: Type.Optional(str(undefined, { env: 'TRESOR_DATABASE_CA_FILE', docDefault: 'unset → as `DATABASE_URL`\'s `sslmode` says',
    description: 'PEM CA certificate(s) that PostgreSQL\'s certificate must chain to; the connection then uses TLS as `sslmode=verify-full` (chain and host name checked)' })),
  environment: oneOf(['production', 'staging', 'test'], 'production', { env: 'TRESOR_ENVIRONMENT',
    description: 'what this deployment holds: `production` (real personal data), `staging` or `test` (pseudonymised or synthetic data only); shown in the `Tresor-Environment` header and `/healthz`' }),
  dataDir: str('./data', { env: 'TRESOR_DATA_DIR', description: 'embedded store (`pglite/`), lock file, default key file location' }),
  port: int(8080, { minimum: 0, maximum: 65535 }, { env: 'PORT', description: 'TCP port to listen on' }),
  host: str('127.0.0.1', { env: 'HOST', description: 'address to listen on (loopback unless told otherwise); a non-loopback address needs TLS (`TRESOR_TLS_CERT_FILE`) or a trusted proxy (`TRESOR_TRUSTED_PROXIES`)' }),
  metricsPort: Type.Optional(Type.Integer({ minimum: 1, maximum: 65535, env: 'TRESOR_METRICS_PORT', docDefault: 'unset → `/metrics` on the main listener',
    description: 'serve `/metrics` only on this port (on `HOST`), so it can stay off the public listener' })),
  tlsCertFile: Type.Optional(str(undefined, { env: 'TRESOR_TLS_CERT_FILE', docDefault: 'unset → plain HTTP, refused unless `HOST` is loopback or a trusted proxy terminates TLS',
    description: 'PEM certificate chain (the certificate, then its intermediates) for HTTPS: TLS 1.2 and 1.3 with Mozilla\'s intermediate ciphers; re-read on SIGHUP' })),
  tlsKeyFile: Type.Optional(str(undefined, { env: 'TRESOR_TLS_KEY_FILE', docDefault: 'unset → plain HTTP (see `TRESOR_TLS_CERT_FILE`)',
    description: "PEM private key of `TRESOR_TLS_CERT_FILE` (unencrypted; keep it 0600); re-read on SIGHUP" })),
  hstsMaxAgeSeconds: int(63_072_000, { minimum: 0, maximum: 63_072_000 }, { env: 'TRESOR_HSTS_MAX_AGE_S',
    description: '`Strict-Transport-Security: max-age=…` on every answer served over HTTPS, directly or through a trusted proxy (2 years, as Mozilla advises; 0 tells browsers to forget it)' }),
  keyProvider: oneOf(['file', 'passphrase'], 'file', { env: 'TRESOR_KEY_PROVIDER',
    description: '`file` (32 random bytes in a 0600 file, created on first start) or `passphrase` (scrypt)' }),
  keyFile: str(undefined, { env: 'TRESOR_KEY_FILE', docDefault: '`<data dir>/keys/root.key`',
    description: 'root key of the `file` provider; keep it out of database backups' }),
  tenantKeyDir: str(undefined, { env: 'TRESOR_TENANT_KEY_DIR', docDefault: '`<key file dir>/tenants`',
    description: "one secret per tenant (`<tenant id>.key`, 0600), from which with the root key each tenant's key-encryption key is derived; the purge deletes a tenant's file, which makes its keys unreadable in backups and replicas too. Share it between nodes like the root key; keep it out of database backups" }),
  keyPassphrase: Type.Optional(str(undefined, { env: 'TRESOR_KEY_PASSPHRASE', secret: true,
    description: 'required with the `passphrase` provider (≥ 12 characters)' })),
  backupDir: str('./backups', { env: 'TRESOR_BACKUP_DIR', description: 'encrypted backups of the embedded store (`<id>.tresorbak` and its summary `<id>.json`); never holds the root key' }),
  backupKeep: int(7, { minimum: 1, maximum: 1000 }, { env: 'TRESOR_BACKUP_KEEP', description: 'backups kept in `TRESOR_BACKUP_DIR`: older ones are deleted after each new backup' }),
  backupIntervalMs: int(24 * 3600_000, { minimum: 0 }, { env: 'TRESOR_BACKUP_INTERVAL_MS',
    description: 'scheduled backups of the embedded store: one when the newest is older than this (0: none scheduled)' }),
  backupVerifyIntervalMs: int(7 * 24 * 3600_000, { minimum: 0 }, { env: 'TRESOR_BACKUP_VERIFY_INTERVAL_MS',
    description: 'scheduled restore verification of the newest backup when the last verification is older than this (0: none scheduled)' }),
  backupVerifySample: int(20, { minimum: 1, maximum: 10_000 }, { env: 'TRESOR_BACKUP_VERIFY_SAMPLE',
    description: 'records per tenant that a restore verification decrypts' }),
  pgbackrestStanza: Type.Optional(str(undefined, { env: 'TRESOR_PGBACKREST_STANZA', docDefault: 'unset → backups of the embedded store',
    description: 'with PostgreSQL: `tresor backup create|list|restore` run pgBackRest for this stanza, and restore verification (`tresor backup verify`, the weekly job) verifies its backups (see `ops/pgbackrest/`)' })),
  pgbackrestConfig: Type.Optional(str(undefined, { env: 'TRESOR_PGBACKREST_CONFIG', docDefault: "unset → pgBackRest's default",
    description: 'the pgbackrest.conf that `tresor backup` passes to pgBackRest' })),
  logLevel: oneOf(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], 'info', { env: 'LOG_LEVEL',
    description: 'pino level; authorization headers are redacted, bodies never logged' }),
  workers: int(1, { minimum: 1, maximum: 64 }, { env: 'TRESOR_WORKERS', description: 'server processes (PostgreSQL only)' }),
  bodyLimitBytes: int(MiB, { minimum: KiB }, { env: 'TRESOR_BODY_LIMIT', bytes: true, description: 'JSON body limit' }),
  importLimitBytes: int(1024 * MiB, { minimum: KiB }, { env: 'TRESOR_IMPORT_LIMIT', bytes: true, description: 'NDJSON import limit (streamed)' }),
  headersTimeoutMs: int(10_000, { minimum: 10, maximum: 300_000 }, { env: 'TRESOR_HEADERS_TIMEOUT_MS',
    description: 'a client must send its request headers within this; slower connections are closed (slow-loris)' }),
  requestTimeoutMs: int(30_000, { minimum: 10 }, { env: 'TRESOR_REQUEST_TIMEOUT_MS',
    description: 'a JSON request (headers and body) must arrive within this, or its connection is closed' }),
  importTimeoutMs: int(3_600_000, { minimum: 10 }, { env: 'TRESOR_IMPORT_TIMEOUT_MS',
    description: 'an NDJSON import must arrive within this (time enough for `TRESOR_IMPORT_LIMIT` at about 300 KiB/s)' }),
  keepAliveTimeoutMs: int(5_000, { minimum: 10 }, { env: 'TRESOR_KEEP_ALIVE_TIMEOUT_MS', description: 'an idle keep-alive connection is closed after this' }),
  importBatchSize: int(1000, { minimum: 1, maximum: 10000 }, { env: 'TRESOR_IMPORT_BATCH', description: 'records per import transaction' }),
  importLineMaxBytes: int(256 * KiB, { minimum: KiB }, { env: 'TRESOR_IMPORT_LINE_MAX_BYTES', bytes: true,
    description: 'longest NDJSON line (room for JSON escapes around a record of `TRESOR_RECORD_MAX_BYTES`); longer lines are rejected unread' }),
  importBatchBytes: int(8 * MiB, { minimum: KiB }, { env: 'TRESOR_IMPORT_BATCH_BYTES', bytes: true,
    description: 'bytes of NDJSON per encode batch, so large lines do not multiply memory' }),
  importDedupMax: int(100_000, { minimum: 0 }, { env: 'TRESOR_IMPORT_DEDUP_MAX',
    description: 'unique values remembered per import (about 120 bytes each) to refuse in-file duplicates early; beyond it the database still refuses them' }),
  importReportMax: int(1000, { minimum: 0 }, { env: 'TRESOR_IMPORT_REPORT_MAX', description: 'rejected lines listed in an import answer (all are counted)' }),
  // Encoding is most of an import's CPU: one worker per core (started on the first import).
  importWorkers: int(Math.min(availableParallelism(), 8), { minimum: 1, maximum: 32 }, { env: 'TRESOR_IMPORT_WORKERS', docDefault: 'CPU cores, at most 8',
    description: 'worker threads that parse, validate and encrypt import lines' }),
  dbPoolMax: int(10, { minimum: 1, maximum: 200 }, { env: 'TRESOR_DB_POOL_MAX', description: 'PostgreSQL connections per process' }),
  dbConnectTimeoutMs: int(5000, { minimum: 100 }, { env: 'TRESOR_DB_CONNECT_TIMEOUT_MS',
    description: 'an unreachable database answers 503 with `Retry-After` after this wait' }),
  dbStatementTimeoutMs: int(30000, { minimum: 100 }, { env: 'TRESOR_DB_STATEMENT_TIMEOUT_MS',
    description: 'a too slow statement answers 503; a tenant transaction is given up after connect + 2 × statement timeout' }),
  keyCacheMax: int(1000, { minimum: 1 }, { env: 'TRESOR_KEY_CACHE_MAX', description: 'unwrapped tenant key rings kept in memory' }),
  keyCacheTtlMs: int(5000, { minimum: 1 }, { env: 'TRESOR_KEY_CACHE_TTL_MS',
    description: 'how long a key ring stays cached; a rotation elsewhere is seen within it' }),
  authCacheTtlMs: int(5000, { minimum: 1 }, { env: 'TRESOR_AUTH_CACHE_TTL_MS',
    description: 'how long a validated API key stays cached; a revocation reaches other processes within it' }),
  authCacheMax: int(10_000, { minimum: 1 }, { env: 'TRESOR_AUTH_CACHE_MAX', description: 'validated API keys kept in memory' }),
  keyTouchIntervalMs: int(60_000, { minimum: 0 }, { env: 'TRESOR_KEY_TOUCH_INTERVAL_MS',
    description: "how often an API key's lastUsedAt is written, at most, per process (0: on every request)" }),
  collectionCacheTtlMs: int(24 * 3600_000, { minimum: 1 }, { env: 'TRESOR_COLLECTION_CACHE_TTL_MS',
    description: 'how long a collection definition stays cached (definitions never change once created)' }),
  collectionCacheMax: int(10_000, { minimum: 1 }, { env: 'TRESOR_COLLECTION_CACHE_MAX', description: 'collection definitions kept in memory' }),
  apiKeyMaxDays: int(3650, { minimum: 1, maximum: 36_500 }, { env: 'TRESOR_API_KEY_MAX_DAYS',
    description: 'furthest a tenant API key\'s `expiresAt` may lie ahead, in days' }),
  supportGrantMaxMinutes: int(240, { minimum: 1, maximum: 240 }, { env: 'TRESOR_SUPPORT_GRANT_MAX_MINUTES',
    description: 'longest break-glass support grant a support actor may ask for, in minutes (at most 4 hours)' }),
  requireInstruction: Type.Optional(Type.Enum(['on', 'off'], { env: 'TRESOR_REQUIRE_INSTRUCTION', docDefault: '`on` when `TRESOR_ENVIRONMENT=production`, else `off`',
    description: '`on`: a tenant without a confirmed instruction may not process data (403 `instruction.not_covered`); `off` lets it, until it has one' })),
  instructionCacheTtlMs: int(5000, { minimum: 1 }, { env: 'TRESOR_INSTRUCTION_CACHE_TTL_MS',
    description: 'how long a tenant\'s confirmed instruction stays cached; a confirmation on another process is seen within it' }),
  egressAllow: Type.Optional(str(undefined, { env: 'TRESOR_EGRESS_ALLOW', docDefault: 'unset → nothing leaves',
    description: 'the egress allowlist: comma-separated `CC url-prefix [internal]` (country code, http(s) URL prefix; `internal` lets it resolve to a private or loopback address), e.g. `DE https://siem.example.eu/`; every outbound connection must fall under one' })),
  egressTimeoutMs: int(10_000, { minimum: 100, maximum: 300_000 }, { env: 'TRESOR_EGRESS_TIMEOUT_MS',
    description: 'an outbound request must be answered within this (for a streamed export: each wait for the destination)' }),
  egressDnsServers: Type.Optional(str(undefined, { env: 'TRESOR_EGRESS_DNS_SERVERS', docDefault: 'unset → the system resolver (`/etc/hosts` included)',
    description: 'comma-separated DNS servers (`IP`, `IP:port`, `[IPv6]:port`) that egress asks for the A and AAAA records of a destination name, instead of the system resolver' })),
  egressResponseMaxBytes: int(64 * KiB, { minimum: 1, maximum: 16 * MiB }, { env: 'TRESOR_EGRESS_RESPONSE_MAX_BYTES', bytes: true,
    description: 'largest answer read from a destination; a longer one fails the transfer' }),
  subProcessorObjectionDays: int(30, { minimum: 1, maximum: 365 }, { env: 'TRESOR_SUB_PROCESSOR_OBJECTION_DAYS',
    description: 'days after a sub-processor change is announced during which tenants may object to it' }),
  subProcessorNoticeAttempts: int(10, { minimum: 1, maximum: 100 }, { env: 'TRESOR_SUB_PROCESSOR_NOTICE_ATTEMPTS',
    description: 'deliveries of one announcement to one tenant tried before it is given up (the operator sees it in the deliveries list)' }),
  subProcessorNoticeRetryMs: int(60_000, { minimum: 1000 }, { env: 'TRESOR_SUB_PROCESSOR_NOTICE_RETRY_MS',
    description: 'wait before the first retry of an announcement; each further retry waits twice as long, at most 6 hours' }),
  subProcessorOutboxPollMs: int(60_000, { minimum: 1000 }, { env: 'TRESOR_SUB_PROCESSOR_OUTBOX_POLL_MS',
    description: 'how often the job leader delivers due sub-processor announcements' }),
  securityAlertUrl: Type.Optional(str(undefined, { env: 'TRESOR_SECURITY_ALERT_URL', docDefault: 'unset → no alerts',
    description: 'webhook that receives a JSON POST on a lockout and on repeated refusals; it must be covered by `TRESOR_EGRESS_ALLOW` (sent through the egress module, logged as a transfer)' })),
  securityAlertTimeoutMs: int(5000, { minimum: 100, maximum: 60_000 }, { env: 'TRESOR_SECURITY_ALERT_TIMEOUT_MS', description: 'timeout of one alert POST' }),
  securityAlertQueueMax: int(100, { minimum: 1, maximum: 10_000 }, { env: 'TRESOR_SECURITY_ALERT_QUEUE_MAX',
    description: 'alerts waiting to be sent; beyond it new alerts are dropped (requests never wait for alerts)' }),
  denialAlertThreshold: int(10, { minimum: 1, maximum: 10_000 }, { env: 'TRESOR_DENIAL_ALERT_THRESHOLD',
    description: 'refusals of one credential within `TRESOR_DENIAL_ALERT_WINDOW_MS` that raise an alert' }),
  denialAlertWindowMs: int(60_000, { minimum: 1000 }, { env: 'TRESOR_DENIAL_ALERT_WINDOW_MS', description: 'window of the repeated-refusals alert' }),
  incidentAlertUrl: Type.Optional(str(undefined, { env: 'TRESOR_INCIDENT_ALERT_URL', docDefault: 'unset → `TRESOR_SECURITY_ALERT_URL`, if set',
    description: 'webhook that receives the 72-hour clock\'s warnings (24, 48 and 66 hours after an incident\'s aware-at) as a JSON POST; it must be covered by `TRESOR_EGRESS_ALLOW`' })),
  incidentClockPollMs: int(60_000, { minimum: 1000, maximum: 3_600_000 }, { env: 'TRESOR_INCIDENT_CLOCK_POLL_MS',
    description: 'how often the job leader checks open incidents against the 72-hour clock (a warning is at most this late)' }),
  incidentDedupHours: int(24, { minimum: 1, maximum: 720 }, { env: 'TRESOR_INCIDENT_DEDUP_HOURS',
    description: 'an automatic rule opens at most one incident per subject within this many hours; further hits become timeline events of the open one' }),
  incidentDenialThreshold: int(50, { minimum: 2, maximum: 100_000 }, { env: 'TRESOR_INCIDENT_DENIAL_THRESHOLD',
    description: 'refusals (403/404) of one credential within `TRESOR_INCIDENT_BURST_WINDOW_MS` that open an incident' }),
  incidentLockoutThreshold: int(3, { minimum: 1, maximum: 10_000 }, { env: 'TRESOR_INCIDENT_LOCKOUT_THRESHOLD',
    description: 'account lockouts in one tenant (or on the platform) within `TRESOR_INCIDENT_BURST_WINDOW_MS` that open an incident' }),
  incidentBurstWindowMs: int(600_000, { minimum: 1000, maximum: 86_400_000 }, { env: 'TRESOR_INCIDENT_BURST_WINDOW_MS',
    description: 'sliding window of the denied-access and lockout burst rules' }),
  incidentRecordIdsMax: int(10_000, { minimum: 1, maximum: 100_000 }, { env: 'TRESOR_INCIDENT_RECORD_IDS_MAX',
    description: 'record ids kept per affected tenant by an affected-records query (the counts are always complete)' }),
  dpoContact: Type.Optional(str(undefined, { env: 'TRESOR_DPO_CONTACT', docDefault: 'unset → the drafts ask for one',
    description: 'the contact point named in breach notification drafts (Art. 33(3)(b)): the data protection officer\'s name and address, e.g. `Datenschutz, Beispiel GmbH, dsb@example.eu`' })),
  retryAfterSeconds: int(5, { minimum: 1, maximum: 3600 }, { env: 'TRESOR_RETRY_AFTER_S',
    description: '`Retry-After` of a 503 answer while the database is unavailable' }),
  rotationBatchSize: int(500, { minimum: 1, maximum: 10000 }, { env: 'TRESOR_ROTATION_BATCH',
    description: 'records re-encrypted per transaction on PostgreSQL' }),
  embeddedRotationBatch: int(50, { minimum: 1, maximum: 10000 }, { env: 'TRESOR_EMBEDDED_ROTATION_BATCH',
    description: 'records re-encrypted per transaction on the embedded store, kept small so requests get through between batches' }),
  rotationPollMs: int(1000, { minimum: 100 }, { env: 'TRESOR_ROTATION_POLL_MS',
    description: 'how often the job leader looks for re-encryption work (a rotation asked for on another node starts within it)' }),
  rotationRetireMarginMs: int(1000, { minimum: 0 }, { env: 'TRESOR_ROTATION_RETIRE_MARGIN_MS',
    description: 'wait beyond TRESOR_KEY_CACHE_TTL_MS before an old key version retires, for requests that read a cached ring just before it expired and clocks that differ between nodes' }),
  jobRetries: int(5, { minimum: 0, maximum: 100 }, { env: 'TRESOR_JOB_RETRIES',
    description: 'transient failures (database unavailable, timeout, deadlock) a background job run retries before waiting for its next tick' }),
  auditSequenceMs: int(1000, { minimum: 10, maximum: 3_600_000 }, { env: 'TRESOR_AUDIT_SEQUENCE_MS',
    description: 'the audit sequencer runs this often: committed entries get their seq and a new signed tree head' }),
  auditSequenceBatch: int(1000, { minimum: 1, maximum: 100_000 }, { env: 'TRESOR_AUDIT_SEQUENCE_BATCH',
    description: 'entries per tree extension (one transaction, one signed tree head each)' }),
  auditRetentionMonths: int(13, { minimum: 1, maximum: 1200 }, { env: 'TRESOR_AUDIT_RETENTION_MONTHS',
    description: 'a closed tenant\'s audit entries are redacted this many months after its closure (leaf hashes stay, so the log still verifies)' }),
  auditRetentionPollMs: int(3_600_000, { minimum: 1000 }, { env: 'TRESOR_AUDIT_RETENTION_POLL_MS', description: 'how often the job leader looks for audit entries due for redaction' }),
  auditRetentionBatch: int(1000, { minimum: 1, maximum: 100_000 }, { env: 'TRESOR_AUDIT_RETENTION_BATCH', description: 'audit entries redacted per transaction' }),
  pseudonymMappingDays: int(30, { minimum: 1, maximum: 365 }, { env: 'TRESOR_PSEUDONYM_MAPPING_DAYS',
    description: 'after a pseudonym key rotation, the old version\'s pseudonyms stay resolvable this many days; then its mappings and key are deleted' }),
  pseudonymMaxVersions: int(3, { minimum: 2, maximum: 10 }, { env: 'TRESOR_PSEUDONYM_MAX_VERSIONS',
    description: 'pseudonym key versions live at once (active plus those in their mapping period); a rotation beyond it is refused' }),
  pseudonymRekeyBatch: int(1000, { minimum: 1, maximum: 100_000 }, { env: 'TRESOR_PSEUDONYM_REKEY_BATCH',
    description: 'mappings re-keyed per statement when a pseudonym key rotates' }),
  pseudonymRetirePollMs: int(3_600_000, { minimum: 1000 }, { env: 'TRESOR_PSEUDONYM_RETIRE_POLL_MS',
    description: 'how often the job leader retires pseudonym key versions whose mapping period is over' }),
  retentionPollMs: int(3_600_000, { minimum: 1000 }, { env: 'TRESOR_RETENTION_POLL_MS',
    description: 'how often the job leader enforces retention policies and purges closed tenants whose retention period ended' }),
  retentionBatch: int(1000, { minimum: 1, maximum: 10_000 }, { env: 'TRESOR_RETENTION_BATCH',
    description: 'records deleted per transaction by retention (one audit entry each), and rows per transaction by a tenant purge' }),
  closedTenantRetentionMonths: int(13, { minimum: 1, maximum: 1200 }, { env: 'TRESOR_CLOSED_TENANT_RETENTION_MONTHS',
    description: 'a closed tenant is kept (read-only, reopenable) this many months; then its keys are destroyed, its rows deleted and a deletion certificate issued' }),
  clockOffset: Type.Optional(str(undefined, { env: 'TRESOR_CLOCK_OFFSET', docDefault: 'unset → real time',
    description: 'staging and test only (refused in production): run the clock of retention, closure and time-bound access ahead, as an ISO 8601 duration (`P13M`, `P400D`) or `+13mo`, `+400d`, `+12h`' })),
  trustedProxies: Type.Optional(str(undefined, { env: 'TRESOR_TRUSTED_PROXIES', docDefault: 'unset → `X-Forwarded-For` is ignored',
    description: 'comma-separated IPs or CIDRs of reverse proxies whose `X-Forwarded-For` gives the client IP (request log, IP-based limits) and whose `X-Forwarded-Proto: https` counts as HTTPS (HSTS; the only plain-HTTP requests served on a non-loopback `HOST`)' })),
  requestLogFlushMs: int(1000, { minimum: 10, maximum: 60_000 }, { env: 'TRESOR_REQUEST_LOG_FLUSH_MS',
    description: 'request-log entries are written this often (a crash loses at most this much of the request log)' }),
  requestLogBufferMax: int(10_000, { minimum: 1 }, { env: 'TRESOR_REQUEST_LOG_BUFFER',
    description: 'request-log entries held in memory at most; when the database falls behind, new ones are dropped and counted in `tresor_request_log_entries_total{outcome="dropped"}`' }),
  requestLogBatchMax: int(500, { minimum: 1, maximum: 10_000 }, { env: 'TRESOR_REQUEST_LOG_BATCH', description: 'request-log entries per INSERT' }),
  requestLogFieldMax: int(512, { minimum: 16, maximum: 8192 }, { env: 'TRESOR_REQUEST_LOG_FIELD_MAX',
    description: 'characters of a request path or user agent kept in the request log (longer ones are cut)' }),
  jobRetryBaseMs: int(200, { minimum: 1 }, { env: 'TRESOR_JOB_RETRY_BASE_MS', description: 'first wait before a job retry; each further retry waits twice as long' }),
  maxFields: int(100, { minimum: 1, maximum: 1000 }, { env: 'TRESOR_MAX_FIELDS', description: 'fields per collection' }),
  maxLengthCap: int(65535, { minimum: 1 }, { env: 'TRESOR_MAX_LENGTH_CAP', description: 'largest `maxLength` a collection may declare' }),
  defaultMaxLength: int(1000, { minimum: 1 }, { env: 'TRESOR_DEFAULT_MAX_LENGTH',
    description: '`maxLength` (characters) of a string field whose definition gives none' }),
  jsonMaxBytes: int(64 * KiB, { minimum: 1 }, { env: 'TRESOR_JSON_MAX_BYTES', bytes: true, description: 'largest value of a `json` field, serialised' }),
  recordMaxBytes: int(64 * KiB, { minimum: KiB }, { env: 'TRESOR_RECORD_MAX_BYTES', bytes: true,
    description: "largest record: its data serialised as JSON (create, patch, import line); larger answers 422 with `record.too_large`" }),
  paymentCardGuard: oneOf(['on', 'off'], 'on', { env: 'TRESOR_PAYMENT_CARD_GUARD',
    description: 'refuse writes holding a payment card number (422 `payment.card_data_rejected`); `off` only outside production (to measure its cost)' }),
  exportPageSize: int(500, { minimum: 1, maximum: 10_000 }, { env: 'TRESOR_EXPORT_PAGE',
    description: 'records per read of a tenant export (one short transaction each; the next is read when the client has taken the last)' }),
  pageMaxBytes: int(4 * MiB, { minimum: KiB }, { env: 'TRESOR_PAGE_MAX_BYTES', bytes: true,
    description: 'a list or search page stops early (with `nextCursor`) before its records exceed this; at least one record is returned' }),
  listDefaultLimit: int(50, { minimum: 1 }, { env: 'TRESOR_LIST_DEFAULT_LIMIT', description: 'page size of lists and searches without `limit`' }),
  listMaxLimit: int(500, { minimum: 1 }, { env: 'TRESOR_LIST_MAX_LIMIT', description: 'largest `limit` of lists and searches' }),
  argon2MemoryKiB: int(19_456, { minimum: 8192, maximum: 4 * 1024 * 1024 }, { env: 'TRESOR_ARGON2_MEMORY_KIB',
    description: 'argon2id memory cost of password hashes in KiB (OWASP: 19 MiB); stored hashes with other parameters are re-hashed at the next login' }),
  argon2Iterations: int(2, { minimum: 1, maximum: 100 }, { env: 'TRESOR_ARGON2_ITERATIONS', description: 'argon2id time cost (passes over memory)' }),
  argon2Parallelism: int(1, { minimum: 1, maximum: 16 }, { env: 'TRESOR_ARGON2_PARALLELISM', description: 'argon2id lanes' }),
  passwordMinLength: int(12, { minimum: 8, maximum: 64 }, { env: 'TRESOR_PASSWORD_MIN_LENGTH',
    description: 'shortest password (characters); a tenant may ask for more, up to 64' }),
  passwordMaxLength: int(128, { minimum: 128, maximum: 1024 }, { env: 'TRESOR_PASSWORD_MAX_LENGTH', description: 'longest password accepted (characters)' }),
  passwordComposition: oneOf(['off', 'on'], 'off', { env: 'TRESOR_PASSWORD_COMPOSITION',
    description: '`on` also asks for lower case, upper case, a digit and a symbol (NIST SP 800-63B advises against; a tenant may turn it on)' }),
  passwordMaxAgeDays: int(0, { minimum: 0, maximum: 3650 }, { env: 'TRESOR_PASSWORD_MAX_AGE_DAYS',
    description: 'a password older than this must be changed at the next login (0: never, as NIST advises)' }),
  passwordHistory: int(0, { minimum: 0, maximum: 24 }, { env: 'TRESOR_PASSWORD_HISTORY', description: 'earlier passwords a new one may not repeat (0: off)' }),
  sessionIdleMinutes: int(15, { minimum: 1, maximum: 24 * 60 }, { env: 'TRESOR_SESSION_IDLE_MINUTES',
    description: 'a session unused this long ends; the most a tenant may set' }),
  sessionAbsoluteMinutes: int(12 * 60, { minimum: 1, maximum: 30 * 24 * 60 }, { env: 'TRESOR_SESSION_ABSOLUTE_MINUTES',
    description: 'a session ends this long after login, used or not; the most a tenant may set' }),
  sessionTouchIntervalMs: int(60_000, { minimum: 0, maximum: 600_000 }, { env: 'TRESOR_SESSION_TOUCH_INTERVAL_MS',
    description: "how often a session's last use is written, at most (an idle session may end up to this much early)" }),
  invitationTtlMinutes: int(7 * 24 * 60, { minimum: 5, maximum: 30 * 24 * 60 }, { env: 'TRESOR_INVITATION_TTL_MINUTES', description: 'an invitation token expires after this' }),
  passwordResetTtlMinutes: int(30, { minimum: 5, maximum: 24 * 60 }, { env: 'TRESOR_PASSWORD_RESET_TTL_MINUTES', description: 'a password reset token expires after this' }),
  loginStepTtlMinutes: int(10, { minimum: 1, maximum: 60 }, { env: 'TRESOR_LOGIN_STEP_TTL_MINUTES',
    description: 'the `mfaToken` or `enrollmentToken` of a login must be used within this' }),
  loginLockThreshold: int(10, { minimum: 3, maximum: 100 }, { env: 'TRESOR_LOGIN_LOCK_THRESHOLD', description: 'consecutive failed logins that lock an account' }),
  loginLockMinutes: int(15, { minimum: 1, maximum: 24 * 60 }, { env: 'TRESOR_LOGIN_LOCK_MINUTES', description: 'how long a locked account stays locked' }),
  loginMaxFailuresPerHour: int(100, { minimum: 10, maximum: 100 }, { env: 'TRESOR_LOGIN_MAX_FAILURES_PER_HOUR',
    description: 'failed logins per account per hour, locks included, after which it waits for the next hour' }),
  loginMaxFailuresPerIpHour: int(300, { minimum: 10, maximum: 100_000 }, { env: 'TRESOR_LOGIN_MAX_FAILURES_PER_IP_HOUR',
    description: 'failed logins from one source address per hour before it is refused until the hour ends' }),
  patroniUrl: Type.Optional(str(undefined, { env: 'TRESOR_PATRONI_URL', docDefault: 'unset → failover not checked',
    description: 'with PostgreSQL under Patroni: the REST API of each Patroni member, comma-separated (e.g. `http://10.0.0.5:8008,http://10.0.0.6:8008`); the TOM register reads `/cluster` from the first that answers as failover evidence, so a lost member does not hide a working failover' })),
  patroniTimeoutMs: int(5000, { minimum: 100, maximum: 60_000 }, { env: 'TRESOR_PATRONI_TIMEOUT_MS', description: 'how long the TOM register waits for the Patroni REST API' }),
  tomRestoreMaxAgeDays: int(14, { minimum: 1, maximum: 365 }, { env: 'TRESOR_TOM_RESTORE_MAX_AGE_DAYS',
    description: 'a restore verification older than this (or a failed one) shows the recovery measure as failing in the TOM register and annex' }),
  tomBackupMaxAgeHours: int(48, { minimum: 1, maximum: 8760 }, { env: 'TRESOR_TOM_BACKUP_MAX_AGE_HOURS',
    description: 'on the embedded store, a newest backup older than this shows the backup measure as failing' }),
  tomDocumentMaxBytes: int(512 * KiB, { minimum: 1, maximum: 16 * MiB }, { env: 'TRESOR_TOM_DOCUMENT_MAX_BYTES', bytes: true,
    description: 'largest document attached to an attestation (only its SHA-256 is kept; the request must also fit `TRESOR_BODY_LIMIT`)' }),
  tomCheckIntervalMs: int(3_600_000, { minimum: 0 }, { env: 'TRESOR_TOM_CHECK_INTERVAL_MS',
    description: 'how often the job leader runs the TOM register\'s checks, raising a security event when a measure turns failing or overdue (0: only when the register or annex is read)' }),
  chromiumPath: str('/usr/bin/chromium', { env: 'TRESOR_CHROMIUM_PATH', description: 'the Chromium that prints the TOM annex to PDF (Debian package `chromium`)' }),
  pdfQueue: int(2, { minimum: 0, maximum: 100 }, { env: 'TRESOR_PDF_QUEUE',
    description: 'PDF annexes waiting while one is printed (one Chromium at a time per process); a request beyond them answers 503 `tom.pdf_busy`' }),
  tomAuditVerifyMaxAgeMs: int(600_000, { minimum: 0, maximum: 86_400_000 }, { env: 'TRESOR_TOM_AUDIT_VERIFY_MAX_AGE_MS',
    description: 'how long a full audit log verification serves the TOM register and annex before the next one runs (requests meanwhile share it; 0: every evaluation verifies)' }),
  pdfTimeoutMs: int(60_000, { minimum: 1000, maximum: 600_000 }, { env: 'TRESOR_PDF_TIMEOUT_MS', description: 'how long printing the TOM annex to PDF may take' }),
});

export type Config = Static<typeof ConfigSchema>;
export type SettingSchema = TSchema & Doc & Bounds & { type?: string; enum?: string[]; default?: string | number };

/** Every setting as [JSON key, schema], in the schema's order. */
export function settings(): [string, SettingSchema][] {
  return Object.entries(ConfigSchema.properties) as unknown as [string, SettingSchema][];
}

// Variables the CLI's API commands read, and the file pointer itself: known, though not settings.
const otherTresorVariables = new Set(['TRESOR_CONFIG', 'TRESOR_URL', 'TRESOR_TOKEN']);

export class ConfigError extends Error {
  readonly code: StartupCode = 'config.invalid';
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n  - ${problems.join('\n  - ')}`);
  }
}

function readFileConfig(path: string | undefined, problems: string[]): Record<string, unknown> {
  if (!path) return {};
  try {
    const parsed = JSON.parse(readFileSync(path, 'utf8'));
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) return parsed;
    problems.push(`TRESOR_CONFIG ${path}: must hold a JSON object`);
  } catch (err) {
    // JSON.parse messages quote the text around the error, which may be a
    // secret (a DATABASE_URL password, the passphrase): keep the position only.
    const at = err instanceof SyntaxError ? /position \d+/.exec(err.message)?.[0] : undefined;
    problems.push(`TRESOR_CONFIG ${path}: ${err instanceof SyntaxError ? `is not valid JSON${at ? ` (at ${at})` : ''}` : (err as Error).message}`);
  }
  return {};
}

// Messages name the setting and the rule, never the value (it may be a secret).
function parseSetting(key: string, s: SettingSchema, raw: unknown, problems: string[]): unknown {
  const name = `${s.env} (${key})`;
  if (s.type === 'integer') {
    const n = typeof raw === 'number' ? raw : /^\d+$/.test(String(raw).trim()) ? Number(String(raw).trim()) : NaN;
    if (!Number.isSafeInteger(n)) return void problems.push(`${name}: must be a whole number`);
    if (s.minimum !== undefined && n < s.minimum) return void problems.push(`${name}: must be at least ${s.minimum}`);
    if (s.maximum !== undefined && n > s.maximum) return void problems.push(`${name}: must be at most ${s.maximum}`);
    return n;
  }
  if (typeof raw !== 'string' || raw === '') return void problems.push(`${name}: must be a non-empty string`);
  if (s.enum && !s.enum.includes(raw)) return void problems.push(`${name}: must be one of ${s.enum.join(', ')}`);
  return raw;
}

function unknownNames(env: NodeJS.ProcessEnv, file: Record<string, unknown>, problems: string[]) {
  const keys = new Set(settings().map(([key]) => key));
  const envs = new Set(settings().map(([, s]) => s.env));
  for (const key of Object.keys(file)) if (!keys.has(key)) problems.push(`TRESOR_CONFIG: unknown setting '${key}'`);
  for (const name of Object.keys(env)) {
    // A misspelt variable would otherwise be ignored silently and its default used.
    if (name.startsWith('TRESOR_') && !envs.has(name) && !otherTresorVariables.has(name)) problems.push(`${name}: unknown setting`);
  }
}

/** TRESOR_TRUSTED_PROXIES as a list of IPs and CIDRs, or null when an item is neither. */
export function trustedProxyList(text: string | undefined): string[] | null {
  const items = (text ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  const valid = items.every((item) => {
    const [addr, bits, extra] = item.split('/');
    const v = isIP(addr);
    if (!v || extra !== undefined) return false;
    return bits === undefined || (/^\d{1,3}$/.test(bits) && Number(bits) <= (v === 4 ? 32 : 128));
  });
  return valid ? items : null;
}

// host1:p1,host2:p2/db: without a session target the driver takes the first
// host that answers, which after a failover is a standby that refuses writes.
function multiHostWithoutPrimary(url: string): boolean {
  const authority = /^postgres(?:ql)?:\/\/(?:[^@/]*@)?([^/?]*)/.exec(url)?.[1] ?? '';
  const target = /[?&]target_session_attrs=([^&]*)/.exec(url)?.[1];
  return authority.includes(',') && target !== 'read-write' && target !== 'primary';
}

function checkTls(config: Config, problems: string[]) {
  if (!config.tlsCertFile !== !config.tlsKeyFile) problems.push('TRESOR_TLS_CERT_FILE, TRESOR_TLS_KEY_FILE: set both or neither');
  const url = config.databaseUrl ?? '';
  const sslmode = /[?&]sslmode=([^&]*)/.exec(url)?.[1];
  const rootcert = /[?&]sslrootcert=([^&]*)/.exec(url)?.[1];
  // postgres.js would send an unknown URL parameter to the server as a setting, which refuses it.
  if (rootcert !== undefined && rootcert !== 'system') problems.push('DATABASE_URL: sslrootcert=<file> is not read by the driver; name the CA file in TRESOR_DATABASE_CA_FILE');
  if (config.databaseCaFile && !config.databaseUrl) problems.push('TRESOR_DATABASE_CA_FILE: needs DATABASE_URL (PostgreSQL)');
  if (config.databaseCaFile && sslmode !== undefined && sslmode !== 'verify-full') {
    problems.push('TRESOR_DATABASE_CA_FILE: DATABASE_URL must say sslmode=verify-full or no sslmode (the CA file implies verify-full)');
  }
}

function checkTogether(config: Config, problems: string[]) {
  if (trustedProxyList(config.trustedProxies) === null) {
    problems.push('TRESOR_TRUSTED_PROXIES: must be a comma-separated list of IP addresses or CIDRs (10.0.0.0/8, ::1)');
  }
  if (config.keyProvider === 'passphrase' && !config.keyPassphrase) {
    problems.push('TRESOR_KEY_PASSPHRASE: required when TRESOR_KEY_PROVIDER=passphrase');
  }
  if (config.databaseUrl && !/^postgres(ql)?:\/\//.test(config.databaseUrl)) {
    problems.push('DATABASE_URL: must start with postgres:// or postgresql://');
  }
  if (config.databaseUrl && multiHostWithoutPrimary(config.databaseUrl)) {
    problems.push('DATABASE_URL: a multi-host URL needs target_session_attrs=read-write (or primary), else Tresor may settle on a standby');
  }
  if (config.defaultMaxLength > config.maxLengthCap) problems.push('TRESOR_DEFAULT_MAX_LENGTH: must not exceed TRESOR_MAX_LENGTH_CAP');
  if (config.importLineMaxBytes > 8 * config.recordMaxBytes) {
    problems.push('TRESOR_IMPORT_LINE_MAX_BYTES: must not exceed 8 × TRESOR_RECORD_MAX_BYTES (longer lines hold no valid record)');
  }
  if (config.metricsPort !== undefined && config.metricsPort === config.port) problems.push('TRESOR_METRICS_PORT: must differ from PORT');
  checkTls(config, problems);
  if (parseDnsServers(config.egressDnsServers) === null) problems.push('TRESOR_EGRESS_DNS_SERVERS: must be a comma-separated list of IP addresses, each with an optional :port');
  const allow = parseAllowlist(config.egressAllow);
  for (const p of allow.problems) problems.push(`TRESOR_EGRESS_ALLOW: ${p}`);
  if (config.securityAlertUrl) {
    const url = URL.canParse(config.securityAlertUrl) ? new URL(config.securityAlertUrl) : null;
    if (!url || !['http:', 'https:'].includes(url.protocol)) problems.push('TRESOR_SECURITY_ALERT_URL: must be an http(s) URL');
    else if (!destinationOf(allow.destinations, url)) problems.push('TRESOR_SECURITY_ALERT_URL: it is not covered by TRESOR_EGRESS_ALLOW');
  }
  if (config.patroniUrl !== undefined && !config.patroniUrl.split(',').every((u) => /^https?:\/\/[^/?#,]+\/?$/.test(u))) {
    problems.push('TRESOR_PATRONI_URL: must be the http(s) base URLs of Patroni REST APIs, comma-separated, e.g. http://10.0.0.5:8008,http://10.0.0.6:8008');
  }
  if (config.incidentAlertUrl) {
    const url = URL.canParse(config.incidentAlertUrl) ? new URL(config.incidentAlertUrl) : null;
    if (!url || !['http:', 'https:'].includes(url.protocol)) problems.push('TRESOR_INCIDENT_ALERT_URL: must be an http(s) URL');
    else if (!destinationOf(allow.destinations, url)) problems.push('TRESOR_INCIDENT_ALERT_URL: it is not covered by TRESOR_EGRESS_ALLOW');
  }
  if (config.paymentCardGuard === 'off' && config.environment === 'production') {
    problems.push('TRESOR_PAYMENT_CARD_GUARD: may be off only when TRESOR_ENVIRONMENT is staging or test');
  }
  if (config.clockOffset !== undefined) {
    if (!parseClockOffset(config.clockOffset)) problems.push('TRESOR_CLOCK_OFFSET: must be an ISO 8601 duration (P13M, P400D, PT1H) or +13mo, +400d, +12h, at most 100 years');
    else if (config.environment === 'production') problems.push('TRESOR_CLOCK_OFFSET: is refused in production (TRESOR_ENVIRONMENT=production); only staging and test deployments may run ahead of real time');
  }
  if (config.listDefaultLimit > config.listMaxLimit) problems.push('TRESOR_LIST_DEFAULT_LIMIT: must not exceed TRESOR_LIST_MAX_LIMIT');
}

/** Whether a tenant needs a confirmed instruction to process data (TRESOR_REQUIRE_INSTRUCTION, else by environment). */
export const instructionRequired = (config: Config): boolean => (config.requireInstruction ?? (config.environment === 'production' ? 'on' : 'off')) === 'on';

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const problems: string[] = [];
  const file = readFileConfig(env.TRESOR_CONFIG, problems);
  unknownNames(env, file, problems);
  const out: Record<string, unknown> = {};
  for (const [key, s] of settings()) {
    const raw = env[s.env] !== undefined && env[s.env] !== '' ? env[s.env] : file[key] ?? s.default;
    if (raw === undefined) continue;
    out[key] = parseSetting(key, s, raw, problems);
  }
  const config = out as Config;
  config.dataDir = resolve(config.dataDir ?? './data');
  config.keyFile = resolve(config.keyFile ?? join(config.dataDir, 'keys', 'root.key'));
  config.tenantKeyDir = resolve(config.tenantKeyDir ?? join(dirname(config.keyFile), 'tenants'));
  checkTogether(config, problems);
  if (problems.length) throw new ConfigError(problems);
  return config;
}
