import { connect as tcpConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { hostname } from 'node:os';

// RFC 5424 messages over TCP, framed by octet counting (RFC 6587 §3.4.1, the
// framing RFC 5425 requires over TLS): "<length> <message>". Facility 13
// (log audit), severity 6 (informational). The structured-data part is empty
// ("-"): the message is the exported JSON line, prefixed by the UTF-8 BOM as
// RFC 5424 §6.4 asks for UTF-8 text.

const PRI = 13 * 8 + 6;
const BOM = '\uFEFF';

// PRINTUSASCII without spaces, at most `max` characters (RFC 5424 §6): "-" when empty.
const token = (s: string, max: number) => (s.replace(/[^\x21-\x7e]/g, '').slice(0, max) || '-');

export function syslogMessage(o: { time: string; msgId: string; json: string; host?: string }): string {
  return `<${PRI}>1 ${o.time} ${token(o.host ?? hostname(), 255)} tresor - ${token(o.msgId, 32)} - ${BOM}${o.json}`;
}

export const octetCounted = (message: string): Buffer => {
  const bytes = Buffer.from(message, 'utf8');
  return Buffer.concat([Buffer.from(`${bytes.length} `, 'ascii'), bytes]);
};

export interface SyslogSender { send(message: string): Promise<void>; close(): Promise<void> }

/** Connects to `tcp://host:port` or `tls://host:port` (TLS verifies the server against `ca`, else the system roots). */
export async function openSyslog(destination: string, opts: { ca?: Buffer; connectTimeoutMs: number }): Promise<SyslogSender> {
  const url = new URL(destination);
  if (!['tcp:', 'tls:'].includes(url.protocol) || !url.hostname || !url.port) {
    throw new Error('the syslog destination must be tcp://host:port or tls://host:port');
  }
  const port = Number(url.port);
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const socket: Socket = await new Promise((resolve, reject) => {
    const s: Socket = url.protocol === 'tls:'
      ? tlsConnect({ host, port, servername: host, ...(opts.ca ? { ca: opts.ca } : {}) }, () => resolve(s))
      : tcpConnect({ host, port }, () => resolve(s));
    s.setTimeout(opts.connectTimeoutMs, () => s.destroy(Object.assign(new Error(`syslog ${destination}: connect timed out`), { code: 'ETIMEDOUT' })));
    s.once('error', reject);
  });
  socket.setTimeout(0);
  let failed: Error | undefined;
  socket.on('error', (err) => { failed = err; });
  return {
    send: (message) => new Promise((resolve, reject) => {
      if (failed) return reject(failed);
      socket.write(octetCounted(message), (err) => (err ? reject(err) : resolve()));
    }),
    close: () => new Promise((resolve) => { socket.end(() => resolve()); }),
  };
}
