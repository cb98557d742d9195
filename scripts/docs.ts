// npm run docs: rewrites the generated sections of the documentation.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { configTable } from './config-table.ts';
import { permissionsTable, rolesTable } from './permissions-table.ts';
import { errorsMarkdown } from './errors-doc.ts';
import { replaceSection } from './marked-section.ts';
import { securityEventsTable } from './security-events-table.ts';

const root = fileURLToPath(new URL('..', import.meta.url));

function rewrite(path: string, name: string, body: string) {
  const text = readFileSync(root + path, 'utf8');
  const next = replaceSection(text, name, body);
  if (next !== text) writeFileSync(root + path, next);
  process.stdout.write(`${path}: ${name} ${next === text ? 'up to date' : 'rewritten'}\n`);
}

rewrite('docs/configuration.md', 'config', configTable());
rewrite('docs/api.md', 'permissions', permissionsTable());
rewrite('README.md', 'roles', rolesTable());
rewrite('README.md', 'permissions', permissionsTable());
rewrite('docs/security.md', 'security-event-types', securityEventsTable());

const errorsPath = 'docs/errors.md';
const errors = errorsMarkdown();
const before = (() => { try { return readFileSync(root + errorsPath, 'utf8'); } catch { return ''; } })();
if (before !== errors) { mkdirSync(root + 'docs', { recursive: true }); writeFileSync(root + errorsPath, errors); }
process.stdout.write(`${errorsPath}: ${before === errors ? 'up to date' : 'rewritten'}\n`);
