import { v7 as uuidv7 } from 'uuid';
import type { FieldDef } from '../collections/collection-definition.ts';
import { isPlainObject, validateRecordData } from '../collections/field-types.ts';
import type { KeyRing } from '../keys/keys-service.ts';
import { type EncodedRecord, encodeRecord } from './record-codec.ts';

export interface LineContext { fields: FieldDef[]; ring: KeyRing; tenantId: string; collectionId: string }
export interface RawLine { line: number; text?: string; tooLong?: true }
export type EncodedLine = { line: number; id: string; rec: EncodedRecord } | { line: number; code: string };

function parseLine(text: string): { data: unknown } | { code: string } {
  let parsed: unknown;
  try { parsed = JSON.parse(text); } catch { return { code: 'import.invalid_json' }; }
  if (!isPlainObject(parsed) || !('data' in parsed) || Object.keys(parsed).length !== 1) return { code: 'import.invalid_line' };
  return { data: parsed.data };
}

/** One NDJSON line to an encrypted record, or the code it is rejected with; undefined for a blank line. */
export function encodeLine(ctx: LineContext, l: RawLine): EncodedLine | undefined {
  if (l.tooLong) return { line: l.line, code: 'import.line_too_long' };
  if (!l.text?.trim()) return undefined;
  const parsed = parseLine(l.text);
  if ('code' in parsed) return { line: l.line, code: parsed.code };
  const valid = validateRecordData(ctx.fields, parsed.data, 'create');
  if (!valid.ok) return { line: l.line, code: valid.problems[0].code };
  const id = uuidv7();
  return { line: l.line, id, rec: encodeRecord(ctx.ring, ctx.fields, { tenantId: ctx.tenantId, collectionId: ctx.collectionId, recordId: id }, valid.values) };
}
