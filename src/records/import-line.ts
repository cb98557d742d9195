import { v7 as uuidv7 } from 'uuid';
import type { SubCode } from '../errors.ts';
import type { FieldDef } from '../collections/collection-definition.ts';
import { isPlainObject, validateRecordData, type RecordLimits } from '../collections/field-types.ts';
import type { KeyRing } from '../keys/keys-service.ts';
import { type IndexEntry, encodeRecord } from './record-codec.ts';

export interface LineContext { fields: FieldDef[]; ring: KeyRing; tenantId: string; collectionId: string; limits: RecordLimits }
export interface RawLine { line: number; text: string }
/** A rejection names the line, the code and, when one field is to blame, its name: never a value. */
export type LineRejection = { line: number; code: SubCode; field?: string };
/**
 * An accepted line: its row already serialised as records-repo.insertMany
 * reads it (the worker does it, so the main thread neither clones nor
 * re-serialises the record), and its unique index entries for duplicate checks.
 */
export type EncodedLine = { line: number; id: string; fields: string[]; row: string; unique: IndexEntry[] } | LineRejection;

function parseLine(text: string): { data: unknown } | { code: SubCode } {
  let parsed: unknown;
  try { parsed = JSON.parse(text); } catch { return { code: 'import.invalid_json' }; }
  if (!isPlainObject(parsed) || !('data' in parsed) || Object.keys(parsed).length !== 1) return { code: 'import.invalid_line' };
  return { data: parsed.data };
}

/** One NDJSON line to an encrypted record, or the code it is rejected with. */
export function encodeLine(ctx: LineContext, l: RawLine): EncodedLine {
  const parsed = parseLine(l.text);
  if ('code' in parsed) return { line: l.line, code: parsed.code };
  const valid = validateRecordData(ctx.fields, parsed.data, 'create', ctx.limits);
  if (!valid.ok) {
    const { code, field } = valid.problems[0];
    return field ? { line: l.line, code, field } : { line: l.line, code };
  }
  const id = uuidv7();
  const rec = encodeRecord(ctx.ring, ctx.fields, { tenantId: ctx.tenantId, collectionId: ctx.collectionId, recordId: id }, valid.values);
  // id and field names (never values) go to the batch's audit entry.
  const fields = Object.keys(valid.values).filter((k) => valid.values[k] !== null && valid.values[k] !== undefined);
  return { line: l.line, id, fields, row: JSON.stringify({ id, ...rec }), unique: rec.index.filter((e) => e.u) };
}
