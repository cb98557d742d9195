import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A real HTTP destination on 127.0.0.1 that records what it receives. */
export interface Listener {
  origin: string;
  received: { path: string; body: string }[];
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
    let body = '';
    req.on('data', (d) => { body += d; });
    req.on('end', () => {
      l.received.push({ path: req.url ?? '', body });
      if (l.answer) l.answer(res); else res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  l.origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return l;
}
