import { createHash } from 'node:crypto';
import { v7 as uuidv7 } from 'uuid';
import type { Config } from '../config.ts';
import type { Db } from '../db/db.ts';
import { RequestError, assertThat } from '../errors.ts';
import { type Actor, authorizePlatform, authorizeTenant } from '../access/permissions.ts';
import type { SigningKey } from '../crypto/signing.ts';
import { type Annex, type Format, type Lang, configurationHash } from './tom-annex.ts';
import { renderHtml, renderMarkdown } from './tom-render.ts';
import { signDocument } from './tom-signature.ts';
import { evidenceRepo } from './tom-evidence-repo.ts';
import { type EntryPatch, tomRepo } from './tom-repo.ts';
import { type TomRegister, publicAttestation } from './tom-register.ts';
import { pdfSlots } from './pdf-slots.ts';

export interface AttestationInput {
  attestedBy: string; attestedAt?: string; nextReviewAt: string; note?: string;
  /** The document itself (base64); only its SHA-256 and size are kept. */
  document?: string;
  /** Or the document's SHA-256 (hex), when the document stays elsewhere. */
  documentSha256?: string;
}
export interface EntryInput { owner?: string | null; reviewIntervalDays?: number; description?: { de?: string | null; en?: string | null }; reviewedAt?: string }
export interface Rendered { contentType: string; body: Buffer; fileName: string }

export interface TomDeps {
  db: Db; config: Config; now: () => Date; register: TomRegister; signingKey: SigningKey;
  /** Prints the annex's HTML to PDF (headless Chromium). */
  pdf: (html: string) => Promise<Buffer>;
}

const CONTENT_TYPES: Record<Format, string> = { md: 'text/markdown; charset=utf-8', html: 'text/html; charset=utf-8', pdf: 'application/pdf' };
const notFound = () => new RequestError('tom.entry_not_found');
const invalid = (detail: string) => new RequestError('tom.invalid_attestation', detail);

function documentDigest(input: AttestationInput, maxBytes: number): { sha: string | null; bytes: number | null } {
  assertThat(!(input.document !== undefined && input.documentSha256 !== undefined), () => invalid('Give the document or its SHA-256, not both'));
  if (input.documentSha256 !== undefined) return { sha: input.documentSha256.toLowerCase(), bytes: null };
  if (input.document === undefined) return { sha: null, bytes: null };
  const doc = Buffer.from(input.document, 'base64');
  assertThat(doc.length <= maxBytes, () => new RequestError('tom.document_too_large', `The document may be at most ${maxBytes} bytes (TRESOR_TOM_DOCUMENT_MAX_BYTES)`));
  return { sha: createHash('sha256').update(doc).digest('hex'), bytes: doc.length };
}

