import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

// One schema for environment variables and the optional JSON config file
// (TRESOR_CONFIG). The environment wins over the file. Every policy number
// lives here with its documented default; there are no secret defaults.
export interface Config {
  databaseUrl?: string;
  dataDir: string;
  port: number;
  host: string;
  keyProvider: 'file' | 'passphrase';
  keyFile: string;
  keyPassphrase?: string;
  backupDir: string;
  logLevel: string;
  workers: number;
  bodyLimitBytes: number;
  importLimitBytes: number;
  importBatchSize: number;
  importWorkers: number;
  dbPoolMax: number;
  dbConnectTimeoutMs: number;
  dbStatementTimeoutMs: number;
  keyCacheMax: number;
  keyCacheTtlMs: number;
  authCacheTtlMs: number;
  rotationBatchSize: number;
  maxFields: number;
  maxLengthCap: number;
  listDefaultLimit: number;
  listMaxLimit: number;
}

type Kind = 'string' | 'int' | 'enum';
interface Setting { key: keyof Config; env: string; kind: Kind; min?: number; max?: number; values?: string[]; def?: string | number; secret?: boolean }

const MiB = 1024 * 1024;
export const settings: Setting[] = [
  { key: 'databaseUrl', env: 'DATABASE_URL', kind: 'string', secret: true },
  { key: 'dataDir', env: 'TRESOR_DATA_DIR', kind: 'string', def: './data' },
  { key: 'port', env: 'PORT', kind: 'int', min: 0, max: 65535, def: 8080 },
  { key: 'host', env: 'HOST', kind: 'string', def: '127.0.0.1' },
  { key: 'keyProvider', env: 'TRESOR_KEY_PROVIDER', kind: 'enum', values: ['file', 'passphrase'], def: 'file' },
  { key: 'keyFile', env: 'TRESOR_KEY_FILE', kind: 'string' },
  { key: 'keyPassphrase', env: 'TRESOR_KEY_PASSPHRASE', kind: 'string', secret: true },
  { key: 'backupDir', env: 'TRESOR_BACKUP_DIR', kind: 'string', def: './backups' },
  { key: 'logLevel', env: 'LOG_LEVEL', kind: 'enum', values: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], def: 'info' },
  { key: 'workers', env: 'TRESOR_WORKERS', kind: 'int', min: 1, max: 64, def: 1 },
  { key: 'bodyLimitBytes', env: 'TRESOR_BODY_LIMIT', kind: 'int', min: 1024, def: MiB },
  { key: 'importLimitBytes', env: 'TRESOR_IMPORT_LIMIT', kind: 'int', min: 1024, def: 1024 * MiB },
  { key: 'importBatchSize', env: 'TRESOR_IMPORT_BATCH', kind: 'int', min: 1, max: 10000, def: 1000 },
  { key: 'importWorkers', env: 'TRESOR_IMPORT_WORKERS', kind: 'int', min: 1, max: 32, def: 2 },
  { key: 'dbPoolMax', env: 'TRESOR_DB_POOL_MAX', kind: 'int', min: 1, max: 200, def: 10 },
  { key: 'dbConnectTimeoutMs', env: 'TRESOR_DB_CONNECT_TIMEOUT_MS', kind: 'int', min: 100, def: 5000 },
  { key: 'dbStatementTimeoutMs', env: 'TRESOR_DB_STATEMENT_TIMEOUT_MS', kind: 'int', min: 100, def: 30000 },
  { key: 'keyCacheMax', env: 'TRESOR_KEY_CACHE_MAX', kind: 'int', min: 1, def: 1000 },
  { key: 'keyCacheTtlMs', env: 'TRESOR_KEY_CACHE_TTL_MS', kind: 'int', min: 0, def: 5000 },
  { key: 'authCacheTtlMs', env: 'TRESOR_AUTH_CACHE_TTL_MS', kind: 'int', min: 0, def: 5000 },
  { key: 'rotationBatchSize', env: 'TRESOR_ROTATION_BATCH', kind: 'int', min: 1, max: 10000, def: 500 },
  { key: 'maxFields', env: 'TRESOR_MAX_FIELDS', kind: 'int', min: 1, max: 1000, def: 100 },
  { key: 'maxLengthCap', env: 'TRESOR_MAX_LENGTH_CAP', kind: 'int', min: 1, def: 65535 },
  { key: 'listDefaultLimit', env: 'TRESOR_LIST_DEFAULT_LIMIT', kind: 'int', min: 1, def: 50 },
  { key: 'listMaxLimit', env: 'TRESOR_LIST_MAX_LIMIT', kind: 'int', min: 1, def: 500 },
];

export class ConfigError extends Error {
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

function parseSetting(s: Setting, raw: unknown, problems: string[]): unknown {
  const name = `${s.env} (${s.key})`;
  if (s.kind === 'int') {
    const n = typeof raw === 'number' ? raw : /^\d+$/.test(String(raw).trim()) ? Number(String(raw).trim()) : NaN;
    if (!Number.isSafeInteger(n)) return void problems.push(`${name}: must be a whole number`);
    if (s.min !== undefined && n < s.min) return void problems.push(`${name}: must be at least ${s.min}`);
    if (s.max !== undefined && n > s.max) return void problems.push(`${name}: must be at most ${s.max}`);
    return n;
  }
  if (typeof raw !== 'string' || raw === '') return void problems.push(`${name}: must be a non-empty string`);
  if (s.kind === 'enum' && !s.values!.includes(raw)) return void problems.push(`${name}: must be one of ${s.values!.join(', ')}`);
  return raw;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const problems: string[] = [];
  const file = readFileConfig(env.TRESOR_CONFIG, problems);
  const known = new Set(settings.map((s) => s.key as string));
  for (const key of Object.keys(file)) if (!known.has(key)) problems.push(`TRESOR_CONFIG: unknown setting '${key}'`);
  const out: Record<string, unknown> = {};
  for (const s of settings) {
    const raw = env[s.env] !== undefined && env[s.env] !== '' ? env[s.env] : file[s.key] ?? s.def;
    if (raw === undefined) continue;
    out[s.key] = parseSetting(s, raw, problems);
  }
  const config = out as unknown as Config;
  config.dataDir = resolve(config.dataDir ?? './data');
  config.keyFile = resolve(config.keyFile ?? join(config.dataDir, 'keys', 'root.key'));
  if (config.keyProvider === 'passphrase' && !config.keyPassphrase) {
    problems.push('TRESOR_KEY_PASSPHRASE: required when TRESOR_KEY_PROVIDER=passphrase');
  }
  if (config.databaseUrl && !/^postgres(ql)?:\/\//.test(config.databaseUrl)) {
    problems.push('DATABASE_URL: must start with postgres:// or postgresql://');
  }
  if (config.listDefaultLimit > config.listMaxLimit) problems.push('TRESOR_LIST_DEFAULT_LIMIT: must not exceed TRESOR_LIST_MAX_LIMIT');
  if (problems.length) throw new ConfigError(problems);
  return config;
}
