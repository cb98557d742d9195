import assert from 'node:assert/strict';
import type { LightMyRequestResponse } from 'fastify';

/** What every error looks like to a client: problem+json with a stable code and the request id. */
export function assertProblem(res: LightMyRequestResponse, status: number, code: string) {
  assert.equal(res.statusCode, status, res.body);
  assert.match(String(res.headers['content-type']), /^application\/problem\+json/);
  const body = res.json();
  assert.equal(body.code, code);
  assert.equal(body.status, status);
  assert.equal(typeof body.type, 'string');
  assert.equal(typeof body.title, 'string');
  assert.equal(typeof body.detail, 'string');
  assert.equal(body.requestId, res.headers['x-request-id']);
  return body;
}
