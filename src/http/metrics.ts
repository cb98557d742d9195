import cluster from 'node:cluster';
import { createServer } from 'node:http';
import type { FastifyInstance } from 'fastify';
import { AggregatorRegistry, Counter, Histogram, Registry, collectDefaultMetrics, Gauge } from 'prom-client';
import { access } from './access.ts';

export type AuthFailureReason = 'missing' | 'invalid' | 'revoked' | 'expired' | 'forbidden' | 'foreign_tenant' | 'csrf' | 'session_invalid';

/**
 * The domain events services count. Services get this interface, never
 * prom-client; labels are small fixed sets (never a key, tenant or record id).
 */
export interface Meters {
  importLines(outcome: 'imported' | 'rejected', n: number): void;
  rotationStarted(): void;
  reencrypted(outcome: 'reencrypted' | 'unreadable', n: number): void;
  authFailure(reason: AuthFailureReason): void;
  dbUnavailable(): void;
  requestLogged(outcome: 'written' | 'dropped' | 'failed', n: number): void;
}

export interface Metrics { registry: Registry; meters: Meters }

/** A registry per process (tests build several apps, each with its own) and the domain counters on it. */
export function createMetrics(): Metrics {
  const registry = new Registry();
  const registers = [registry];
  const imports = new Counter({ name: 'tresor_import_records_total', help: 'Import lines by outcome (imported: committed; rejected: reported back)',
    labelNames: ['outcome'], registers });
  const rotations = new Counter({ name: 'tresor_key_rotations_started_total', help: 'Data key rotations started', registers });
  const reencrypt = new Counter({ name: 'tresor_reencrypt_records_total', help: 'Records a rotation moved to the active key version, or set aside as unreadable',
    labelNames: ['outcome'], registers });
  const auth = new Counter({ name: 'tresor_auth_failures_total', help: 'Requests refused by authentication or authorisation, by reason',
    labelNames: ['reason'], registers });
  const requestLog = new Counter({ name: 'tresor_request_log_entries_total',
    help: 'Request-log entries by outcome (written; dropped: buffer full or shutting down; failed: the write failed)', labelNames: ['outcome'], registers });
  const unavailable = new Counter({ name: 'tresor_db_unavailable_total', help: 'Requests answered 503 because the database was unavailable', registers });
  return {
    registry,
    meters: {
      importLines: (outcome, n) => { if (n > 0) imports.inc({ outcome }, n); },
      rotationStarted: () => rotations.inc(),
      reencrypted: (outcome, n) => { if (n > 0) reencrypt.inc({ outcome }, n); },
      authFailure: (reason) => auth.inc({ reason }),
      dbUnavailable: () => unavailable.inc(),
      requestLogged: (outcome, n) => { if (n > 0) requestLog.inc({ outcome }, n); },
    },
  };
}

const SCRAPE_REQUEST = 'tresor:metrics-request';
const SCRAPE_REPLY = 'tresor:metrics-reply';
interface ScrapeMessage { type?: string; id?: number; text?: string; error?: string }

/**
 * In a cluster's primary: answers a worker's scrape with every worker's
 * metrics aggregated (prom-client asks each worker over IPC), so any worker
 * serves the same totals.
 */
export function serveClusterMetrics(): void {
  const aggregator = new AggregatorRegistry();
  cluster.on('message', (worker, msg: ScrapeMessage) => {
    if (msg?.type !== SCRAPE_REQUEST) return;
    aggregator.clusterMetrics().then(
      (text) => worker.send({ type: SCRAPE_REPLY, id: msg.id, text }),
      (err: Error) => worker.send({ type: SCRAPE_REPLY, id: msg.id, error: err.message }),
    );
  });
}

