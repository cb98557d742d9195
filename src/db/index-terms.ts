// SQL over the blind index (record_index) shared by record search and
// data-subject lookups. Hashes travel as bytea parameters, never decoded in
// SQL (see records-repo.ts for the plans this keeps).

export type IndexTerm = { field: string; hash: string };

export const byteaParam = (hex: string) => Buffer.from(hex, 'hex');

/** ` and exists (…)` for each term after the first, on the record id `idSql`; pushes the terms' parameters onto `params`. */
export function moreTermsSql(params: unknown[], terms: readonly IndexTerm[], idSql: string): string {
  return terms.slice(1).map((t) => {
    params.push(t.field, byteaParam(t.hash));
    return ` and exists (select 1 from record_index j where j.record_id = ${idSql} and j.field = $${params.length - 1}
      and j.hash = $${params.length}::bytea)`;
  }).join('');
}
