import postgres from 'postgres';
for (const fetch_types of [true, false]) {
  const sql = postgres('postgres://postgres@127.0.0.1:5432/test', { fetch_types, max: 1, onnotice: () => {} });
  try {
    const r = await sql.unsafe('select $1::int[] as a, 2 = any($1::int[]) as has2, $2::uuid[] as u', [[1, 2], ['0190a5e4-1c2b-7d3e-8f40-123456789abc']], { prepare: true });
    console.log(fetch_types, JSON.stringify(r));
    const r2 = await sql.unsafe('select array[1,2]::int[] as a, array[$1::text] as t', ['x'], { prepare: true });
    console.log(fetch_types, JSON.stringify(r2));
  } catch (e) { console.log(fetch_types, 'ERR', (e as Error).message); }
  await sql.end();
}
