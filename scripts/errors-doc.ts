import { errorCatalogue, startupCatalogue, subCodeCatalogue } from '../src/errors.ts';

// docs/errors.md, generated from the one catalogue in src/errors.ts so the two
// cannot drift apart (test/errors-doc.test.ts compares them).

const cell = (text: string) => text.replaceAll('|', '\\|');

export function errorsMarkdown(): string {
  const problems = Object.entries(errorCatalogue).map(([code, e]) =>
    `| \`${code}\` | ${e.status} | ${cell(e.title)} | ${cell(e.description)} |`);
  const subs = Object.entries(subCodeCatalogue).map(([code, e]) =>
    `| \`${code}\` | ${e.in.map((p) => (p === 'import' ? 'import `rejected`' : `\`${p}\``)).join(', ')} | ${cell(e.title)} | ${cell(e.description)} |`);
  const startup = Object.entries(startupCatalogue).map(([code, e]) => `| \`${code}\` | ${cell(e.title)} | ${cell(e.description)} |`);
  return [
    '# Tresor error codes',
    '',
    '<!-- Generated from src/errors.ts by `npm run docs`; do not edit by hand. -->',
    '',
    'Every error answer is `application/problem+json` (RFC 9457) with a stable `code`. Its `type` is',
    '`/problems/{code}`, which the server answers with the code\'s title and description.',
    '`problems` lists at most 100 details (each with a sub-code below); `problemsTotal` counts them all.',
    '',
    '## Problem codes',
    '',
    '| code | status | title | description |',
    '|---|---|---|---|',
    ...problems,
    '',
    '## Sub-codes (in `problems` and in an import\'s `rejected` lines)',
    '',
    '| code | appears in | title | description |',
    '|---|---|---|---|',
    ...subs,
    '',
    '## Start-up codes (the process refuses to start; logged and printed, never an HTTP answer)',
    '',
    '| code | title | description |',
    '|---|---|---|',
    ...startup,
    '',
  ].join('\n');
}
