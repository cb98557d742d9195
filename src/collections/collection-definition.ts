// Parses a tenant-supplied collection definition into trusted FieldDefs.
// Every problem is collected (not just the first) so an admin can fix a
// definition in one round trip. Details never echo the offending input:
// definitions are tenant data too, and echoing input invites log injection.

import type { SubCode } from '../errors.ts';

export const FIELD_TYPES = ['string', 'email', 'phone', 'date', 'number', 'boolean', 'json', 'payment_event'] as const;
export type FieldType = typeof FIELD_TYPES[number];
export const CLASSIFICATIONS = ['personal', 'special', 'none'] as const;
export type Classification = typeof CLASSIFICATIONS[number];
export const MASKS = ['none', 'partial', 'full'] as const;
export type Mask = typeof MASKS[number];

export interface FieldDef {
  name: string;
  type: FieldType;
  required: boolean;
  maxLength?: number;
  searchable: boolean;
  unique: boolean;
  classification: Classification;
  mask?: Mask;
  /** Keyed HMAC pseudonym of the value, returned in `pseudonyms` (src/pseudonyms). */
  pseudonymize?: boolean;
  /** The pseudonym's purpose (default: the field's name): one purpose, one pseudonym per value, across collections. */
  pseudonymPurpose?: string;
}

export interface DefinitionProblem { path: string; code: SubCode; detail: string }

export interface DefinitionLimits { maxFields: number; maxLengthCap: number; defaultMaxLength: number }

export type DefinitionResult =
  | { ok: true; name: string; fields: FieldDef[] }
  | { ok: false; problems: DefinitionProblem[] };

// Names become object keys and index identifiers; the leading letter and
// the underscore-only punctuation keep them safe (no "__proto__", no quoting).
export const NAME_PATTERN = /^[a-z][a-z0-9_]{0,62}$/;

const ALLOWED_OPTIONS = new Set(['name', 'type', 'required', 'maxLength', 'searchable', 'unique', 'classification', 'mask', 'pseudonymize', 'pseudonymPurpose']);
// Booleans, free-form JSON and payment events have no meaningful blind index: a
// boolean's index would reveal the value by frequency, JSON has no canonical form.
const NOT_INDEXABLE: readonly FieldType[] = ['boolean', 'json', 'payment_event'];
const LENGTH_TYPES: readonly FieldType[] = ['string', 'email', 'phone'];

export function isValidName(value: unknown): value is string {
  return typeof value === 'string' && NAME_PATTERN.test(value);
}

export function isFieldType(value: unknown): value is FieldType {
  return typeof value === 'string' && (FIELD_TYPES as readonly string[]).includes(value);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function problem(path: string, code: SubCode, detail: string): DefinitionProblem {
  return { path, code, detail };
}

function readBoolean(raw: Record<string, unknown>, key: string, base: string, out: DefinitionProblem[]): boolean {
  const value = raw[key];
  if (value === undefined) return false;
  if (typeof value === 'boolean') return value;
  out.push(problem(`${base}/${key}`, 'collection.invalid_option', `option '${key}' must be a boolean`));
  return false;
}

function readEnum<T extends string>(raw: Record<string, unknown>, key: string, allowed: readonly string[], base: string, out: DefinitionProblem[]): T | undefined {
  const value = raw[key];
  if (value === undefined) return undefined;
  if (typeof value === 'string' && allowed.includes(value)) return value as T;
  out.push(problem(`${base}/${key}`, 'collection.invalid_option', `option '${key}' must be one of: ${allowed.join(', ')}`));
  return undefined;
}

function readMaxLength(raw: Record<string, unknown>, type: FieldType | undefined, base: string, limits: DefinitionLimits, out: DefinitionProblem[]): number | undefined {
  const value = raw.maxLength;
  // Every string is bounded: without its own maxLength a field gets the configured default.
  if (value === undefined) return type === 'string' ? limits.defaultMaxLength : undefined;
  const path = `${base}/maxLength`;
  if (type !== undefined && !LENGTH_TYPES.includes(type)) {
    out.push(problem(path, 'collection.invalid_option', `option 'maxLength' is only allowed for types: ${LENGTH_TYPES.join(', ')}`));
    return undefined;
  }
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > limits.maxLengthCap) {
    out.push(problem(path, 'collection.invalid_option', `option 'maxLength' must be an integer from 1 to ${limits.maxLengthCap}`));
    return undefined;
  }
  return value;
}

function checkUnknownOptions(raw: Record<string, unknown>, base: string, out: DefinitionProblem[]): void {
  for (const key of Object.keys(raw)) {
    if (ALLOWED_OPTIONS.has(key)) continue;
    // Named only when it could be an option name (which needs no RFC 6901
    // escaping): anything else may be personal data sent by mistake, or a key
    // with "/" forging a path to another option.
    const path = NAME_PATTERN.test(key) ? `${base}/${key}` : base;
    out.push(problem(path, 'collection.unknown_option', `unknown field option; allowed: ${[...ALLOWED_OPTIONS].join(', ')}`));
  }
}

function checkIndexable(type: FieldType | undefined, searchable: boolean, unique: boolean, base: string, out: DefinitionProblem[]): void {
  if (type === undefined || !NOT_INDEXABLE.includes(type)) return;
  for (const [key, set] of [['searchable', searchable], ['unique', unique]] as const) {
    if (set) out.push(problem(`${base}/${key}`, 'collection.field_not_indexable', `fields of type '${type}' cannot be '${key}'`));
  }
}

