import { createReadStream, statSync } from 'node:fs';
import { Readable } from 'node:stream';
import cliProgress from 'cli-progress';

function remote(): { url: string; token: string } {
  const url = process.env.TRESOR_URL;
  const token = process.env.TRESOR_TOKEN;
  if (!url || !token) throw new Error('set TRESOR_URL and TRESOR_TOKEN (an API key) to reach the running server');
  return { url: url.replace(/\/$/, ''), token };
}

async function call(path: string, init: RequestInit & { duplex?: 'half' } = {}) {
  const { url, token } = remote();
  const res = await fetch(`${url}${path}`, { ...init, headers: { authorization: `Bearer ${token}`, ...(init.headers ?? {}) } });
  const body = res.status === 204 ? null : await res.json();
  if (!res.ok) throw new Error(`${res.status} ${body?.code ?? ''}: ${body?.detail ?? res.statusText}`);
  return body;
}

const bar = (format: string) =>
  new cliProgress.SingleBar({ format, stream: process.stderr, hideCursor: true }, cliProgress.Presets.shades_classic);

/** Streams the file to the import endpoint; the bar follows the bytes sent. */
export async function importFile(file: string, tenantId: string, collection: string) {
  const size = statSync(file).size;
  const progress = bar('import |{bar}| {percentage}% {value}/{total} bytes');
  progress.start(size, 0);
  const stream = createReadStream(file);
  let sent = 0;
  stream.on('data', (chunk) => progress.update((sent += chunk.length)));
  try {
    const result = await call(`/v1/tenants/${tenantId}/collections/${collection}/records/import`, {
      method: 'POST', body: Readable.toWeb(stream) as ReadableStream, duplex: 'half',
      headers: { 'content-type': 'application/x-ndjson', 'content-length': String(size) },
    });
    progress.stop();
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    if (result.rejectedCount > 0) process.exitCode = 2;
  } finally { progress.stop(); }
}

/** Starts a rotation and follows it until no record remains on an old key version. */
export async function rotateKeys(tenantId: string) {
  const first = await call(`/v1/tenants/${tenantId}/keys/rotate`, { method: 'POST' });
  const pending = (s: typeof first) => s.versions.filter((v: { version: number }) => v.version !== s.activeVersion)
    .reduce((n: number, v: { records: number }) => n + v.records, 0);
  const total = pending(first);
  const progress = bar(`re-encrypt to v${first.activeVersion} |{bar}| {percentage}% {value}/{total} records`);
  progress.start(total, 0);
  let status = first;
  while (status.rotating) {
    await new Promise((r) => setTimeout(r, 500));
    status = await call(`/v1/tenants/${tenantId}/keys`);
    progress.update(Math.max(0, total - pending(status)));
  }
  progress.update(total);
  progress.stop();
  process.stdout.write(`key version ${status.activeVersion} active; older versions retired\n`);
}
