import type { FastifyInstance } from 'fastify';
import { Counter, Histogram, Registry, collectDefaultMetrics, Gauge } from 'prom-client';
import { access } from './access.ts';

/** A registry per app (tests build several), with request, latency and pool metrics served on /metrics. */
export function registerMetrics(app: FastifyInstance, db: { transactionsInFlight(): number }, poolMax: number,
  more: (registry: Registry) => void = () => {}): void {
  const metrics = { registry: new Registry() };
  more(metrics.registry);
  collectDefaultMetrics({ register: metrics.registry });
  const labelNames = ['method', 'route', 'status'] as const;
  const requests = new Counter({ name: 'tresor_http_requests_total', help: 'HTTP requests', labelNames, registers: [metrics.registry] });
  const latency = new Histogram({
    name: 'tresor_http_request_duration_seconds', help: 'HTTP request latency', labelNames, registers: [metrics.registry],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
  });
  new Gauge({ name: 'tresor_db_pool_max', help: 'Configured database connections per process', registers: [metrics.registry] }).set(poolMax);
  new Gauge({
    name: 'tresor_db_transactions_in_flight', help: 'Database transactions open in this process', registers: [metrics.registry],
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
  app.get('/metrics', { config: access.public, schema: { hide: true } }, async (_request, reply) =>
    reply.type(metrics.registry.contentType).send(await metrics.registry.metrics()),
  );
}
