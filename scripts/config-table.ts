import { settings, type SettingSchema } from '../src/config.ts';

// The configuration table (docs/configuration.md), generated from the config schema so the
// two cannot drift apart (test/docs.test.ts compares them).

function size(bytes: number): string {
  for (const [unit, n] of [['GiB', 1024 ** 3], ['MiB', 1024 ** 2], ['KiB', 1024]] as const) {
    if (bytes >= n && bytes % n === 0) return `${bytes / n} ${unit}`;
  }
  return `${bytes} bytes`;
}

function defaultText(s: SettingSchema): string {
  if (s.docDefault) return s.docDefault;
  if (s.default === undefined) return '—';
  return typeof s.default === 'number' && s.bytes ? size(s.default) : `\`${s.default}\``;
}

function rangeText(s: SettingSchema): string {
  if (s.enum) return s.enum.map((v) => `\`${v}\``).join(', ');
  if (s.type !== 'integer') return 'text';
  const bound = (n: number) => (s.bytes ? size(n) : String(n));
  if (s.minimum !== undefined && s.maximum !== undefined) return `${bound(s.minimum)}–${bound(s.maximum)}`;
  if (s.minimum !== undefined) return `≥ ${bound(s.minimum)}`;
  return s.maximum !== undefined ? `≤ ${bound(s.maximum)}` : 'whole number';
}

export function configTable(): string {
  const rows = settings().map(([key, s]) =>
    `| \`${s.env}\` | \`${key}\` | ${defaultText(s)} | ${rangeText(s)} | ${s.description.replaceAll('|', '\\|')} |`);
  return ['| variable | JSON key | default | allowed | meaning |', '|---|---|---|---|---|', ...rows].join('\n');
}
