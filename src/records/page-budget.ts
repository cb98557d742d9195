// A page of records stops before its size passes a byte budget
// (TRESOR_PAGE_MAX_BYTES), so `limit` × the largest record cannot build an
// answer of hundreds of megabytes. It always holds at least one record, so
// paging makes progress whatever the budget.

/** Stored size of a row: its seal (or per-field ciphertexts, base64: a slight overestimate of the data) plus plain values. */
export function storedBytes(row: { enc: unknown; plain: Record<string, unknown>; sealed?: Uint8Array | null }): number {
  let n = row.sealed ? row.sealed.length : 0;
  if (typeof row.enc === 'string') n += row.enc.length;
  else for (const v of Object.values(row.enc as Record<string, unknown>)) n += typeof v === 'string' ? v.length : JSON.stringify(v).length;
  for (const k in row.plain) { n += JSON.stringify(row.plain).length; break; }
  return n;
}

/** The first rows (at most limit) that fit maxBytes; `more` when rows were left out. */
export function fitPage<R extends { enc: unknown; plain: Record<string, unknown>; sealed?: Uint8Array | null }>(rows: R[], limit: number, maxBytes: number): { rows: R[]; more: boolean } {
  let used = 0;
  const end = Math.min(rows.length, limit);
  for (let i = 0; i < end; i++) {
    used += storedBytes(rows[i]);
    if (used > maxBytes && i > 0) return { rows: rows.slice(0, i), more: true };
  }
  return { rows: rows.slice(0, end), more: rows.length > end };
}
