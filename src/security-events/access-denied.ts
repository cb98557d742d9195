import type { Denial } from '../http/access.ts';
import { requestMeta } from '../http/request-meta.ts';
import type { SecurityEventsService } from './security-events-service.ts';

/**
 * Records each refusal as an `access.denied` event: on the actor's own tenant
 * (its owner sees its keys and people probing), or as a platform event for
 * operators and support. The route is its pattern, never the raw URL, so no
 * value from the path is stored. A failure to record is reported, and the
 * refusal still answers.
 */
export function accessDeniedRecorder(securityEvents: Pick<SecurityEventsService, 'recordAlone'>, onError: (msg: string, err: unknown) => void) {
  return async ({ actor, tenantId, code, req }: Denial): Promise<void> => {
    try {
      await securityEvents.recordAlone({
        type: 'access.denied', actor, tenantId: actor.tenantId, ...requestMeta(req),
        detail: {
          reason: code === 'tenant.not_found' ? 'foreign_tenant' : code === 'auth.out_of_scope' ? 'out_of_scope' : 'forbidden',
          action: req.routeOptions.config.action ?? null, method: req.method, route: req.routeOptions.url ?? null, tenantId,
        },
      });
    } catch (err) {
      onError('recording an access.denied security event failed', err);
    }
  };
}
