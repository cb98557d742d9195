// A TCP relay in front of PostgreSQL that, while armed, terminates a fresh
// connection's backend (pg_terminate_backend from an admin connection) the
// moment the client sends its first message after startup, and holds that
// message back: the client's first query is then in flight on a killed
// backend, as happens when an operator or failover kills sessions. No byte is
// invented; PostgreSQL itself says FATAL and closes the connection.
import { type AddressInfo, type Socket, connect, createServer } from 'node:net';
import postgres from 'postgres';

/** Reads the server's stream for the backend pid (BackendKeyData 'K') and the first ReadyForQuery ('Z'). */
function watchStartup(onPid: (pid: number) => void, onReady: () => void) {
  let buf = Buffer.alloc(0);
  let done = false;
  return (chunk: Buffer) => {
    if (done) return;
    buf = Buffer.concat([buf, chunk]);
    while (buf.length >= 5 && buf.length >= 1 + buf.readUInt32BE(1)) {
      const type = String.fromCharCode(buf[0]);
      if (type === 'K') onPid(buf.readUInt32BE(5));
      buf = buf.subarray(1 + buf.readUInt32BE(1));
      if (type === 'Z') { done = true; onReady(); return; }
    }
  };
}

export async function startBackendKiller(databaseUrl: string) {
  const admin = postgres(databaseUrl, { max: 1, onnotice: () => {}, connection: { application_name: 'tresor-test-killer' } });
  const target = new URL(databaseUrl);
  let armed = false;
  let kills = 0;
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = connect(Number(target.port || 5432), target.hostname);
    for (const s of [client, upstream]) { sockets.add(s); s.on('error', () => {}); s.on('close', () => sockets.delete(s)); }
    let pid = 0;
    let ready = false;
    const kill = armed;
    upstream.on('data', watchStartup((p) => { pid = p; }, () => { ready = true; }));
    upstream.pipe(client);
    client.on('data', (chunk) => {
      if (!(kill && ready)) return void upstream.write(chunk);
      if (pid === 0) return; // already killed: hold every later message too
      const victim = pid;
      pid = 0;
      kills++;
      void admin`select pg_terminate_backend(${victim})`.catch(() => {});
    });
    client.on('end', () => upstream.end());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = new URL(databaseUrl);
  url.hostname = '127.0.0.1';
  url.port = String((server.address() as AddressInfo).port);
  return {
    url: url.toString(),
    /** While armed, every new connection is killed at its first query. */
    arm(on: boolean) { armed = on; },
    kills: () => kills,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
      await admin.end();
    },
  };
}
