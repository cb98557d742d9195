// The configuration table (docs/configuration.md) is generated from the config schema
// (`npm run docs`); this fails when someone edits one without the other.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { configTable } from '../scripts/config-table.ts';
import { permissionsTable, rolesTable } from '../scripts/permissions-table.ts';
import { readSection } from '../scripts/marked-section.ts';
import { securityEventsTable } from '../scripts/security-events-table.ts';
import { settings } from '../src/config.ts';

const readme = readFileSync(new URL('../docs/configuration.md', import.meta.url), 'utf8');

describe('generated documentation', () => {
  it('docs/configuration.md table matches the config schema (run `npm run docs`)', () => {
    assert.equal(readSection(readme, 'config'), configTable());
  });

  it('docs/api.md permission matrix matches src/access/permissions.ts (run `npm run docs`)', () => {
    const api = readFileSync(new URL('../docs/api.md', import.meta.url), 'utf8');
    assert.equal(readSection(api, 'permissions'), permissionsTable());
  });

  it('the README shows the roles and the permission matrix of src/access/permissions.ts (run `npm run docs`)', () => {
    const front = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    assert.equal(readSection(front, 'roles'), rolesTable());
    assert.equal(readSection(front, 'permissions'), permissionsTable());
  });

  it('docs/security.md lists every security event type (run `npm run docs`)', () => {
    const security = readFileSync(new URL('../docs/security.md', import.meta.url), 'utf8');
    assert.equal(readSection(security, 'security-event-types'), securityEventsTable());
  });

  it('documents every setting with its variable, JSON key and a description', () => {
    const table = readSection(readme, 'config')!;
    for (const [key, s] of settings()) {
      assert.ok(s.description.length > 0, `${key} has a description`);
      assert.ok(table.includes(`| \`${s.env}\` | \`${key}\` |`), `${s.env} / ${key} in the table`);
    }
  });
});
