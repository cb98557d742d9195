import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { createSecureContext, type SecureContextOptions, type Server as TlsServer } from 'node:tls';
import { X509Certificate } from 'node:crypto';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import type { Config } from '../config.ts';
import { RequestError, type StartupCode } from '../errors.ts';

// HTTPS as Mozilla's "intermediate" server-side TLS guideline (v5.7) has it:
// TLS 1.2 and 1.3 only; for TLS 1.2 only ECDHE key exchange with AES-GCM or
// ChaCha20-Poly1305 (its DHE suites need DH parameters, which we do not ship,
// so they are left out); the client chooses among them (honorCipherOrder off).
export const TLS_MIN_VERSION = 'TLSv1.2';
export const TLS13_SUITES = ['TLS_AES_128_GCM_SHA256', 'TLS_AES_256_GCM_SHA384', 'TLS_CHACHA20_POLY1305_SHA256'];
export const TLS12_CIPHERS = [
  'ECDHE-ECDSA-AES128-GCM-SHA256', 'ECDHE-RSA-AES128-GCM-SHA256', 'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384', 'ECDHE-ECDSA-CHACHA20-POLY1305', 'ECDHE-RSA-CHACHA20-POLY1305',
];

/** A start-up failure of the listener: printed with its code (docs/errors.md), the process exits. */
export class TransportError extends Error {
  constructor(readonly code: StartupCode, message: string) {
    super(message);
  }
}

/** Whether HOST names a loopback address (127.0.0.0/8, ::1, localhost): the only place plain HTTP may listen. */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost') return true;
  if (isIP(h) === 4) return h.startsWith('127.');
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(h);
  return h === '::1' || (!!mapped && mapped[1].startsWith('127.'));
}

/** Refuses, before anything starts, to listen in plain HTTP where the network can reach it without a TLS proxy. */
export function checkTransport(config: Config) {
  if (config.tlsCertFile || isLoopbackHost(config.host) || config.trustedProxies) return;
  throw new TransportError('config.tls_required', `HOST=${config.host} is not a loopback address and no TLS is configured: ` +
    'set TRESOR_TLS_CERT_FILE and TRESOR_TLS_KEY_FILE, or name the TLS-terminating proxy in TRESOR_TRUSTED_PROXIES, or bind 127.0.0.1');
}

/** Reads the certificate and key and builds the whole secure context (so a bad pair fails here, not at a handshake). */
export function tlsOptions(config: Config): SecureContextOptions {
  const options: SecureContextOptions = {
    cert: readFileSync(config.tlsCertFile!),
    key: readFileSync(config.tlsKeyFile!),
    minVersion: TLS_MIN_VERSION,
    ciphers: [...TLS13_SUITES, ...TLS12_CIPHERS].join(':'),
    honorCipherOrder: false,
  };
  createSecureContext(options);
  return options;
}

/** tlsOptions for start-up: any failure is the catalogued `config.tls_invalid`. */
export function startupTlsOptions(config: Config): SecureContextOptions | undefined {
  if (!config.tlsCertFile) return undefined;
  try {
    return tlsOptions(config);
  } catch (err) {
    throw new TransportError('config.tls_invalid', `TRESOR_TLS_CERT_FILE/TRESOR_TLS_KEY_FILE: ${(err as Error).message}`);
  }
}

const fingerprint = (cert: SecureContextOptions['cert']) => new X509Certificate(Buffer.from(String(cert))).fingerprint256;

/**
 * What SIGHUP does: the certificate and key are read again and used for new
 * handshakes; open connections keep theirs. A pair that does not load is
 * logged (its error, never the key) and the previous one stays in use.
 */
export function tlsReloader(server: TlsServer, config: Config, log: FastifyBaseLogger): () => void {
  return () => {
    try {
      const options = tlsOptions(config);
      server.setSecureContext(options);
      log.info({ fingerprint: fingerprint(options.cert) }, 'TLS certificate reloaded');
    } catch (err) {
      log.error({ error: (err as Error).message }, 'TLS certificate reload failed: the previous certificate stays in use');
    }
  };
}

/**
 * HSTS on every answer that reached the client over HTTPS (a TLS socket, or a
 * trusted proxy's `X-Forwarded-Proto: https`). Without TLS on a non-loopback
 * address only such proxied requests are served; all others get 403.
 */
export function registerTransport(app: FastifyInstance, config: Config) {
  const hsts = `max-age=${config.hstsMaxAgeSeconds}`;
  const httpsOnly = !config.tlsCertFile && !isLoopbackHost(config.host);
  app.addHook('onRequest', (req, reply, done) => {
    if (req.protocol === 'https') {
      reply.header('strict-transport-security', hsts);
      return done();
    }
    if (httpsOnly) return done(new RequestError('transport.https_required', 'Plain HTTP is refused: connect over HTTPS through the trusted proxy'));
    done();
  });
}
