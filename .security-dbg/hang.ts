import postgres from 'postgres';
import { seedTenant, startTestApp } from '../test/helpers/test-app.ts';
import { createHook } from 'node:async_hooks';
const origins = new WeakMap<object, string>();
createHook({ init(_id, type, _trigger, resource) { if (type === 'PROMISE') origins.set(resource as object, new Error().stack!.split('\n').filter((l) => !l.includes('node:internal') && !l.includes('async_hooks')).slice(1, 9).join(' | ')); } }).enable();
process.on('unhandledRejection', (e, p) => console.log('ORIGIN', origins.get(p as object)));
process.on('unhandledRejection', (e, p) => console.log('UNHANDLED', (e as any)?.code, JSON.stringify((p as any)?.strings ?? (p as any)?.string ?? String(p)).slice(0, 120)));
process.on('uncaughtException', (e) => console.log('UNCAUGHT', (e as Error)?.message));
const t = await startTestApp('postgres');
const admin = postgres(t.store.databaseUrl!, { max: 1, onnotice: () => {}, connection: { application_name: 'adm' } });
const seed = await seedTenant(t, 'R');
const id = (await t.call('POST', seed.base, { token: seed.key, body: { data: { email: 'p@r.example', name: 'P' } } })).json().id;
const timed = async (label: string, p: Promise<any>) => {
  let timer: any; const t0 = Date.now();
  const r = await Promise.race([p, new Promise((res) => { timer = setTimeout(() => res('HANG'), 8000); })]);
  clearTimeout(timer);
  if (r === 'HANG') { console.log(label, 'HANGS'); return r; }
  if (Array.isArray(r)) { const codes = r.map((x: any) => x.statusCode); if (codes.some((c: number) => c !== 200)) console.log(label, codes.join(','), Date.now() - t0); }
  else if (r.statusCode !== 200) console.log(label, r.statusCode, r.json().code, Date.now() - t0, 'ms');
  return r;
};
for (let round = 0; round < 40; round++) {
  if ((await timed(`r${round} warm`, Promise.all(Array.from({ length: 6 }, () => t.call('GET', `${seed.base}/${id}`, { token: seed.key }))))) === 'HANG') break;
  await admin`select pg_terminate_backend(pid) from pg_stat_activity where datname = current_database() and application_name = 'tresor'`;
  for (let i = 0; i < 20; i++) {
    if ((await admin`select 1 from pg_stat_activity where datname = current_database() and application_name = 'tresor'`).length === 0) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  let hung = false;
  for (let i = 0; i < 15; i++) if ((await timed(`r${round}.${i}`, t.call('GET', `${seed.base}/${id}`, { token: seed.key }))) === 'HANG') { hung = true; break; }
  if (hung) break;
}
console.log('done');
process.exit(0);
