import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A real HTTP destination on 127.0.0.1 that records what it receives. */
export interface Listener {
  origin: string;
  received: { path: string; body: string; raw: Buffer; contentType?: string }[];
  /** Answers every request this way instead of 204 (e.g. a redirect). */
  answer?: (res: ServerResponse) => void;
  close(): Promise<void>;
}

export async function listen(): Promise<Listener> {
  const l: Listener = {
    origin: '', received: [],
    close: () => new Promise((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (d: Buffer) => { chunks.push(d); });
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      l.received.push({ path: req.url ?? '', body: raw.toString('utf8'), raw, contentType: req.headers['content-type'] });
      if (l.answer) l.answer(res); else res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  l.origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return l;
}
