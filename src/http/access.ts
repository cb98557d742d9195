import type { FastifyInstance, FastifyRequest, RouteOptions } from 'fastify';
import type { Logger } from 'pino';
import type { Authenticate, CredentialKind } from '../access/authenticate.ts';
import { type Action, type Actor, authorizePlatform, authorizeScope, authorizeTenant, can } from '../access/permissions.ts';
import { canonicalUuid } from './validator.ts';
import { RequestError } from '../errors.ts';
import type { AuthFailureReason, Meters } from './metrics.ts';

/**
 * What a route demands, declared in its `config`: public, or the credential
 * kinds it accepts plus the permission it needs, on the platform or on the
 * tenant named by its :tenantId.
 */
export interface RouteAccess {
  auth: 'public' | readonly CredentialKind[];
  action?: Action;
  scope?: 'tenant' | 'platform';
}

declare module 'fastify' {
  interface FastifyContextConfig extends Partial<RouteAccess> {}
}

// Routes take API keys and sessions alike unless they say otherwise (a
// user's own session routes take sessions only).
const ANY_CREDENTIAL: readonly CredentialKind[] = ['api_key', 'session'];
export const SESSION_ONLY: readonly CredentialKind[] = ['session'];

export const access = {
  public: { auth: 'public' } as RouteAccess,
  tenant: (action: Action, auth = ANY_CREDENTIAL): RouteAccess => ({ auth, action, scope: 'tenant' }),
  platform: (action: Action, auth = ANY_CREDENTIAL): RouteAccess => ({ auth, action, scope: 'platform' }),
};

// Routes a plugin registers that cannot carry our config: the OpenAPI UI.
const PLUGIN_PUBLIC_PREFIXES = ['/docs'];

function declareOrRefuse(route: RouteOptions): void {
  const auth = route.config?.auth;
  if (route.config?.scope === 'tenant' && !route.url.includes('/:tenantId')) {
    throw new Error(`Route ${route.method} ${route.url} is tenant-scoped but has no :tenantId: refusing to start`);
  }
  if (auth === 'public' || (Array.isArray(auth) && auth.length > 0 && route.config?.action && route.config.scope)) return;
  if (auth === undefined && PLUGIN_PUBLIC_PREFIXES.some((p) => route.url === p || route.url.startsWith(`${p}/`))) {
    route.config = { ...route.config, auth: 'public' };
    return;
  }
  throw new Error(`Route ${route.method} ${route.url} declares no access (config.auth, action, scope): refusing to start`);
}

// Runs before the body is read, so a foreign or under-privileged key learns
// nothing about the route's schema (no 415, no 400 before 404/403).
function authorize(req: FastifyRequest, actor: Actor, tenantId: string | null): void {
  const { action, scope } = req.routeOptions.config;
  if (!action) return;
  if (scope === 'platform') return authorizePlatform(actor, action);
  // Anything that is not a UUID is another tenant for a tenant key, and left
  // to validation (400) for operators.
  authorizeTenant(actor, tenantId ?? String((req.params as { tenantId?: unknown }).tenantId), action);
  const collection = (req.params as { name?: unknown }).name;
  authorizeScope(actor, typeof collection === 'string' ? collection : undefined, action);
}

/** The route's tenant in canonical form (the actor's own on platform routes). */
function tenantOf(req: FastifyRequest, actor: Actor): string | null {
  if (req.routeOptions.config.scope !== 'tenant') return actor.tenantId;
  return canonicalUuid((req.params as { tenantId?: unknown }).tenantId) ?? null;
}

// Bad keys (invalid, revoked) are counted where they are checked, in the api-keys service.
const refusals: Record<string, AuthFailureReason> = {
  'auth.missing_credentials': 'missing', 'auth.forbidden': 'forbidden', 'auth.out_of_scope': 'forbidden', 'tenant.not_found': 'foreign_tenant', 'auth.csrf_failed': 'csrf',
};

/** A refusal of a known actor (403, or 404 for another tenant), reported once the answer is decided. */
export interface Denial { actor: Actor; tenantId: string | null; code: 'auth.forbidden' | 'auth.out_of_scope' | 'tenant.not_found'; req: FastifyRequest }

/**
 * Every route must declare its access (checked as routes are added, so an
 * undeclared route fails start-up); every non-public request is authenticated
 * by the one chain and authorised before parsing. The request's logger then
 * carries the actor (ids only, never a secret).
 */
/**
 * `onDenied` hears of each refusal; `actAs` may lend an actor whose own role
 * lacks a tenant action a role on that tenant (support under a grant).
 */
export interface AccessHooks {
  onDenied?: (denial: Denial) => Promise<void>;
  actAs?: (actor: Actor, tenantId: string, req: FastifyRequest) => Promise<Actor>;
}

export function registerAccess(app: FastifyInstance, authenticate: Authenticate, meters: Pick<Meters, 'authFailure'>, hooks: AccessHooks = {}): void {
  app.decorateRequest('actor', null as never);
  app.addHook('onRoute', declareOrRefuse);
  app.addHook('onRequest', async (req) => {
    const auth = req.routeOptions.config.auth;
    if (auth === undefined || auth === 'public') return; // unmatched routes answer 404
    try {
      await authenticateAndAuthorize(req, authenticate, auth, hooks.actAs);
    } catch (err) {
      const reason = err instanceof RequestError ? refusals[err.code] : undefined;
      if (reason) meters.authFailure(reason);
      if (req.actor && hooks.onDenied && (reason === 'forbidden' || reason === 'foreign_tenant')) {
        await hooks.onDenied({ actor: req.actor, tenantId: tenantOf(req, req.actor), code: (err as RequestError).code as Denial['code'], req });
      }
      throw err;
    }
  });
}

async function authenticateAndAuthorize(req: FastifyRequest, authenticate: Authenticate, auth: readonly CredentialKind[],
  actAs: AccessHooks['actAs']): Promise<void> {
  let actor = await authenticate(req, auth);
  req.actor = actor;
  const tenantId = tenantOf(req, actor);
  const action = req.routeOptions.config.action;
  if (actAs && tenantId && action && req.routeOptions.config.scope === 'tenant' && !can(actor.role, action)) {
    req.actor = actor = await actAs(actor, tenantId, req);
  }
  // The request's logger is its own (reply.log is the same object): adding
  // bindings to it costs about a fifth of a second child logger per request.
  // Fastify's disabled logger has no bindings to set.
  (req.log as Partial<Pick<Logger, 'setBindings'>>).setBindings?.({ actor: { type: actor.type, id: actor.id, role: actor.role }, tenantId });
  authorize(req, actor, tenantId);
}
