import { join, resolve } from 'node:path';
import { CliError, exitCodes, printResult } from './output.ts';
import { startProgress } from './progress.ts';

export interface CloneOptions { tenant: string; to: string; toKeyFile?: string; pseudonymize?: boolean; json?: boolean; progressEvery: number }

const isUrl = (to: string) => /^postgres(ql)?:\/\//.test(to);

/**
 * [store] Opens this deployment's store (the source) and the target's (a
 * postgres:// URL, or an embedded store's data dir), and copies one tenant
 * pseudonymised. The target keeps its declared environment and its own root key.
 */
export async function cloneTenantCommand(o: CloneOptions): Promise<number> {
  const [{ loadConfig }, { openStore }, { openDb }, { migrate }, { openRootKey }, { cloneTenant }, { isCanonicalId }] = await Promise.all([
    import('../config.ts'), import('../main.ts'), import('../db/open-db.ts'), import('../db/migrate.ts'), import('../keys/root-key.ts'),
    import('../environments/clone.ts'), import('../crypto/encoding.ts')]);
  const tenantId = o.tenant.toLowerCase();
  if (!isCanonicalId(tenantId)) throw new CliError('cli.usage', '--tenant must be a tenant id (uuid)');
  const keyFile = o.toKeyFile ?? (isUrl(o.to) ? undefined : join(resolve(o.to), 'keys', 'root.key'));
  if (!keyFile) throw new CliError('cli.usage', '--to-key-file is required with a postgres:// target: the target\'s own root key file');
  const targetConfig = loadConfig({ ...(isUrl(o.to) ? { DATABASE_URL: o.to } : { TRESOR_DATA_DIR: resolve(o.to) }), TRESOR_KEY_FILE: keyFile, LOG_LEVEL: 'silent' });
  const config = loadConfig();
  // Refused before any store is opened: nothing to clean up.
  if (!o.pseudonymize) {
    const { CloneError } = await import('../environments/clone.ts');
    throw new CloneError('clone.not_pseudonymized', 'a clone carries production data into another deployment only pseudonymised: add --pseudonymize');
  }
  const source = await openStore(config);
  try {
    const targetDb = await openDb(targetConfig);
    try {
      await migrate(targetDb);
      const target = { db: targetDb, keyProvider: await openRootKey(targetConfig, targetDb), config: targetConfig };
      let progress: ReturnType<typeof startProgress> | undefined;
      try {
        const result = await cloneTenant({ tenantId, source: { ...source, config }, target, pseudonymize: true, batchSize: config.importBatchSize,
          onStart: (total) => { progress = startProgress({ label: `clone ${tenantId}`, unit: 'records', total, everyMs: o.progressEvery * 1000 }); },
          onProgress: (done) => progress?.update(done) });
        progress?.stop();
        printResult(!!o.json, result, `cloned tenant ${tenantId} pseudonymised into the ${result.targetEnvironment} deployment: ` +
          `${result.collections} collection(s), ${result.records} record(s)`);
      } finally { progress?.stop(); }
    } finally { await targetDb.close(); }
  } finally { await source.db.close(); }
  return exitCodes.done;
}
