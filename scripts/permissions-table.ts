// The role × action matrix of src/access/permissions.ts as a Markdown table,
// written into docs/api.md by `npm run docs`.
import { permissions } from '../src/access/permissions.ts';

const ROLES = ['operator', 'admin', 'editor', 'viewer'] as const;

export function permissionsTable(): string {
  const head = `| action | ${ROLES.join(' | ')} |\n|---|${ROLES.map(() => ':---:').join('|')}|`;
  const rows = Object.entries(permissions).map(([action, roles]) =>
    `| \`${action}\` | ${ROLES.map((r) => ((roles as readonly string[]).includes(r) ? 'yes' : '—')).join(' | ')} |`);
  return [head, ...rows].join('\n');
}
