import type { IncomingHttpHeaders } from 'node:http';
import { RequestError } from '../errors.ts';
import type { Actor } from './permissions.ts';

/** The kinds of credential a route may accept. */
export type CredentialKind = 'api_key' | 'session';

/** What an authenticator may look at: the headers, and the method and address (sessions check CSRF on writes). */
export interface AuthRequest { headers: IncomingHttpHeaders; method: string; ip: string }

/**
 * One way of proving who is calling. `authenticate` answers undefined when the
 * request carries no credential of its kind (the next authenticator is asked),
 * and throws auth.invalid_credentials when it carries a bad one.
 */
export interface Authenticator {
  kind: CredentialKind;
  authenticate(req: AuthRequest): Promise<Actor | undefined>;
}

export type Authenticate = (req: AuthRequest, accepted: readonly CredentialKind[]) => Promise<Actor>;

/** The one chain every non-public route is authenticated by, in order of `authenticators`. */
export function authenticatorChain(authenticators: Authenticator[]): Authenticate {
  return async (req, accepted) => {
    for (const a of authenticators) {
      if (!accepted.includes(a.kind)) continue;
      const actor = await a.authenticate(req);
      if (actor) return actor;
    }
    throw new RequestError('auth.missing_credentials',
      accepted.includes('session') ? 'Send Authorization: Bearer <api key> or the session cookie' : 'Send Authorization: Bearer <api key>');
  };
}

/** API keys travel as `Authorization: Bearer <key>`. */
export function apiKeyAuthenticator(verify: (token: string) => Promise<Actor>): Authenticator {
  return {
    kind: 'api_key',
    async authenticate({ headers }) {
      const token = /^Bearer (\S+)$/i.exec(headers.authorization ?? '')?.[1];
      return token ? verify(token) : undefined;
    },
  };
}
