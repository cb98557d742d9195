// The role × action matrix of src/access/permissions.ts as a Markdown table,
// written into docs/api.md and the README by `npm run docs`.
import { PLATFORM_ROLES, ROLES, actionDescriptions, permissions, roleDescriptions } from '../src/access/permissions.ts';

export function permissionsTable(): string {
  const head = `| action | ${ROLES.join(' | ')} | what it allows |\n|---|${ROLES.map(() => ':---:').join('|')}|---|`;
  const rows = Object.entries(permissions).map(([action, roles]) =>
    `| \`${action}\` | ${ROLES.map((r) => ((roles as readonly string[]).includes(r) ? 'yes' : '—')).join(' | ')} | ${actionDescriptions[action as keyof typeof permissions]} |`);
  return [head, ...rows].join('\n');
}

export function rolesTable(): string {
  const rows = ROLES.map((r) => `| \`${r}\` | ${(PLATFORM_ROLES as readonly string[]).includes(r) ? 'platform' : 'tenant'} | ${roleDescriptions[r].replace(/^\w+: /, '')} |`);
  return ['| role | scope | may |', '|---|---|---|', ...rows].join('\n');
}
