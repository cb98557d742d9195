import type { FieldDef } from '../collections/collection-definition.ts';
import { type Actor, can } from './permissions.ts';

// A field's `mask` says how much of its value a role without `records.unmask`
// sees. Masked values keep just enough to recognise a record on the phone
// (the e-mail's domain, a phone's last digits) and never enough to use it.
// Every read path (get, list, search, and the answers of create and update)
// passes through maskRecord; import answers carry no values at all.

const HIDDEN = '***';

/** `partial` per field type; types with nothing safe to show are hidden whole. */
function partial(field: FieldDef, value: unknown): unknown {
  if (typeof value !== 'string') return HIDDEN;
  switch (field.type) {
    case 'email': {
      const at = value.lastIndexOf('@');
      return at > 0 ? `${value[0]}${HIDDEN}${value.slice(at)}` : HIDDEN;
    }
    case 'phone': return `${HIDDEN}${value.replace(/\D/g, '').slice(-4)}`;
    case 'date': return `${value.slice(0, 4)}-**-**`;
    // The last four characters, only of values long enough that four do not give them away.
    case 'string': return [...value].length >= 8 ? `${HIDDEN}${[...value].slice(-4).join('')}` : HIDDEN;
    default: return HIDDEN;
  }
}

export function maskValue(field: FieldDef, value: unknown): unknown {
  if (value === null || value === undefined || !field.mask || field.mask === 'none') return value;
  return field.mask === 'full' ? HIDDEN : partial(field, value);
}

/** The record's data as this actor may see it. */
export function maskRecord(actor: Actor, fields: readonly FieldDef[], data: Record<string, unknown>): Record<string, unknown> {
  if (can(actor.role, 'records.unmask') || !fields.some((f) => f.mask && f.mask !== 'none')) return data;
  const byName = new Map(fields.map((f) => [f.name, f]));
  return Object.fromEntries(Object.entries(data).map(([name, value]) => {
    const field = byName.get(name);
    return [name, field ? maskValue(field, value) : value];
  }));
}
