// Issue 6, item 5: with --workers N, one scrape answers for all workers (the
// primary aggregates over IPC), not for whichever worker took the connection.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestDatabase } from '../helpers/backends.ts';
import { type CliProcess, cleanEnv, freePort, runTresor, waitFor } from '../helpers/security-process.ts';
import { sample } from '../helpers/metrics.ts';

const skip = !process.env.TEST_DATABASE_URL && 'TEST_DATABASE_URL not set (workers need PostgreSQL)';

describe('metrics across cluster workers', { skip, timeout: 120_000 }, () => {
  let server: CliProcess;
  let port: number;
  let dir: string;
  let drop: () => Promise<void>;

  // A new connection per request (no keep-alive): the cluster hands each to the next worker in turn.
  const get = (path: string) => new Promise<{ status: number; body: string }>((resolve, reject) => {
    request({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d) => { body += d; }).on('end', () => resolve({ status: res.statusCode!, body }));
    }).on('error', reject).end();
  });

  before(async () => {
    const db = await createTestDatabase();
    drop = db.drop;
    dir = mkdtempSync(join(tmpdir(), 'tresor-cluster-'));
    port = await freePort();
    server = runTresor(['start'], cleanEnv({ TRESOR_DATA_DIR: join(dir, 'data'), TRESOR_KEY_FILE: join(dir, 'root.key'), DATABASE_URL: db.url,
      TRESOR_WORKERS: '2', TRESOR_DB_POOL_MAX: '3', PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn' }));
    // Both workers up: their pool sizes add up in the aggregate.
    await waitFor(server, 'both workers in the aggregate', async () => sample((await get('/metrics')).body, 'tresor_db_pool_max') === 2 * 3);
  });
  after(async () => {
    server?.child.kill('SIGTERM');
    await server?.exited;
    await drop?.();
    rmSync(dir, { recursive: true, force: true });
  });

  it('every scrape counts the requests all workers served, the same each time', async () => {
    const made = 20;
    for (let i = 0; i < made; i++) assert.equal((await get('/healthz')).status, 200);
    const totals: number[] = [];
    for (let i = 0; i < 4; i++) {
      const res = await get('/metrics');
      assert.equal(res.status, 200, res.body);
      totals.push(sample(res.body, 'tresor_http_requests_total', '{method="GET",route="/healthz",status="200"}'));
      assert.equal(sample(res.body, 'tresor_db_pool_max'), 2 * 3, 'both workers answered (their pool sizes add up)');
    }
    assert.deepEqual(totals, [made, made, made, made]);
  });
});
