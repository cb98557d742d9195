// The security event types of src/security-events/security-event-types.ts as a
// Markdown table, written into docs/security.md by `npm run docs`.
import { securityEventTypes } from '../src/security-events/security-event-types.ts';

export const securityEventsTable = (): string =>
  ['| type | meaning |', '|---|---|', ...Object.entries(securityEventTypes).map(([type, what]) => `| \`${type}\` | ${what} |`)].join('\n');
