// Clients for the TLS tests: an HTTPS GET through Node, a bare handshake, a
// hand-built ClientHello (to offer suites no local TLS library will send any
// more), and `openssl s_client`.
import https from 'node:https';
import { connect as tcpConnect } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions, type TLSSocket } from 'node:tls';
import { randomBytes } from 'node:crypto';
import { spawnSync } from 'node:child_process';

export interface Answer { status: number; hsts: string | undefined; protocol: string | null; cipher: string; serial: string; body: string }

/** GET path over HTTPS to 127.0.0.1:port (SNI localhost), trusting only `ca`. */
export function httpsGet(port: number, ca: string, opts: { agent?: https.Agent | false; path?: string } & ConnectionOptions = {}): Promise<Answer> {
  const { agent = false, path = '/healthz', ...tls } = opts;
  return new Promise((resolve, reject) => {
    const req = https.request({ host: '127.0.0.1', servername: 'localhost', port, path, ca, agent, ...tls }, (res) => {
      const socket = res.socket as TLSSocket;
      let body = '';
      res.setEncoding('utf8').on('data', (d) => { body += d; }).on('end', () => resolve({
        status: res.statusCode!, hsts: res.headers['strict-transport-security'] as string | undefined, body,
        protocol: socket.getProtocol(), cipher: socket.getCipher().name, serial: socket.getPeerCertificate().serialNumber,
      }));
    });
    req.on('error', reject).end();
  });
}

/** A bare TLS handshake: resolves with the protocol and cipher agreed, rejects with the error (its code names a received alert). */
export function handshake(port: number, ca: string, opts: ConnectionOptions = {}): Promise<{ protocol: string | null; cipher: string }> {
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({ host: '127.0.0.1', servername: 'localhost', port, ca, ...opts }, () => {
      const out = { protocol: socket.getProtocol(), cipher: socket.getCipher().name };
      socket.end();
      resolve(out);
    });
    socket.on('error', reject);
  });
}

const u16 = (n: number) => Buffer.from([n >> 8, n & 0xff]);
const u24 = (n: number) => Buffer.from([n >> 16, (n >> 8) & 0xff, n & 0xff]);
const vec16 = (b: Buffer) => Buffer.concat([u16(b.length), b]);
const ext = (type: number, body: Buffer) => Buffer.concat([u16(type), vec16(body)]);

/** A TLS ≤ 1.2 ClientHello offering exactly `suites` (IANA numbers), with the extensions ECDHE suites need. */
export function clientHello(version: number, suites: number[]): Buffer {
  const extensions = Buffer.concat([
    ext(0x000a, vec16(Buffer.concat([0x001d, 0x0017, 0x0018].map(u16)))), // supported_groups: x25519, P-256, P-384
    ext(0x000b, Buffer.from([1, 0])), // ec_point_formats: uncompressed
    ext(0x000d, vec16(Buffer.concat([0x0401, 0x0804, 0x0403, 0x0201].map(u16)))), // signature_algorithms
  ]);
  const body = Buffer.concat([u16(version), randomBytes(32), Buffer.from([0]), vec16(Buffer.concat(suites.map(u16))),
    Buffer.from([1, 0]), vec16(extensions)]);
  const handshakeMsg = Buffer.concat([Buffer.from([1]), u24(body.length), body]);
  return Buffer.concat([Buffer.from([0x16, 0x03, 0x01]), u16(handshakeMsg.length), handshakeMsg]);
}

/** What the server answers to a ClientHello: a ServerHello, or an alert (its description number: 40 handshake_failure, 70 protocol_version). */
export function serverAnswer(port: number, hello: Buffer): Promise<{ serverHello: boolean; alert?: number }> {
  return new Promise((resolve, reject) => {
    const socket = tcpConnect({ host: '127.0.0.1', port }, () => socket.write(hello));
    let got = Buffer.alloc(0);
    socket.on('data', (d) => {
      got = Buffer.concat([got, d]);
      if (got.length < 7) return;
      socket.destroy();
      if (got[0] === 0x15) resolve({ serverHello: false, alert: got[6] });
      else resolve({ serverHello: got[0] === 0x16 && got[5] === 2 });
    });
    socket.on('error', reject);
    socket.on('close', () => { if (got.length < 7) reject(new Error(`connection closed after ${got.length} bytes`)); });
  });
}

/** `openssl s_client -brief`: exit status and what it printed (the handshake summary goes to stderr). */
export function sClient(port: number, caFile: string, args: string[]) {
  const r = spawnSync('openssl', ['s_client', '-brief', '-connect', `127.0.0.1:${port}`, '-servername', 'localhost', '-CAfile', caFile,
    '-verify_return_error', ...args], { input: '', encoding: 'utf8', timeout: 30_000 });
  return { status: r.status, out: `${r.stdout}\n${r.stderr}` };
}
