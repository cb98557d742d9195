import { withProblems, type SubProblem } from '../errors.ts';
import type { CollectionRow } from '../collections/collections-repo.ts';
import { normaliseLookup } from '../collections/field-types.ts';
import type { KeyRing } from '../keys/keys-service.ts';
import { indexHash } from '../records/record-codec.ts';

/** One (field, blind index) pair of a subject, as record_index stores it (hash: hex). */
export interface Term { field: string; hash: string }
/** A subject in one collection: the collection's records matching every term. */
export interface TermGroup { collection: CollectionRow; terms: Term[] }

/**
 * A subject's lookup in every collection of the tenant whose searchable fields
 * include every field of `where` (collections lacking one are not searched).
 * Each value is normalised and hashed per collection (the blind index binds
 * collection and field). A field no collection defines, or none indexes, or a
 * value wrong for a field's type answers 400 subject.where_invalid.
 */
export function subjectTerms(collections: CollectionRow[], ring: KeyRing, where: Record<string, unknown>): TermGroup[] {
  const problems = new Map<string, SubProblem>();
  const groups: TermGroup[] = [];
  const names = Object.keys(where);
  for (const field of names) {
    const defs = collections.flatMap((c) => c.fields.filter((f) => f.name === field));
    if (!defs.length) problems.set(field, { field, code: 'record.unknown_field', detail: `no collection of the tenant has a field '${field}'` });
    else if (!defs.some((f) => f.searchable)) problems.set(field, { field, code: 'record.field_not_searchable', detail: `field '${field}' is searchable in no collection` });
  }
  for (const c of collections) {
    const defs = names.map((n) => c.fields.find((f) => f.name === n && f.searchable));
    if (defs.some((d) => !d)) continue;
    const terms: Term[] = [];
    for (const def of defs) {
      const v = normaliseLookup(def!, where[def!.name]);
      if (v.ok) terms.push({ field: def!.name, hash: indexHash(ring, c.id, def!, v.value) });
      else if (!problems.has(def!.name)) problems.set(def!.name, v.problem);
    }
    if (terms.length === defs.length) groups.push({ collection: c, terms });
  }
  if (problems.size) throw withProblems('subject.where_invalid', [...problems.values()]);
  return groups;
}
