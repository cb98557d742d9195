import { Type } from 'typebox';
import type { App } from '../http/app-types.ts';
import { access } from '../http/access.ts';
import { Name, TenantParams, Timestamp, bearer, errorResponses } from '../http/schemas.ts';
import { PSEUDONYM_PATTERN } from '../crypto/pseudonym.ts';
import { NAME_PATTERN } from '../collections/collection-definition.ts';
import type { PseudonymsService } from './pseudonyms-service.ts';

const ResolveBody = Type.Object({
  collection: Type.Optional(Name),
  field: Type.String({ pattern: NAME_PATTERN.source, description: "the field's name with `collection`; without it, the pseudonym's purpose (a field's name unless it sets pseudonymPurpose)" }),
  pseudonym: Type.String({ pattern: PSEUDONYM_PATTERN.source, examples: ['q0L7uV3Jc2o8wXbY1hZt5mNfA9sKpE4rGdTiWvOyU6k'], description: 'as answered under a record\'s `pseudonyms`' }),
  reason: Type.String({ minLength: 3, maxLength: 500, pattern: '\\S', description: 'why the person must be re-identified; kept in the audit log' }),
}, { additionalProperties: false });
const Resolved = Type.Object({
  value: Type.Unknown({ description: 'the normalised value the pseudonym stands for' }),
  purpose: Type.String(),
  version: Type.Integer({ description: 'the pseudonym key version it was made under' }),
}, { title: 'ResolvedPseudonym' });
const Rotated = Type.Object({
  version: Type.Integer(), previous: Type.Integer(),
  retireAfter: Timestamp, mappings: Type.Integer({ description: 'mappings re-keyed under the new version' }),
}, { title: 'PseudonymKeyRotation' });

export function pseudonymsRoutes(app: App, { pseudonyms }: { pseudonyms: PseudonymsService }) {
  app.post('/v1/tenants/:tenantId/pseudonyms/resolve', {
    config: { ...access.tenant('pseudonym.resolve'), problems: ['collection.not_found', 'pseudonym.not_found'] },
    schema: { operationId: 'resolvePseudonym', summary: 'Re-identify a pseudonym', tags: ['pseudonyms'], security: bearer, params: TenantParams, body: ResolveBody,
      description: 'The value a pseudonym stands for, from its sealed mapping (one lookup, no scan of records). Needs pseudonym.resolve and a reason; '
        + 'the audit log records who, which pseudonym and why, never the value.', response: { 200: Resolved, ...errorResponses } },
  }, async (req) => pseudonyms.resolve(req.actor, req.params.tenantId, req.body));

  app.post('/v1/tenants/:tenantId/pseudonyms/rotate', {
    config: { ...access.tenant('keys.rotate'), problems: ['pseudonym.too_many_versions'] },
    schema: { operationId: 'rotatePseudonymKey', summary: "Rotate the tenant's pseudonym key", tags: ['pseudonyms'], security: bearer, params: TenantParams,
      description: 'Adds a pseudonym key version: records answer new pseudonyms from now on; the old ones stay resolvable for TRESOR_PSEUDONYM_MAPPING_DAYS, then retire.',
      response: { 200: Rotated, ...errorResponses } },
  }, async (req) => pseudonyms.rotate(req.actor, req.params.tenantId));
}
