import { createReadStream, statSync } from 'node:fs';
import { Readable } from 'node:stream';
import { createApiClient, resolveRemote, type ImportResult, type KeyStatus } from './api-client.ts';
import { CliError, exitCodes, printResult } from './output.ts';
import { startProgress } from './progress.ts';

export interface RemoteOptions { url?: string; token?: string; json?: boolean; progressEvery: number }

const everyMs = (o: RemoteOptions) => o.progressEvery * 1000;

async function countLines(file: string): Promise<number> {
  let lines = 0;
  let last = 0x0a;
  for await (const chunk of createReadStream(file) as AsyncIterable<Buffer>) {
    for (let i = chunk.indexOf(0x0a); i !== -1; i = chunk.indexOf(0x0a, i + 1)) lines++;
    if (chunk.length > 0) last = chunk[chunk.length - 1];
  }
  return last === 0x0a ? lines : lines + 1;
}

function fileSize(file: string): number {
  try {
    return statSync(file).size;
  } catch (err) {
    throw new CliError('cli.file_unreadable', `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { file });
  }
}

/** Rejections name the line, the rule and the field, never the value (the server never sends it). */
function importSummary(r: ImportResult): string {
  const lines = r.rejected.map((x) => `  line ${x.line}: ${x.code}${x.field ? ` (field ${x.field})` : ''}`);
  const more = r.rejectedCount > r.rejected.length ? [`  … and ${r.rejectedCount - r.rejected.length} more`] : [];
  return [`imported ${r.imported}, rejected ${r.rejectedCount}`, ...lines, ...more].join('\n');
}

/**
 * Streams the file to the import endpoint. The server answers only after the
 * last line, so progress follows the lines sent; the answer then says what was written.
 */
export async function importFile(file: string, tenantId: string, collection: string, o: RemoteOptions): Promise<number> {
  const api = createApiClient(resolveRemote(o));
  const size = fileSize(file);
  const progress = startProgress({ label: `import ${collection}`, unit: 'lines sent', total: await countLines(file), everyMs: everyMs(o) });
  const stream = createReadStream(file);
  let sent = 0;
  stream.on('data', (chunk) => {
    for (let i = (chunk as Buffer).indexOf(0x0a); i !== -1; i = (chunk as Buffer).indexOf(0x0a, i + 1)) sent++;
    progress.update(sent);
  });
  let result: ImportResult;
  try {
    result = await api.importRecords(tenantId, collection, Readable.toWeb(stream) as ReadableStream, size);
    progress.update(Number.MAX_SAFE_INTEGER);
  } finally { progress.stop(); }
  printResult(!!o.json, result, importSummary(result));
  return result.rejectedCount > 0 ? exitCodes.partlyDone : exitCodes.done;
}

const pendingRecords = (s: KeyStatus) =>
  s.versions.filter((v) => v.version !== s.activeVersion).reduce((n, v) => n + v.records, 0);

/** Starts a rotation and follows it until no readable record remains on an old key version. */
export async function rotateKeys(tenantId: string, o: RemoteOptions): Promise<number> {
  const api = createApiClient(resolveRemote(o));
  let status = await api.rotateKeys(tenantId);
  const total = pendingRecords(status);
  const progress = startProgress({ label: `re-encrypt to key v${status.activeVersion}`, unit: 'records', total, everyMs: everyMs(o) });
  try {
    while (status.rotating) {
      await new Promise((r) => setTimeout(r, 500));
      status = await api.keyStatus(tenantId);
      progress.update(total - pendingRecords(status));
    }
    progress.update(total - pendingRecords(status));
  } finally { progress.stop(); }
  const setAside = status.unreadable.length;
  const text = setAside === 0 ? `key version ${status.activeVersion} active; older versions retired`
    : `key version ${status.activeVersion} active; ${setAside} unreadable record(s) set aside keep an old version retiring (see GET /v1/tenants/${tenantId}/keys)`;
  printResult(!!o.json, status, text);
  return setAside === 0 ? exitCodes.done : exitCodes.partlyDone;
}
