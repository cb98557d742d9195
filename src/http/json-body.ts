import type { FastifyInstance } from 'fastify';
import { RequestError } from '../errors.ts';

/**
 * JSON bodies are decoded as strict UTF-8: an invalid byte sequence is refused
 * (400 request.invalid_utf8) instead of becoming U+FFFD, which would store a
 * value the client never sent and make two different inputs collide. Parsing
 * itself stays Fastify's (prototype-poisoning keys refused, body limit kept).
 */
export function registerJsonBody(app: FastifyInstance, bodyLimit: number): void {
  const parseJson = app.getDefaultJsonParser('error', 'error');
  const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'buffer', bodyLimit }, (req, body, done) => {
    let text: string;
    try { text = utf8.decode(body as Buffer); } catch { return done(new RequestError('request.invalid_utf8'), undefined); }
    parseJson(req, text, done);
  });
}
