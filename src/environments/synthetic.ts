// Realistic synthetic stand-ins for personal values, for a pseudonymised
// tenant clone. Each is derived from an HMAC of the source value under a
// secret of this clone run only (then dropped): the same value in the same
// field or purpose gets the same stand-in, so joins and duplicates survive,
// yet nothing links a stand-in to its source without that secret. Values
// meant to be unique carry 40 bits of the HMAC.
import { randomBytes } from 'node:crypto';
import { faker } from '@faker-js/faker';
import { hmacSha256 } from '../crypto/blind-index.ts';
import { encodeParts } from '../crypto/encoding.ts';
import type { FieldDef } from '../collections/collection-definition.ts';

const DAY_MS = 24 * 3600_000;
const FROM = Date.UTC(1940, 0, 1);

function textFor(def: FieldDef, h: Buffer): string {
  const n = def.name;
  if (/first_?name|given/.test(n)) return faker.person.firstName();
  if (/last_?name|surname|family/.test(n)) return faker.person.lastName();
  if (/name/.test(n)) return faker.person.fullName();
  if (/city|town/.test(n)) return faker.location.city();
  if (/street|address/.test(n)) return faker.location.streetAddress();
  if (/zip|postal|postcode/.test(n)) return faker.location.zipCode();
  if (/country/.test(n)) return faker.location.country();
  if (/company|employer|org/.test(n)) return faker.company.name();
  if (/iban|account/.test(n)) return faker.finance.iban();
  return `${faker.word.noun()}-${h.subarray(0, 5).toString('hex')}`;
}

/** A synthetic value of the field's type for one normalised source value. */
export function syntheticFor(secret: Buffer, def: FieldDef, value: unknown): unknown {
  if (value === null || value === undefined) return value;
  const h = hmacSha256(secret, encodeParts('tresor.clone.synthetic.v1', [def.pseudonymPurpose ?? def.name, def.type, JSON.stringify(value)]));
  faker.seed(h.readUInt32BE(0));
  const tag = h.subarray(4, 9).toString('hex');
  switch (def.type) {
    case 'email': return `${faker.person.firstName()}.${faker.person.lastName()}.${tag}@example.com`.toLowerCase().replace(/[^a-z0-9.@-]/g, '');
    // A Berlin number: always a valid international number, 10^8 of them.
    case 'phone': return `+4930${String(h.readUInt32BE(4) % 100_000_000).padStart(8, '0')}`;
    case 'date': return new Date(FROM + (h.readUInt32BE(4) % (65 * 365)) * DAY_MS).toISOString().slice(0, 10);
    case 'number': return h.readUInt32BE(4) % 100_000;
    case 'boolean': return (h[4] & 1) === 1;
    case 'string': {
      const text = def.unique ? `${textFor(def, h)} ${tag}` : textFor(def, h);
      return def.maxLength ? [...text].slice(0, def.maxLength).join('') : text;
    }
    // Payments keep their time and status (not personal on their own); the provider's reference would link back.
    case 'payment_event': {
      const { providerRef, ...rest } = value as Record<string, unknown>;
      return providerRef === undefined ? rest : { ...rest, providerRef: `ref_${h.subarray(4, 16).toString('hex')}` };
    }
    // Free-form JSON has no shape to imitate: it is dropped (an empty object where the field is required).
    default: return def.required ? {} : null;
  }
}

export const newCloneSecret = () => randomBytes(32);
