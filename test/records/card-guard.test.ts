import { describe, it, before, after, test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import pino from 'pino';
import { containsPan, findPan } from '../../src/records/card-guard.ts';
import { logRedaction } from '../../src/app.ts';
import { loadConfig } from '../../src/config.ts';
import { backends } from '../helpers/backends.ts';
import type { App } from '../../src/http/app-types.ts';
import { assertProblem } from '../helpers/problem.ts';
import { anotherNode, seedTenant, startTestApp, type TestApp } from '../helpers/test-app.ts';
import { CATEGORIES, cardNumbers, nonCardCorpus, type Category } from './non-card-corpus.ts';

// Test numbers of the card networks (Luhn-valid, known issuer ranges).
const VISA = '4111111111111111';
const AMEX = '378282246310005';
const MASTERCARD_2 = '2223003122003222';

test('finds card numbers written together, in groups of spaces or dashes, inside longer text', () => {
  for (const text of [VISA, '4111 1111 1111 1111', '4111-1111-1111-1111', '3782 822463 10005', `${MASTERCARD_2}`,
    `card: ${VISA}, exp 12/29`, `please charge 4111 1111 1111 1111 123 tomorrow`, `order 12 4111-1111-1111-1111`, `(${VISA})`,
    `${VISA}@example.org`, `id=${AMEX}&x=1`]) {
    assert.equal(containsPan(text), true, `should find a card number in a ${text.length}-character text`);
  }
});

test('every generated card number of every brand (13–19 digits) is found', () => {
  const cards = cardNumbers(5000);
  assert.equal(cards.filter((c) => !containsPan(c)).length, 0);
  // Grouped in fours as printed on cards.
  assert.equal(cards.filter((c) => !containsPan(c.replace(/(\d{4})(?=\d)/g, '$1 '))).length, 0);
});

test('leaves alone what is not a card number', () => {
  for (const text of [
    '4111111111111112',            // Luhn fails
    '1234567812345670',            // Luhn-valid, no issuer starts with 1
    '490154203237518',             // an IMEI: Luhn-valid, 15 digits (no 15-digit issuer starts with 49)
    '35-209900-176148-1',          // an IMEI in its printed form
    '+4930123456789012',           // a phone number: '+' glues
    'DE89 3704 0044 0532 0130 00', // an IBAN
    'GB33BUKB20201555555555',      // an IBAN, compact
    'x4111111111111111',           // glued to a letter (part of a token)
    '41111111111111110',           // 17 digits: Visa has 13, 16 or 19
    '41111111111111111111',        // 20 digits
    '2024-03-15T12:34:56.789Z',
    '550e8400-e29b-41d4-a716-446655440000',
  ]) {
    assert.equal(containsPan(text), false, text);
  }
});

test('findPan gives the JSON pointer of the value, through arrays and nested objects, and keys too', () => {
  assert.equal(findPan({ a: [1, { b: `pay ${VISA}` }] }), '/a/1/b');
  assert.equal(findPan({ a: { [VISA]: 'x' } }), '/a');
  assert.equal(findPan({ 'not safe/key': { c: VISA } }), '/c', 'an unsafe key is left out of the pointer');
  assert.equal(findPan(4111111111111111), '');
  assert.equal(findPan({ ok: 'fine', n: 42 }), null);
});

test('false-positive rate on 120 000 realistic non-card values (phones, IBANs, order ids, dates, timestamps, IMEIs, UUIDs, tracking numbers)', () => {
  const corpus = nonCardCorpus(15_000);
  assert.ok(corpus.length >= 100_000);
  const hits = new Map<Category, number>();
  for (const { category, value } of corpus) if (containsPan(value)) hits.set(category, (hits.get(category) ?? 0) + 1);
  const total = [...hits.values()].reduce((a, b) => a + b, 0);
  const rate = total / corpus.length;
  const per = Object.keys(CATEGORIES).map((c) => `${c} ${((hits.get(c as Category) ?? 0) / 15_000 * 100).toFixed(3)}%`).join(', ');
  process.stderr.write(`card guard false positives: ${total} of ${corpus.length} (${(rate * 100).toFixed(3)}%): ${per}\n`);
  // Undashed IMEIs never match (IIN + length); phone numbers and IBANs neither.
  assert.equal(hits.get('phone') ?? 0, 0);
  assert.equal(hits.get('iban') ?? 0, 0);
  assert.ok(rate < 0.002, `false-positive rate ${rate}`);
});

test('TRESOR_PAYMENT_CARD_GUARD=off is refused in production', () => {
  assert.throws(() => loadConfig({ TRESOR_PAYMENT_CARD_GUARD: 'off' }), /TRESOR_PAYMENT_CARD_GUARD: may be off only/);
  assert.equal(loadConfig({ TRESOR_PAYMENT_CARD_GUARD: 'off', TRESOR_ENVIRONMENT: 'test' }).paymentCardGuard, 'off');
});

const orders = {
  name: 'orders',
  fields: [
    { name: 'note', type: 'string', maxLength: 500 },
    { name: 'meta', type: 'json' },
    { name: 'amount', type: 'number' },
    { name: 'contact', type: 'email' },
    { name: 'payment', type: 'payment_event' },
  ],
};

for (const backend of backends) {
  describe(`payment-card guard and payment_event through the API [${backend}]`, () => {
    let t: TestApp;
    let logged: App;
    const lines: string[] = [];
    let tenantId: string;
    let key: string;
    let base: string;
    before(async () => {
      t = await startTestApp(backend);
      // A second app on the same store with a capturing logger: what a refused write leaves in the log.
      const sink = new Writable({ write(chunk, _enc, done) { lines.push(String(chunk)); done(); } });
      const logger = pino({ level: 'trace', redact: { paths: logRedaction, censor: '[redacted]' } }, sink);
      ({ app: logged } = await anotherNode(t, { logger }));
      const token = t.operatorKey;
      t.call = (method, url, { token: bearer = token, body, headers = {} } = {}) => logged.inject({
        method: method as 'GET', url,
        headers: { authorization: `Bearer ${bearer}`, ...(body !== undefined && typeof body !== 'string' ? { 'content-type': 'application/json' } : {}), ...headers },
        payload: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
      });
      const seeded = await seedTenant(t, 'Card Guard');
      ({ tenantId, adminKey: key } = seeded);
      assert.equal((await t.call('POST', `/v1/tenants/${tenantId}/collections`, { token: key, body: orders })).statusCode, 201);
      base = `/v1/tenants/${tenantId}/collections/orders/records`;
    });
    after(async () => { await logged.close(); await t.close(); });

    const count = async () => (await t.call('GET', `${base}?limit=500`, { token: key })).json().items.length as number;
    // Eight digits of a sent card number in a row (with or without a separator): a bare four-digit group such as
    // '4111' or '2223' also turns up by chance in a record id, a request id or a response time.
    const echoed = /4111[ -]?1111|3782[ -]?8224|8224 ?6310|2223[ -]?0031|3122[ -]?0032|5555[ -]?5555|5555[ -]?4444/;
    const noDigits = (text: string) => assert.equal(echoed.test(text), false, 'the card number must not be echoed');

    it('refuses a card number with spaces, with dashes, inside text, in nested JSON and as a number: 422, the field and pointer named, nothing stored, nothing echoed', async () => {
      const before = await count();
      const cases: Array<[Record<string, unknown>, string, string]> = [
        [{ note: '4111 1111 1111 1111' }, 'note', '/data/note'],
        [{ note: 'card 4111-1111-1111-1111 exp 12/29' }, 'note', '/data/note'],
        [{ meta: { items: [{ sku: 'A1' }, { card: { pan: `x ${AMEX} y` } }] } }, 'meta', '/data/meta/items/1/card/pan'],
        [{ amount: 4111111111111111 }, 'amount', '/data/amount'],
        [{ contact: `${MASTERCARD_2}@example.org` }, 'contact', '/data/contact'],
        [{ payment: { at: '2026-12-02T08:00:00Z', status: 'captured', providerRef: VISA } }, 'payment', '/data/payment/providerRef'],
      ];
      for (const [data, field, path] of cases) {
        const res = await t.call('POST', base, { token: key, body: { data } });
        const body = assertProblem(res, 422, 'payment.card_data_rejected');
        assert.deepEqual(body.problems.map((p: { field: string; path: string; code: string }) => [p.field, p.path, p.code]),
          [[field, path, 'payment.card_data_rejected']]);
        noDigits(res.body);
      }
      assert.equal(await count(), before);
    });

    it('refuses a PATCH that brings a card number and keeps the record as it was', async () => {
      const created = await t.call('POST', base, { token: key, body: { data: { note: 'order 2024-000123, call +49 30 1234567' } } });
      assert.equal(created.statusCode, 201, created.body);
      const id = created.json().id;
      const res = await t.call('PATCH', `${base}/${id}`, { token: key, body: { data: { meta: { cc: '5555 5555 5555 4444' } } } });
      assertProblem(res, 422, 'payment.card_data_rejected');
      noDigits(res.body);
      const read = (await t.call('GET', `${base}/${id}`, { token: key })).json();
      assert.equal(read.version, 1);
      assert.deepEqual(read.data, { note: 'order 2024-000123, call +49 30 1234567' });
    });

    it('reports a card number in an import line by line number, code and field; the other lines are imported', async () => {
      const body = [
        JSON.stringify({ data: { note: 'fine' } }),
        JSON.stringify({ data: { note: 'pan 4111 1111 1111 1111' } }),
        JSON.stringify({ data: { meta: { deep: [[`${AMEX}`]] } } }),
        JSON.stringify({ data: { note: 'IMEI 490154203237518' } }),
      ].join('\n');
      const res = await t.call('POST', `${base}/import`, { token: key, body, headers: { 'content-type': 'application/x-ndjson' } });
      assert.equal(res.statusCode, 200, res.body);
      assert.deepEqual(res.json(), { imported: 2, rejectedCount: 2, rejected: [
        { line: 2, code: 'payment.card_data_rejected', field: 'note' },
        { line: 3, code: 'payment.card_data_rejected', field: 'meta' },
      ] });
      noDigits(res.body);
    });

    it('a payment_event keeps only at (normalised to UTC), status and providerRef', async () => {
      const res = await t.call('POST', base, { token: key, body: { data: { payment: { at: '2026-12-02T09:30:00+01:00', status: 'captured', providerRef: 'pi_3MtwBwLkdIwHu7ix28a3tqPa' } } } });
      assert.equal(res.statusCode, 201, res.body);
      const read = (await t.call('GET', `${base}/${res.json().id}`, { token: key })).json();
      assert.deepEqual(read.data.payment, { at: '2026-12-02T08:30:00.000Z', status: 'captured', providerRef: 'pi_3MtwBwLkdIwHu7ix28a3tqPa' });
      for (const payment of [
        { at: '2026-12-02T08:00:00Z', status: 'captured', card: 'x' },   // an extra key
        { at: '2026-12-02', status: 'captured' },                           // no time
        { at: '2026-02-30T08:00:00Z', status: 'captured' },                 // no such day
        { at: '2026-12-02T08:00:00Z', status: 'Captured!' },
        { at: '2026-12-02T08:00:00Z', status: 'captured', providerRef: 'has space' },
        { at: '2026-12-02T08:00:00Z', status: 'captured', providerRef: 'x'.repeat(129) },
        'captured',
      ]) {
        const bad = await t.call('POST', base, { token: key, body: { data: { payment } } });
        const problem = assertProblem(bad, 422, 'record.validation_failed');
        assert.equal(problem.problems[0].code, 'record.invalid_payment_event');
      }
    });

    it('a payment_event field cannot be searchable or unique', async () => {
      const res = await t.call('POST', `/v1/tenants/${tenantId}/collections`, { token: key,
        body: { name: 'pay_search', fields: [{ name: 'p', type: 'payment_event', searchable: true }] } });
      const body = assertProblem(res, 422, 'collection.invalid_definition');
      assert.equal(body.problems[0].code, 'collection.field_not_indexable');
    });

    it('a refused write leaves no trace of the value in the log or the audit trail', async () => {
      const res = await t.call('POST', base, { token: key, body: { data: { note: 'zz 6011 0009 9013 9424 zz' } } });
      assertProblem(res, 422, 'payment.card_data_rejected');
      const log = lines.join('');
      assert.match(log, /"statusCode":422/);
      // whole digit runs only: a bare '6011' also occurs by chance in a response time or a hash
      const traces = /6011 0009|9013 9424|6011000990139424|0009 9013/;
      assert.equal(traces.test(log), false);
      const audit = await t.call('GET', `/v1/tenants/${tenantId}/audit?limit=500`, { token: key });
      assert.equal(audit.statusCode, 200, audit.body);
      assert.equal(traces.test(audit.body), false);
    });
  });
}
