import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { clientFiles, generateClientFiles } from '../../scripts/client-generate.ts';

// The typed client is only as true as its generated files: regenerate them in
// memory from the served document and compare with what is committed.
describe('generated client files', () => {
  it('are what `npm run client:generate` writes now (run it after changing a route)', async () => {
    const generated = await generateClientFiles();
    for (const [name, path] of Object.entries(clientFiles)) {
      const committed = readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8');
      assert.ok(committed === generated[name as keyof typeof clientFiles], `${path} is stale: run npm run client:generate`);
    }
  });
});