// A pseudonym is an HMAC of one canonical text, like a blind index: the same
// types qualify. The purpose is a name (it enters the HMAC input as bytes).
function readPseudonym(raw: Record<string, unknown>, type: FieldType | undefined, name: string | undefined, base: string,
  out: DefinitionProblem[]): Pick<FieldDef, 'pseudonymize' | 'pseudonymPurpose'> {
  const on = readBoolean(raw, 'pseudonymize', base, out);
  const purpose = raw.pseudonymPurpose;
  if (purpose !== undefined && (!on || !isValidName(purpose))) {
    out.push(problem(`${base}/pseudonymPurpose`, 'collection.invalid_option',
      `option 'pseudonymPurpose' needs 'pseudonymize' and must match ${NAME_PATTERN.source}`));
  }
  if (!on) return {};
  if (type !== undefined && NOT_INDEXABLE.includes(type)) {
    out.push(problem(`${base}/pseudonymize`, 'collection.field_not_indexable', `fields of type '${type}' cannot be 'pseudonymize'`));
  }
  return { pseudonymize: true, pseudonymPurpose: isValidName(purpose) ? purpose : name };
}

function readNameAndType(raw: Record<string, unknown>, base: string, out: DefinitionProblem[]): { name: string | undefined; type: FieldType | undefined } {
  const name = isValidName(raw.name) ? raw.name : undefined;
  if (name === undefined) {
    out.push(problem(`${base}/name`, 'collection.invalid_field_name', `field name must match ${NAME_PATTERN.source}`));
  }
  const type = isFieldType(raw.type) ? raw.type : undefined;
  if (type === undefined) {
    out.push(problem(`${base}/type`, 'collection.invalid_type', `field type must be one of: ${FIELD_TYPES.join(', ')}`));
  }
  return { name, type };
}

// Returns undefined when the field had problems; they are pushed onto `out`.
export function parseFieldDef(raw: unknown, index: number, limits: DefinitionLimits, out: DefinitionProblem[]): FieldDef | undefined {
  const base = `/fields/${index}`;
  if (!isPlainObject(raw)) {
    out.push(problem(base, 'collection.invalid_option', 'field definition must be an object'));
    return undefined;
  }
  const before = out.length;
  checkUnknownOptions(raw, base, out);
  const { name, type } = readNameAndType(raw, base, out);
  const required = readBoolean(raw, 'required', base, out);
  const unique = readBoolean(raw, 'unique', base, out);
  // A uniqueness check is a lookup on the blind index, so unique needs it.
  const searchable = readBoolean(raw, 'searchable', base, out) || unique;
  checkIndexable(type, searchable, unique, base, out);
  const maxLength = readMaxLength(raw, type, base, limits, out);
  const classification = readEnum<Classification>(raw, 'classification', CLASSIFICATIONS, base, out) ?? 'personal';
  const mask = readEnum<Mask>(raw, 'mask', MASKS, base, out);
  const pseudonym = readPseudonym(raw, type, name, base, out);
  if (out.length > before || name === undefined || type === undefined) return undefined;
  const def: FieldDef = { name, type, required, searchable, unique, classification };
  if (maxLength !== undefined) def.maxLength = maxLength;
  if (mask !== undefined) def.mask = mask;
  return { ...def, ...pseudonym };
}

function checkFieldCount(fields: unknown[], limits: DefinitionLimits, out: DefinitionProblem[]): void {
  if (fields.length === 0) {
    out.push(problem('/fields', 'collection.no_fields', 'a collection needs at least one field'));
  } else if (fields.length > limits.maxFields) {
    out.push(problem('/fields', 'collection.too_many_fields', `a collection may have at most ${limits.maxFields} fields`));
  }
}

function checkDuplicates(fields: unknown[], out: DefinitionProblem[]): void {
  const seen = new Set<string>();
  fields.forEach((raw, index) => {
    const name = isPlainObject(raw) && isValidName(raw.name) ? raw.name : undefined;
    if (name === undefined) return;
    // Report the repeat, not the first occurrence, so the first stays valid.
    if (seen.has(name)) {
      out.push(problem(`/fields/${index}/name`, 'collection.duplicate_field', `field name '${name}' is already used by an earlier field`));
    }
    seen.add(name);
  });
}

export function parseCollectionDefinition(
  input: { name: string; fields: Array<Record<string, unknown>> },
  limits: DefinitionLimits,
): DefinitionResult {
  const problems: DefinitionProblem[] = [];
  const source: Record<string, unknown> = isPlainObject(input) ? input : {};
  if (!isValidName(source.name)) {
    problems.push(problem('/name', 'collection.invalid_name', `collection name must match ${NAME_PATTERN.source}`));
  }
  const rawFields: unknown[] = Array.isArray(source.fields) ? source.fields : [];
  checkFieldCount(rawFields, limits, problems);
  const fields: FieldDef[] = [];
  rawFields.forEach((raw, index) => {
    const def = parseFieldDef(raw, index, limits, problems);
    if (def) fields.push(def);
  });
  checkDuplicates(rawFields, problems);
  if (problems.length > 0) return { ok: false, problems };
  return { ok: true, name: source.name as string, fields };
}
