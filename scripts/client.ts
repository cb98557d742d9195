// npm run client:generate: rewrites the generated files of the typed client (src/client/).
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { clientFiles, generateClientFiles } from './client-generate.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const generated = await generateClientFiles();
for (const [name, path] of Object.entries(clientFiles)) {
  const next = generated[name as keyof typeof clientFiles];
  const before = (() => { try { return readFileSync(root + path, 'utf8'); } catch { return ''; } })();
  if (before !== next) writeFileSync(root + path, next);
  process.stdout.write(`${path}: ${before === next ? 'up to date' : 'rewritten'}\n`);
}
