// docs/errors.md is generated from the catalogue (`npm run docs`); this fails
// when someone changes one without the other.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { errorsMarkdown } from '../scripts/errors-doc.ts';
import { errorCatalogue, startupCatalogue, subCodeCatalogue } from '../src/errors.ts';
import { loadConfig } from '../src/config.ts';

describe('error catalogue documentation', () => {
  it('docs/errors.md matches src/errors.ts (run `npm run docs`)', () => {
    assert.equal(readFileSync(new URL('../docs/errors.md', import.meta.url), 'utf8'), errorsMarkdown());
  });

  it('every code has a title and a one-line description', () => {
    for (const [code, e] of [...Object.entries(errorCatalogue), ...Object.entries(subCodeCatalogue), ...Object.entries(startupCatalogue)]) {
      assert.match(code, /^[a-z_]+\.[a-z0-9_]+$/, code);
      assert.ok(e.title.length > 0 && e.description.length > 0 && !e.description.includes('\n'), code);
    }
  });

  it('start-up errors carry a catalogued code', () => {
    assert.throws(() => loadConfig({ TRESOR_NO_SUCH_SETTING: '1' }), (err: Error & { code?: string }) =>
      err.code === 'config.invalid' && Object.hasOwn(startupCatalogue, err.code));
  });
});