export function tomServiceFactory({ db, config, now, register, signingKey, pdf }: TomDeps) {
  const inTurn = pdfSlots(config.pdfQueue, config.retryAfterSeconds);
  /** A PDF waits for its turn before any evidence is gathered; Markdown and HTML never wait. */
  const produce = (format: Format, make: () => Promise<Rendered>) => format === 'pdf' ? inTurn(make) : make();

  async function annex(lang: Lang, tenant: Annex['tenant']): Promise<Annex> {
    const entries = await register.evaluate({ tenantId: tenant?.id });
    return { lang, generatedAt: now().toISOString(), tenant, environment: config.environment, configHash: configurationHash(config),
      keyId: signingKey.keyId, entries, subProcessors: await evidenceRepo.subProcessors(db) };
  }

  async function render(a: Annex, format: Format): Promise<Rendered> {
    let content: Buffer;
    if (format === 'md') content = Buffer.from(renderMarkdown(a));
    else if (format === 'html') content = Buffer.from(renderHtml(a));
    else {
      try {
        content = await pdf(renderHtml(a));
      } catch (err) {
        throw new RequestError('tom.pdf_unavailable', `Printing to PDF failed: ${String((err as Error).message ?? err).split('\n')[0].slice(0, 200)}`);
      }
    }
    const stamp = a.generatedAt.replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
    return { contentType: CONTENT_TYPES[format], body: signDocument(content, format, signingKey), fileName: `tom-annex-${a.lang}-${stamp}.${format}` };
  }

  return {
    publicKey: () => ({ keyId: signingKey.keyId, algorithm: signingKey.algorithm, publicKey: signingKey.publicKey.toString('base64') }),

    async entries(actor: Actor) {
      authorizePlatform(actor, 'tom.read');
      return { items: await register.evaluate() };
    },

    async update(actor: Actor, key: string, input: EntryInput) {
      authorizePlatform(actor, 'tom.manage');
      assertThat(register.known(key), notFound);
      const reviewedAt = input.reviewedAt ? new Date(input.reviewedAt) : undefined;
      assertThat(!reviewedAt || reviewedAt.getTime() <= now().getTime(), () => new RequestError('tom.invalid_entry', 'reviewedAt lies in the future'));
      const patch: EntryPatch = { owner: input.owner, reviewIntervalDays: input.reviewIntervalDays, lastReviewAt: reviewedAt,
        descriptionDe: input.description?.de, descriptionEn: input.description?.en };
      await register.ensure();
      await db.transaction(async (tx) => {
        assertThat(await tomRepo.update(tx, key, patch, now()), notFound);
        // Which settings changed, never their wording or a person's name.
        tx.audit({ action: 'tom.entry.update', actor, tenantId: null, target: { type: 'tom_measure', id: key },
          detail: { fields: Object.keys(input).sort().join(','), reviewIntervalDays: input.reviewIntervalDays ?? null } });
      });
      return (await register.evaluate()).find((e) => e.key === key)!;
    },

    async attest(actor: Actor, key: string, input: AttestationInput) {
      authorizePlatform(actor, 'tom.manage');
      assertThat(register.known(key), notFound);
      const at = now();
      const attestedAt = input.attestedAt ? new Date(input.attestedAt) : at;
      const nextReviewAt = new Date(input.nextReviewAt);
      assertThat(attestedAt.getTime() <= at.getTime(), () => invalid('attestedAt lies in the future'));
      assertThat(nextReviewAt.getTime() > attestedAt.getTime(), () => invalid('nextReviewAt must lie after attestedAt'));
      const { sha, bytes } = documentDigest(input, config.tomDocumentMaxBytes);
      await register.ensure();
      const row = await db.transaction(async (tx) => {
        const r = await tomRepo.insertAttestation(tx, { id: uuidv7(), entryKey: key, attestedBy: input.attestedBy, attestedAt, documentSha256: sha, documentBytes: bytes,
          nextReviewAt, note: input.note ?? null, recordedByType: actor.type, recordedById: actor.id, createdAt: at });
        await tomRepo.update(tx, key, { lastReviewAt: attestedAt }, at);
        tx.audit({ action: 'tom.attest', actor, tenantId: null, target: { type: 'tom_measure', id: key },
          detail: { attestationId: r.id, documentSha256: sha, nextReviewAt: nextReviewAt.toISOString() } });
        return r;
      });
      return publicAttestation(row);
    },

    async report(actor: Actor, q: { lang: Lang; format: Format }) {
      authorizePlatform(actor, 'tom.read');
      return produce(q.format, async () => render(await annex(q.lang, null), q.format));
    },

    async tenantReport(actor: Actor, tenantId: string, q: { lang: Lang; format: Format }) {
      authorizeTenant(actor, tenantId, 'tom.report');
      const name = await db.withTenant(tenantId, (tx) => evidenceRepo.tenantName(tx));
      assertThat(name !== undefined, () => new RequestError('tenant.not_found'));
      return produce(q.format, async () => render(await annex(q.lang, { id: tenantId, name }), q.format));
    },

    /** The CLI's report on the store itself: no actor, the operator at the console. */
    async storeReport(q: { lang: Lang; format: Format }) {
      return produce(q.format, async () => render(await annex(q.lang, null), q.format));
    },
  };
}

export type TomService = ReturnType<typeof tomServiceFactory>;
