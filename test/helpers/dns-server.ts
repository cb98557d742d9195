// A tiny authoritative DNS server on 127.0.0.1 (UDP, node:dgram) for tests:
// answers A queries from a fixed table, AAAA with no records, and unknown
// names with NXDOMAIN. Enough for node:dns's Resolver; nothing more.
import { createSocket } from 'node:dgram';
import type { AddressInfo } from 'node:net';

export interface DnsServer { server: string; queries: string[]; close(): Promise<void> }

/** Reads the question's name and type from a query (no compression in questions). */
function question(msg: Buffer): { name: string; type: number; end: number } {
  const labels: string[] = [];
  let i = 12;
  while (msg[i] !== 0) {
    labels.push(msg.subarray(i + 1, i + 1 + msg[i]).toString('ascii'));
    i += msg[i] + 1;
  }
  return { name: labels.join('.').toLowerCase(), type: msg.readUInt16BE(i + 1), end: i + 5 };
}

function answer(msg: Buffer, table: Record<string, string>): Buffer {
  const q = question(msg);
  const address = table[q.name];
  const records = address && q.type === 1 ? [address] : [];
  const header = Buffer.alloc(12);
  header.writeUInt16BE(msg.readUInt16BE(0), 0); // id
  header.writeUInt16BE(address ? 0x8580 : 0x8583, 2); // response, authoritative, RD, RA; NOERROR or NXDOMAIN
  header.writeUInt16BE(1, 4);
  header.writeUInt16BE(records.length, 6);
  const rrs = records.map((a) => {
    const rr = Buffer.alloc(16);
    rr.writeUInt16BE(0xc00c, 0); // the question's name
    rr.writeUInt16BE(1, 2); // A
    rr.writeUInt16BE(1, 4); // IN
    rr.writeUInt32BE(60, 6); // TTL
    rr.writeUInt16BE(4, 10);
    a.split('.').forEach((octet, k) => { rr[12 + k] = Number(octet); });
    return rr;
  });
  return Buffer.concat([header, msg.subarray(12, q.end), ...rrs]);
}

/** Starts the server; `server` is its `127.0.0.1:port` for TRESOR_EGRESS_DNS_SERVERS. */
export async function startDnsServer(table: Record<string, string>): Promise<DnsServer> {
  const socket = createSocket('udp4');
  const queries: string[] = [];
  socket.on('message', (msg, peer) => {
    queries.push(question(msg).name);
    socket.send(answer(msg, table), peer.port, peer.address);
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const { port } = socket.address() as AddressInfo;
  return { server: `127.0.0.1:${port}`, queries, close: () => new Promise<void>((resolve) => socket.close(() => resolve())) };
}
