import { Type } from 'typebox';
import type { App } from '../http/app-types.ts';
import { access } from '../http/access.ts';
import { StringEnum, TenantParams, Timestamp, Uuid, bearer, errorResponses } from '../http/schemas.ts';
import type { InstructionsService } from './instructions-service.ts';
import { TRANSFER_MECHANISMS } from './instructions-repo.ts';


const Purpose = Type.Object({
  id: Type.String({ pattern: '^[a-z][a-z0-9_]{0,62}$', description: 'what collections and API keys name in `purposes`' }),
  description: Type.String({ minLength: 1, maxLength: 1000 }),
}, { additionalProperties: false, title: 'InstructionPurpose' });
const Transfer = Type.Object({
  destination: Type.String({ minLength: 1, maxLength: 2000, examples: ['https://hooks.example.com/in'], description: 'http(s) URL prefix the data may be sent to (as in TRESOR_EGRESS_ALLOW)' }),
  country: Type.String({ pattern: '^[A-Z]{2}$', examples: ['US'], description: 'ISO 3166-1 alpha-2; must match the allowlist entry\'s country' }),
  mechanism: StringEnum(TRANSFER_MECHANISMS, { description: 'GDPR Art. 45 adequacy decision, Art. 46 standard contractual clauses, Art. 47 binding corporate rules, Art. 49 derogation' }),
}, { additionalProperties: false, title: 'InstructionTransfer' });
const Body = {
  purposes: Type.Array(Purpose, { minItems: 1, maxItems: 50 }),
  dataCategories: Type.Array(Type.String({ minLength: 1, maxLength: 200 }), { maxItems: 100, description: 'e.g. contact data, payment status' }),
  retention: Type.String({ minLength: 1, maxLength: 1000, description: 'how long data is kept, in the client\'s words' }),
  recipients: Type.Array(Type.String({ minLength: 1, maxLength: 200 }), { maxItems: 100, description: 'permitted recipients' }),
  transfers: Type.Array(Transfer, { maxItems: 50, description: 'permitted destinations outside the EU/EEA with their mechanism' }),
};
const InstructionIn = Type.Object(Body, { additionalProperties: false, title: 'InstructionInput',
  examples: [{ purposes: [{ id: 'billing', description: 'invoicing customers' }], dataCategories: ['contact data'], retention: '10 years after the invoice',
    recipients: ['tax advisor'], transfers: [] }] });
const Instruction = Type.Object({
  version: Type.Integer({ minimum: 1 }), ...Body,
  enteredBy: Type.Object({ type: Type.String(), id: Type.String(), role: Type.String() }),
  enteredAt: Timestamp,
  confirmed: Type.Boolean({ description: 'confirmed by an operator (the formal order confirmation)' }),
  confirmedBy: Type.Union([Type.Object({ type: Type.String(), id: Type.String() }), Type.Null()]),
  confirmedAt: Type.Union([Timestamp, Type.Null()]),
}, { title: 'Instruction' });
const VersionParams = Type.Object({ tenantId: Uuid, version: Type.Integer({ minimum: 1, maximum: 1_000_000 }) });

export function instructionsRoutes(app: App, { instructions }: { instructions: InstructionsService }) {
  const base = '/v1/tenants/:tenantId/instructions';
  app.post(base, {
    config: { ...access.tenant('instructions.write'), problems: ['instruction.invalid', 'instruction.conflict'] },
    schema: { operationId: 'enterInstruction', summary: 'Enter a new version of the tenant\'s instructions', tags: ['instructions'], security: bearer,
      params: TenantParams, body: InstructionIn, response: { 201: Instruction, ...errorResponses },
      description: 'The client\'s documented instructions (GDPR Art. 28(3)(a)): purposes, data categories, retention, recipients and transfers. '
        + 'A new version is not in force until an operator confirms it.' },
  }, async (req, reply) => reply.code(201).send(await instructions.enter(req.actor, req.params.tenantId, req.body)));

  app.get(base, {
    config: access.tenant('instructions.read'),
    schema: { operationId: 'listInstructions', summary: 'The history of the tenant\'s instructions', tags: ['instructions'], security: bearer,
      params: TenantParams, description: 'Every version, newest first; `current` is the confirmed version in force (null: none).',
      response: { 200: Type.Object({ current: Type.Union([Type.Integer(), Type.Null()]), items: Type.Array(Instruction) }), ...errorResponses } },
  }, async (req) => instructions.list(req.actor, req.params.tenantId));

  app.get(`${base}/:version`, {
    config: { ...access.tenant('instructions.read'), problems: ['instruction.not_found'] },
    schema: { operationId: 'getInstruction', summary: 'One version of the tenant\'s instructions', tags: ['instructions'], security: bearer,
      params: VersionParams, description: 'Who entered it and when, and whether (by whom, when) it was confirmed.',
      response: { 200: Instruction, ...errorResponses } },
  }, async (req) => instructions.get(req.actor, req.params.tenantId, req.params.version));

  app.post(`${base}/:version/confirm`, {
    config: { ...access.tenant('instructions.confirm'), problems: ['instruction.not_found', 'instruction.already_confirmed'] },
    schema: { operationId: 'confirmInstruction', summary: 'Confirm a version of the tenant\'s instructions (order confirmation)', tags: ['instructions'],
      security: bearer, params: VersionParams, response: { 200: Instruction, ...errorResponses },
      description: 'The operator\'s formal confirmation of the order; the highest confirmed version is in force. Recorded as the security event '
        + '`instruction.confirmed` on the tenant, so its owner sees it.' },
  }, async (req) => instructions.confirm(req.actor, req.params.tenantId, req.params.version));
}