/** In a worker: the aggregate, asked of the primary (which replies, with an error at worst, within prom-client's timeout). */
function clusterScrape(registry: Registry): () => Promise<string> {
  // Constructing one installs prom-client's listener that answers the primary with `registry`.
  new AggregatorRegistry();
  AggregatorRegistry.setRegistries([registry]);
  const waiting = new Map<number, { resolve: (t: string) => void; reject: (e: Error) => void }>();
  let next = 0;
  process.on('message', (msg: ScrapeMessage) => {
    const w = msg?.type === SCRAPE_REPLY && msg.id !== undefined ? waiting.get(msg.id) : undefined;
    if (!w) return;
    waiting.delete(msg.id!);
    if (msg.error !== undefined) w.reject(new Error(`cluster metrics: ${msg.error}`));
    else w.resolve(msg.text ?? '');
  });
  return () => new Promise((resolve, reject) => {
    const id = next++;
    waiting.set(id, { resolve, reject });
    process.send!({ type: SCRAPE_REQUEST, id });
  });
}

export interface MetricsOptions {
  registry: Registry;
  db: { transactionsInFlight(): number };
  poolMax: number;
  /** Other parts' metrics (the job runner's). */
  more: (registry: Registry) => void;
  /** Set: /metrics is served only on this port (on `host`), not on the app's listener. */
  port?: number;
  host: string;
}

/** Request, latency and pool metrics on the registry, served on /metrics (the cluster's aggregate in a worker). */
export function registerMetrics(app: FastifyInstance, { registry, db, poolMax, more, port, host }: MetricsOptions): void {
  more(registry);
  collectDefaultMetrics({ register: registry });
  const labelNames = ['method', 'route', 'status'] as const;
  const requests = new Counter({ name: 'tresor_http_requests_total', help: 'HTTP requests', labelNames, registers: [registry] });
  const latency = new Histogram({
    name: 'tresor_http_request_duration_seconds', help: 'HTTP request latency', labelNames, registers: [registry],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
  });
  new Gauge({ name: 'tresor_db_pool_max', help: 'Configured database connections per process', registers: [registry] }).set(poolMax);
  new Gauge({
    name: 'tresor_db_transactions_in_flight', help: 'Database transactions open in this process', registers: [registry],
    collect() { this.set(db.transactionsInFlight()); },
  });
  // A callback hook: an async one costs a promise per request. (Cached label
  // children would not help: prom-client hashes the labels on every call anyway.)
  app.addHook('onResponse', (request, reply, done) => {
    const labels = { method: request.method, route: request.routeOptions.url ?? 'unmatched', status: String(reply.statusCode) };
    requests.inc(labels);
    latency.observe(labels, reply.elapsedTime / 1000);
    done();
  });
  const scrape = cluster.isWorker ? clusterScrape(registry) : () => registry.metrics();
  if (port === undefined) {
    app.get('/metrics', { config: access.public, schema: { hide: true } }, async (_request, reply) =>
      reply.type(registry.contentType).send(await scrape()),
    );
    return;
  }
  serveOnOwnPort(app, scrape, registry.contentType, port, host);
}

/** A bare listener that answers GET /metrics and 404 to anything else; opened and closed with the app. */
function serveOnOwnPort(app: FastifyInstance, scrape: () => Promise<string>, contentType: string, port: number, host: string): void {
  const server = createServer((req, res) => {
    if (req.method !== 'GET' || req.url?.split('?')[0] !== '/metrics') return void res.writeHead(404).end();
    scrape().then(
      (text) => res.writeHead(200, { 'content-type': contentType }).end(text),
      (err: Error) => { app.log.error({ err }, 'metrics scrape failed'); res.writeHead(500).end(); },
    );
  });
  // onReady, not onListen: a port already taken must fail start-up, not just be logged.
  app.addHook('onReady', () => new Promise<void>((resolve, reject) => {
    server.once('error', reject).listen(port, host, () => { server.off('error', reject); resolve(); });
  }));
  app.addHook('onClose', () => new Promise<void>((resolve) => (server.listening ? server.close(() => resolve()) : resolve())));
}
