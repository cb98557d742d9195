import assert from 'node:assert/strict';
import type { LightMyRequestResponse } from 'fastify';
import { totp } from '../../src/crypto/totp.ts';
import type { TestApp } from './test-app.ts';

/** A clock tests move by hand: sessions, tokens and throttling read it instead of sleeping. */
export function manualClock(start = Date.parse('2026-03-02T09:00:00Z')) {
  let t = start;
  return { now: () => new Date(t), advance: (ms: number) => { t += ms; } };
}

export type Clock = ReturnType<typeof manualClock>;

export interface Session { cookie: string; csrfToken: string; userId: string }

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** The TOTP secret inside an otpauth:// URI, as an authenticator app reads it. */
export function secretOf(otpauthUri: string): Buffer {
  const text = new URL(otpauthUri).searchParams.get('secret')!;
  let bits = 0;
  let value = 0;
  const out: number[] = [];
  for (const ch of text) {
    value = (value << 5) | BASE32.indexOf(ch);
    bits += 5;
    if (bits >= 8) { out.push((value >>> (bits - 8)) & 0xff); bits -= 8; }
  }
  return Buffer.from(out);
}

/** A request without an API key: the session cookie, plus the CSRF token when given. */
export function asUser(t: TestApp, method: string, url: string, s: Pick<Session, 'cookie'> & { csrfToken?: string } | null, body?: unknown): Promise<LightMyRequestResponse> {
  return t.app.inject({
    method: method as 'GET', url,
    headers: { ...(s ? { cookie: s.cookie } : {}), ...(s?.csrfToken ? { 'x-csrf-token': s.csrfToken } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    payload: body === undefined ? undefined : JSON.stringify(body),
  });
}

/** The session cookie a login answer set. */
export function cookieOf(res: LightMyRequestResponse): string {
  const set = String(res.headers['set-cookie']);
  assert.match(set, /^__Host-tresor=tses_[\w-]+; Path=\/; Secure; HttpOnly; SameSite=Strict; Max-Age=\d+$/);
  return set.split(';')[0];
}

export const PASSWORD = 'violet harbour lantern 42';

/**
 * Invites a user (as `inviter`: an API key, or the operator key by default),
 * accepts the invitation, enrols TOTP and confirms it: what a new person does.
 */
export async function onboard(t: TestApp, clock: Clock, tenantId: string | null, user: { email: string; role: string; inviter?: string; password?: string }) {
  const path = tenantId ? `/v1/tenants/${tenantId}/users` : '/v1/users';
  const invited = await t.call('POST', path, { token: user.inviter, body: { email: user.email, role: user.role } });
  assert.equal(invited.statusCode, 201, invited.body);
  const password = user.password ?? PASSWORD;
  const accepted = await asUser(t, 'POST', '/v1/auth/invitations/accept', null, { token: invited.json().invitation.token, password });
  assert.equal(accepted.statusCode, 200, accepted.body);
  const { enrollmentToken } = accepted.json();
  const enrolled = await asUser(t, 'POST', '/v1/auth/mfa/enroll', null, { enrollmentToken });
  assert.equal(enrolled.statusCode, 200, enrolled.body);
  const secret = secretOf(enrolled.json().otpauthUri);
  const confirmed = await asUser(t, 'POST', '/v1/auth/mfa/enroll/confirm', null, { enrollmentToken, code: totp(secret, clock.now()) });
  assert.equal(confirmed.statusCode, 200, confirmed.body);
  const body = confirmed.json();
  return { userId: invited.json().id as string, secret, password, recoveryCodes: body.recoveryCodes as string[],
    session: { cookie: cookieOf(confirmed), csrfToken: body.csrfToken as string, userId: invited.json().id as string } };
}

/** Logs in with password and TOTP (the clock is moved a step first, as each code works once). */
export async function login(t: TestApp, clock: Clock, tenantId: string | null, email: string, secret: Buffer, password = PASSWORD): Promise<Session> {
  clock.advance(30_000);
  const first = await asUser(t, 'POST', '/v1/auth/login', null, { ...(tenantId ? { tenantId } : {}), email, password });
  assert.equal(first.statusCode, 200, first.body);
  assert.equal(first.json().status, 'mfa_required');
  const verified = await asUser(t, 'POST', '/v1/auth/mfa/verify', null, { mfaToken: first.json().mfaToken, code: totp(secret, clock.now()) });
  assert.equal(verified.statusCode, 200, verified.body);
  return { cookie: cookieOf(verified), csrfToken: verified.json().csrfToken, userId: verified.json().user.id };
}
