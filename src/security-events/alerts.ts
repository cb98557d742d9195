import type { PublicSecurityEvent, SecurityEventObserver } from './security-events-service.ts';
import { ALERTING_TYPES } from './security-event-types.ts';
import type { Egress } from '../transfer/egress.ts';
import { burstCounter } from './burst-counter.ts';

// Optional webhook alerts: a lockout, or an actor refused `denialThreshold`
// times within `denialWindowMs`, is POSTed as JSON to one configured URL
// (covered by the egress allowlist; sent through the egress module, so each
// alert is a transfer-log entry of the event's tenant). Sending never blocks a
// request: alerts wait in a bounded queue (the newest are dropped when it is
// full, and counted), one at a time, each with a timeout. An alert is queued
// when its event is recorded, so an event whose transaction then rolls back
// may still have alerted.

export interface AlertConfig { url: string; timeoutMs: number; queueMax: number; denialThreshold: number; denialWindowMs: number }

export interface Alert { kind: 'event' | 'repeated_denials'; event: PublicSecurityEvent; count?: number }

export function securityAlerts(cfg: AlertConfig, egress: Pick<Egress, 'send'>, now: () => Date, onError: (msg: string, err: unknown) => void) {
  const queue: Alert[] = [];
  let sending: Promise<void> | null = null;
  let dropped = 0;

  async function drain() {
    while (queue.length) {
      const alert = queue.shift()!;
      try {
        await egress.send({ tenantId: alert.event.tenantId, purpose: 'security_alert', url: cfg.url, timeoutMs: cfg.timeoutMs,
          headers: { 'content-type': 'application/json' }, body: JSON.stringify(alert) });
      } catch (err) {
        onError('security alert failed', err);
      }
    }
    sending = null;
  }

  function enqueue(alert: Alert) {
    if (queue.length >= cfg.queueMax) { dropped++; return; }
    queue.push(alert);
    sending ??= drain();
  }

  // Refusals counted per actor in a sliding window; the alert fires once on
  // reaching the threshold, then the count starts again.
  const denials = burstCounter({ threshold: cfg.denialThreshold, windowMs: cfg.denialWindowMs, now });
  function denied(event: PublicSecurityEvent) {
    const count = denials.hit(`${event.actor.type}:${event.actor.id}`);
    if (count !== null) enqueue({ kind: 'repeated_denials', event, count });
  }

  const observer: SecurityEventObserver = {
    recorded(event) {
      if ((ALERTING_TYPES as readonly string[]).includes(event.type)) enqueue({ kind: 'event', event });
      else if (event.type === 'access.denied') denied(event);
    },
  };
  return { observer, idle: () => sending ?? Promise.resolve(), dropped: () => dropped };
}
