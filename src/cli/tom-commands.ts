import { readFileSync, writeFileSync } from 'node:fs';
import type { Config } from '../config.ts';
import type { Db } from '../db/db.ts';
import type { KeyProvider } from '../crypto/key-provider.ts';
import type { createServices as CreateServices } from '../services.ts';
import { CliError, exitCodes, printResult } from './output.ts';

export interface TomReportOptions { lang: string; format: string; out?: string; json?: boolean }
export interface TomVerifyOptions { publicKey?: string; url?: string; json?: boolean }

interface Store {
  loadConfig(): Config;
  openStore(config: Config): Promise<{ db: Db; keyProvider: KeyProvider }>;
  createServices: typeof CreateServices;
}

/**
 * [store] `tresor tom report`: checks every measure on the store itself and
 * writes the signed annex to --out (or stdout). On the embedded store it is
 * refused while a server holds the lock; then fetch GET /v1/tom/report.
 */
export async function tomReport(o: TomReportOptions, store: Store): Promise<number> {
  if (!['de', 'en'].includes(o.lang)) throw new CliError('cli.usage', '--lang must be de or en');
  if (!['md', 'html', 'pdf'].includes(o.format)) throw new CliError('cli.usage', '--format must be md, html or pdf');
  if (o.format === 'pdf' && !o.out && process.stdout.isTTY) throw new CliError('cli.usage', 'a PDF is not written to a terminal: give --out FILE');
  const config = store.loadConfig();
  const { db, keyProvider } = await store.openStore(config);
  try {
    const services = store.createServices(config, { db, keyProvider });
    const r = await services.tom.storeReport({ lang: o.lang as 'de' | 'en', format: o.format as 'md' | 'html' | 'pdf' });
    await services.requestLog.close();
    if (o.out) {
      writeFileSync(o.out, r.body);
      printResult(!!o.json, { file: o.out, bytes: r.body.length, contentType: r.contentType }, `annex written to ${o.out} (${r.body.length} bytes, signed)`);
    } else process.stdout.write(r.body);
    return exitCodes.done;
  } finally { await db.close(); }
}

async function fetchPublicKey(url: string): Promise<Buffer> {
  if (!URL.canParse(url) || !/^https?:$/.test(new URL(url).protocol)) throw new CliError('cli.usage', '--url must be an http(s) URL');
  const res = await fetch(new URL('/v1/tom/public-key', url), { signal: AbortSignal.timeout(10_000) }).catch((err: Error) => {
    throw new CliError('cli.unreachable', `cannot reach ${url}: ${err.message}`);
  });
  if (!res.ok) throw new CliError('cli.failed', `GET /v1/tom/public-key answered ${res.status}`);
  return Buffer.from(((await res.json()) as { publicKey: string }).publicKey, 'base64');
}

/** `tresor tom verify FILE`: exit 0 when the annex's signature holds (against the pinned key, when given). */
export async function tomVerify(file: string, o: TomVerifyOptions): Promise<number> {
  const { verifyDocument } = await import('../tom/tom-signature.ts');
  let bytes: Buffer;
  try { bytes = readFileSync(file); } catch (err) { throw new CliError('cli.file_unreadable', `cannot read ${file}: ${(err as Error).message}`, { file }); }
  if (o.publicKey && o.url) throw new CliError('cli.usage', 'give --public-key or --url, not both');
  const pinned = o.publicKey ? Buffer.from(o.publicKey, 'base64') : o.url ? await fetchPublicKey(o.url) : undefined;
  const r = verifyDocument(bytes, pinned);
  if (!r.ok) {
    if (o.json) printResult(true, { ok: false, file, reason: r.reason }, '');
    else process.stderr.write(`annex NOT verified: ${r.reason}\n`);
    return exitCodes.failed;
  }
  printResult(!!o.json, { ...r, file }, `annex verified: signed by key ${r.keyId}${r.pinned ? ' (the pinned key)' : ' — not pinned: pass --public-key or --url to check who signed it'}; SHA-256 ${r.sha256}`);
  return exitCodes.done;
}
