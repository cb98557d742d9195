import { execFileSync } from 'node:child_process';
import { mkdtempSync, realpathSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { httpOps, type BenchSettings } from './backend-pass.ts';
import { type Figures, fmt } from './measure.ts';
import { seedTenant } from './tresor-client.ts';
import { createDatabase, repoRoot, startTresor, tresorDirs } from './tresor-process.ts';

// Audit on vs off, honestly: there is no switch to turn the audit log off (an
// operator must not have one), so "off" is the code as it was just before the
// audit log came in (the parent of the commit that added its migration),
// exported from git into a temp dir. Both servers run in the same bench run on
// the same database, off first: the "on" server then starts on a store that
// already holds the "off" run's records, which if anything slows it.

const log = (msg: string) => process.stderr.write(`${msg}\n`);

export interface AuditAbResults { backend: 'postgres' | 'pglite'; baseline: string; off: Record<string, Figures>; on: Record<string, Figures> }

/** The checkout just before the audit log (git archive, no worktree), with this checkout's node_modules. */
function exportBaseline(): { dir: string; ref: string; remove: () => void } {
  const git = (...args: string[]) => execFileSync('git', args, { cwd: repoRoot, encoding: 'utf8' }).trim();
  const added = git('log', '--diff-filter=A', '--format=%H', '--', 'src/db/migrations/0006_audit.sql').split('\n').pop();
  if (!added) throw new Error('cannot find the commit that added the audit migration');
  const ref = git('rev-parse', '--short', `${added}^`);
  const dir = mkdtempSync(join(tmpdir(), 'tresor-bench-noaudit-'));
  execFileSync('sh', ['-c', `git archive ${ref} | tar -x -C "${dir}"`], { cwd: repoRoot });
  symlinkSync(realpathSync(join(repoRoot, 'node_modules')), join(dir, 'node_modules'));
  return { dir, ref, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export async function auditAb(backend: 'postgres' | 'pglite', s: BenchSettings): Promise<AuditAbResults> {
  const baseline = exportBaseline();
  const dirs = tresorDirs();
  const database = backend === 'postgres' ? await createDatabase(s.baseUrl) : undefined;
  const env = { ...dirs.env, ...(database ? { DATABASE_URL: database.url, TRESOR_WORKERS: String(s.workers) } : {}) };
  const ops = { ...s, ops: ['create', 'search'] as BenchSettings['ops'] };
  try {
    log(`\n# audit on vs off, ${backend}: off = ${baseline.ref} (before the audit log)`);
    const off = await startTresor({ env, expectToken: true, serverDir: baseline.dir, nodeArgs: s.serverNodeArgs });
    let tenant;
    let offFigures: Record<string, Figures>;
    try {
      tenant = await seedTenant(off.url, off.token!);
      offFigures = await httpOps(tenant, ops, off.child.pid!);
    } finally {
      await off.stop();
    }
    log(`# audit on vs off, ${backend}: on = this checkout, same store`);
    const on = await startTresor({ env, port: Number(new URL(off.url).port), nodeArgs: s.serverNodeArgs });
    try {
      return { backend, baseline: baseline.ref, off: offFigures, on: await httpOps(tenant, ops, on.child.pid!) };
    } finally {
      await on.stop();
    }
  } finally {
    await database?.drop();
    dirs.remove();
    baseline.remove();
  }
}

export function renderAuditAb(results: AuditAbResults[], concurrencies: number[]): string {
  const lines = ['| Backend | Measure | Audit on | Audit off | On/off | Target | Status |', '|---|---|---:|---:|---:|---|---|'];
  for (const r of results) {
    for (const op of ['create', 'search']) {
      for (const c of concurrencies) {
        const on = r.on[`${op}@${c}`];
        const off = r.off[`${op}@${c}`];
        if (!on || !off) continue;
        const ratio = on.rps / off.rps;
        const errors = on.errors || off.errors ? ` (errors: on ${on.errors}, off ${off.errors})` : '';
        lines.push(`| ${r.backend} | ${op} c=${c}: req/s${errors} | ${fmt(on.rps)} | ${fmt(off.rps)} | ${fmt(ratio, 2)} | ≥ 0.80 | ${ratio >= 0.8 ? 'met' : '**not met**'} |`);
        lines.push(`| ${r.backend} | ${op} c=${c}: p50 / p99 ms | ${fmt(on.p50, 2)} / ${fmt(on.p99, 2)} | ${fmt(off.p50, 2)} / ${fmt(off.p99, 2)} | | | |`);
      }
    }
  }
  const refs = [...new Set(results.map((r) => r.baseline))].join(', ');
  return ['', `### Audit log on vs off (off = ${refs}, the code before the audit log; same store, same run)`, '', ...lines, ''].join('\n');
}
