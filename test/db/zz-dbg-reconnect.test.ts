import { it } from 'node:test';
import postgres from 'postgres';
import { seedTenant, startTestApp } from '../helpers/test-app.ts';
const orig = globalThis.setImmediate;
(globalThis as any).setImmediate = (fn: any, ...args: any[]) => {
  const where = new Error('scheduled at').stack;
  return orig(() => { try { fn(...args); } catch (e) { console.log('IMMEDIATE THREW', e, where); } });
};
it('x', async () => {
  for (let round = 0; round < 15; round++) {
    const t = await startTestApp('postgres');
    const admin = postgres(t.store.databaseUrl!, { max: 1, onnotice: () => {}, connection: { application_name: 'adm' } });
    const seed = await seedTenant(t, 'R');
    const id = (await t.call('POST', seed.base, { token: seed.key, body: { data: { email: 'p@r.example', name: 'P' } } })).json().id;
    await Promise.all(Array.from({ length: 6 }, () => t.call('GET', `${seed.base}/${id}`, { token: seed.key })));
    await admin`select pg_terminate_backend(pid) from pg_stat_activity where datname = current_database() and application_name = 'tresor'`;
    for (let i = 0; i < 20; i++) {
      if ((await admin`select 1 from pg_stat_activity where datname = current_database() and application_name = 'tresor'`).length === 0) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    for (let i = 0; i < 10; i++) {
      const res = await t.call('GET', `${seed.base}/${id}`, { token: seed.key });
      if (res.statusCode !== 200) console.log('round', round, 'req', i, res.statusCode, res.body);
    }
    await admin.end();
    await t.close();
  }
});
