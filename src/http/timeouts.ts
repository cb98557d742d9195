import type { FastifyInstance } from 'fastify';
import type { Config } from '../config.ts';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The body is streamed to the handler under the import deadline (not the JSON one). */
    streamedBody?: boolean;
  }
}

type Timeouts = Pick<Config, 'headersTimeoutMs' | 'requestTimeoutMs' | 'importTimeoutMs' | 'keepAliveTimeoutMs' |
  'dbConnectTimeoutMs' | 'dbStatementTimeoutMs'>;

/**
 * Node's own bounds: headers (slow-loris), the whole request (the longest,
 * an import's), idle keep-alive, and an idle socket, which may be quiet as long
 * as a request may legitimately wait for the database (connect + 2 statements).
 */
export function serverTimeouts(c: Timeouts) {
  return {
    requestTimeout: c.importTimeoutMs,
    keepAliveTimeout: c.keepAliveTimeoutMs,
    connectionTimeout: Math.max(c.requestTimeoutMs, c.dbConnectTimeoutMs + 2 * c.dbStatementTimeoutMs),
    http: {
      headersTimeout: Math.min(c.headersTimeoutMs, c.importTimeoutMs),
      // Node checks header and request deadlines on this interval (default 30 s).
      connectionsCheckingInterval: Math.max(5, Math.min(1000, Math.floor(c.headersTimeoutMs / 4))),
    },
  };
}

/**
 * A JSON request must be received whole within requestTimeoutMs: the server-wide
 * request timeout is the import's (up to 1 GiB), far too long for a JSON body.
 * The deadline ends once the body is parsed (preValidation) or the answer is sent.
 */
export function registerRequestDeadline(app: FastifyInstance, { requestTimeoutMs }: Pick<Config, 'requestTimeoutMs'>): void {
  const timers = new WeakMap<object, NodeJS.Timeout>();
  // Callback hooks: async ones would cost a promise each on every request.
  const clear = (req: { raw: object }, _reply: unknown, done: () => void) => { clearTimeout(timers.get(req.raw)); done(); };
  app.addHook('onRequest', (req, _reply, done) => {
    if (!req.routeOptions.config.streamedBody) {
      const timer = setTimeout(() => req.raw.destroy(), requestTimeoutMs);
      timer.unref();
      timers.set(req.raw, timer);
    }
    done();
  });
  app.addHook('preValidation', clear);
  app.addHook('onResponse', clear);
  app.addHook('onRequestAbort', (req, done) => clear(req, undefined, done));
}
