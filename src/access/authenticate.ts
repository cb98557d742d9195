import type { IncomingHttpHeaders } from 'node:http';
import { RequestError } from '../errors.ts';
import type { Actor } from './permissions.ts';

/** The kinds of credential a route may accept; sessions arrive with the identity work. */
export type CredentialKind = 'api_key' | 'session';

/**
 * One way of proving who is calling. `authenticate` answers undefined when the
 * request carries no credential of its kind (the next authenticator is asked),
 * and throws auth.invalid_credentials when it carries a bad one.
 */
export interface Authenticator {
  kind: CredentialKind;
  authenticate(headers: IncomingHttpHeaders): Promise<Actor | undefined>;
}

export type Authenticate = (headers: IncomingHttpHeaders, accepted: readonly CredentialKind[]) => Promise<Actor>;

/** The one chain every non-public route is authenticated by, in order of `authenticators`. */
export function authenticatorChain(authenticators: Authenticator[]): Authenticate {
  return async (headers, accepted) => {
    for (const a of authenticators) {
      if (!accepted.includes(a.kind)) continue;
      const actor = await a.authenticate(headers);
      if (actor) return actor;
    }
    throw new RequestError('auth.missing_credentials', 'Send Authorization: Bearer <api key>');
  };
}

/** API keys travel as `Authorization: Bearer <key>`. */
export function apiKeyAuthenticator(verify: (token: string) => Promise<Actor>): Authenticator {
  return {
    kind: 'api_key',
    async authenticate(headers) {
      const token = /^Bearer (\S+)$/i.exec(headers.authorization ?? '')?.[1];
      return token ? verify(token) : undefined;
    },
  };
}
