import type { Actor } from '../access/permissions.ts';
import { RequestError } from '../errors.ts';
import { parseRecipientKey, sealExport } from '../crypto/export-seal.ts';
import type { Egress } from '../transfer/egress.ts';
import type { TenantExport } from './tenant-export.ts';

// The tenant export sent to a destination instead of the caller: the NDJSON
// stream sealed on the fly to the X25519 key the tenant gives
// (src/crypto/export-seal.ts) and POSTed through egress (allowlist, EU/EEA,
// SSRF, transfer-log entry), streamed: memory holds a page. The export keeps
// its own start and end entries (counts only).

export interface DeliveryRequest { destination: string; recipientKey: string }
export interface DeliveryResult { destination: string; bytes: number; records: number; collections: number; status: number }

export function exportDeliveryFactory({ tenantExport, egress }: { tenantExport: Pick<TenantExport, 'open'>; egress: Pick<Egress, 'send'> }) {
  return {
    /** Checks the key before anything is read; a refused or failed transfer is the egress problem, and the export's end entry says incomplete. */
    async deliver(actor: Actor, tenantId: string, r: DeliveryRequest): Promise<DeliveryResult> {
      const recipient = parseRecipientKey(r.recipientKey);
      if (!recipient) throw new RequestError('export.invalid_recipient_key');
      const stream = await tenantExport.open(actor, tenantId);
      // Read the head line now: the stream has started, so its end entry is
      // written whatever happens to the transfer.
      const head = await stream.next();
      let end: { collections: number; records: number } = { collections: 0, records: 0 };
      async function* lines() {
        if (!head.done) yield head.value;
        for await (const line of stream) {
          if (line.startsWith('{"type":"end"')) end = JSON.parse(line) as typeof end;
          yield line;
        }
      }
      try {
        const sent = await egress.send({ tenantId, purpose: 'tenant_export', url: r.destination, method: 'POST', actor,
          headers: { 'content-type': 'application/octet-stream' }, body: sealExport(recipient, lines()) });
        return { destination: sent.destination, bytes: sent.bytes, records: end.records, collections: end.collections, status: sent.status };
      } finally {
        await stream.return(undefined);
      }
    },
  };
}

export type ExportDelivery = ReturnType<typeof exportDeliveryFactory>;
