import { randomBytes } from 'node:crypto';

// Realistic personal records (~200 bytes of JSON): the shape a CRM keeps.
// Values are already in Tresor's normalised form (lower-case e-mail, E.164
// phone), so what is read back must equal what was sent, byte for byte.

const FIRST = ['Anna', 'Jonas', 'Lea', 'Lukas', 'Marie', 'Finn', 'Sophie', 'Elias', 'Emma', 'Paul', 'Mia', 'Ben', 'Hannah', 'Noah', 'Lena', 'Felix'];
const LAST = ['Müller', 'Schmidt', 'Schneider', 'Fischer', 'Weber', 'Meyer', 'Wagner', 'Becker', 'Schulz', 'Hoffmann', 'Koch', 'Richter'];
const STREETS = ['Hauptstraße', 'Schillerstraße', 'Goethestraße', 'Bahnhofstraße', 'Gartenweg', 'Lindenallee', 'Torstraße', 'Kastanienallee'];
const CITIES: Array<[string, string]> = [['10115', 'Berlin'], ['10437', 'Berlin'], ['10999', 'Berlin'], ['12043', 'Berlin'], ['13347', 'Berlin']];

export interface Person {
  email: string;
  name: string;
  phone: string;
  address: { street: string; postalCode: string; city: string; country: string };
  birthdate: string;
}

const pick = <T>(list: T[], n: number) => list[n % list.length];
const pad = (n: number, width: number) => String(n).padStart(width, '0');

/** A tag that keeps e-mails of separate runs (and separate processes) apart. */
export const runTag = () => randomBytes(3).toString('hex');

/** The n-th person of a run: deterministic, unique e-mail per (tag, n). */
export function person(n: number, tag: string): Person {
  const first = pick(FIRST, n);
  const last = pick(LAST, n >> 4);
  const [postalCode, city] = pick(CITIES, n >> 2);
  return {
    email: `${first}.${last}.${n}.${tag}@example.org`.toLowerCase().replace('ü', 'ue'),
    name: `${first} ${last}`,
    // Berlin landline numbers: +49 30 and eight digits, valid E.164.
    phone: `+4930${pad(20_000_000 + ((n * 7919) % 79_999_999), 8)}`,
    address: { street: `${pick(STREETS, n >> 3)} ${1 + (n % 180)}`, postalCode, city, country: 'DE' },
    birthdate: `${1940 + (n % 65)}-${pad(1 + (n % 12), 2)}-${pad(1 + (n % 28), 2)}`,
  };
}

/** n people as NDJSON import lines ({"data": {...}} per line). */
export function peopleNdjson(count: number, tag: string, offset = 0): Buffer {
  const lines: string[] = new Array(count);
  for (let i = 0; i < count; i++) lines[i] = JSON.stringify({ data: person(offset + i, tag) });
  return Buffer.from(`${lines.join('\n')}\n`);
}
