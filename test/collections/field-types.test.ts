import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { FieldDef, FieldType } from '../../src/collections/collection-definition.js';
import { indexValueFor, normaliseLookup, validateRecordData, type FieldProblem } from '../../src/collections/field-types.js';

const limits = { jsonMaxBytes: 64 * 1024, recordMaxBytes: 256 * 1024 };

const SECRET = 'zz-secret-9137';

function def(name: string, type: FieldType, extra: Partial<FieldDef> = {}): FieldDef {
  return { name, type, required: false, searchable: false, unique: false, classification: 'personal', ...extra };
}

function accept(field: FieldDef, raw: unknown): unknown {
  const result = validateRecordData([field], { [field.name]: raw }, 'create', limits);
  assert.ok(result.ok, `expected ${field.type} to accept ${JSON.stringify(raw)}: ${JSON.stringify(result)}`);
  return result.values[field.name];
}

function reject(field: FieldDef, raw: unknown): FieldProblem {
  const result = validateRecordData([field], { [field.name]: raw }, 'create', limits);
  assert.equal(result.ok, false, `expected ${field.type} to reject ${String(raw)}`);
  assert.ok(!result.ok);
  assert.equal(result.problems.length, 1);
  return result.problems[0]!;
}

test('string: kept as given, code-point length, no NUL', () => {
  const f = def('nick', 'string', { maxLength: 3 });
  assert.equal(accept(f, ' a '), ' a ');
  assert.equal(accept(f, '😀😀😀'), '😀😀😀');
  assert.equal(accept(def('s', 'string'), ''), '');
  assert.equal(reject(f, 'abcd').code, 'record.too_long');
  assert.equal(reject(f, 'a\u0000').code, 'record.invalid_value');
  assert.equal(reject(f, '\uD800').code, 'record.invalid_value');
  assert.equal(reject(f, 12).code, 'record.invalid_type');
  assert.equal(reject(f, ['a']).code, 'record.invalid_type');
});

test('email: trimmed, lower-cased, pragmatic shape', () => {
  const f = def('email', 'email');
  assert.equal(accept(f, ' Alice.B+tag@Example.COM '), 'alice.b+tag@example.com');
  assert.equal(accept(f, 'x@sub.example.co.uk'), 'x@sub.example.co.uk');
  for (const bad of ['alice', 'alice@', '@example.com', 'alice@example', 'a@b@example.com', 'a..b@example.com',
    '.a@example.com', 'a@-example.com', 'a@example.c', 'a b@example.com', `${'a'.repeat(65)}@example.com`,
    `a@${'b'.repeat(250)}.com`, 'ålice@example.com']) {
    assert.equal(reject(f, bad).code, 'record.invalid_email', bad);
  }
  assert.equal(reject(f, 5).code, 'record.invalid_type');
  assert.equal(reject(def('email', 'email', { maxLength: 5 }), 'ab@cd.ef').code, 'record.too_long');
});

test('phone: international only, normalised to E.164', () => {
  const f = def('phone', 'phone');
  assert.equal(accept(f, '+1 (213) 373-4253'), '+12133734253');
  assert.equal(accept(f, ' 0049 30 901820 '), '+4930901820');
  assert.equal(accept(f, '+44 20 7946 0958'), '+442079460958');
  for (const bad of ['213 373 4253', '+1 213', 'call +1 213 373 4253', '+12133734253 ext. 12', 'phone', '', '+' + '1'.repeat(80)]) {
    assert.equal(reject(f, bad).code, 'record.invalid_phone', bad);
  }
  assert.equal(reject(f, 12133734253).code, 'record.invalid_type');
});

test('date: real calendar dates in YYYY-MM-DD, kept as given', () => {
  const f = def('born', 'date');
  for (const ok of ['2024-02-29', '2000-02-29', '1999-12-31', '2023-01-01']) assert.equal(accept(f, ok), ok);
  for (const bad of ['2023-02-29', '1900-02-29', '2023-02-30', '2023-13-01', '2023-00-10', '2023-04-31', '2023-1-01', '23-01-01', '2023-01-01T00:00:00Z', ' 2023-01-01']) {
    assert.equal(reject(f, bad).code, 'record.invalid_date', bad);
  }
  assert.equal(reject(f, new Date()).code, 'record.invalid_type');
});

test('number: finite numbers only', () => {
  const f = def('score', 'number');
  assert.equal(accept(f, 1.5), 1.5);
  assert.ok(Object.is(accept(f, -0), 0));
  for (const bad of [Number.NaN, Infinity, -Infinity]) assert.equal(reject(f, bad).code, 'record.invalid_number');
  assert.equal(reject(f, '42').code, 'record.invalid_type');
});

test('boolean: true or false only', () => {
  const f = def('active', 'boolean');
  assert.equal(accept(f, true), true);
  assert.equal(accept(f, false), false);
  for (const bad of ['true', 1, 0, {}]) assert.equal(reject(f, bad).code, 'record.invalid_boolean');
});

test('json: JSON values up to 64 KiB, copied', () => {
  const f = def('prefs', 'json');
  const input = { a: [1, 'x', true, null], b: { c: 2 } };
  const stored = accept(f, input);
  assert.deepEqual(stored, input);
  assert.notEqual(stored, input);
  for (const ok of ['text', 3, false, []]) assert.deepEqual(accept(f, ok), ok);
  assert.equal(reject(f, 'x'.repeat(64 * 1024)).code, 'record.too_long');
  assert.deepEqual(accept(f, 'x'.repeat(64 * 1024 - 2)), 'x'.repeat(64 * 1024 - 2));
  let deep: unknown = 1;
  for (let i = 0; i < 100; i++) deep = [deep];
  for (const bad of [{ a: Number.NaN }, { a: undefined }, { d: new Date() }, () => 1, deep, { k: 'a\u0000' }]) {
    assert.equal(reject(f, bad).code, 'record.invalid_value');
  }
  const cyclic: Record<string, unknown> = {};
  cyclic.self = cyclic;
  assert.equal(reject(f, cyclic).code, 'record.invalid_value');
});

test('data must be a plain object', () => {
  for (const data of [null, undefined, 'x', 3, [], new Map()]) {
    assert.deepEqual(validateRecordData([def('a', 'string')], data, 'create', limits), {
      ok: false, problems: [{ field: '', code: 'record.invalid_data', detail: 'record data must be a JSON object' }],
    });
  }
  assert.ok(validateRecordData([def('a', 'string')], Object.create(null), 'create', limits).ok);
});

test('unknown keys are rejected; odd keys are not echoed', () => {
  const result = validateRecordData([def('a', 'string')], { a: 'x', b: 1, [SECRET + '@x.io']: 1, constructor: 1 }, 'create', limits);
  assert.ok(!result.ok);
  assert.deepEqual(result.problems.map((p) => [p.field, p.code]), [
    ['b', 'record.unknown_field'], ['', 'record.unknown_field'], ['constructor', 'record.unknown_field'],
  ]);
  assert.ok(!JSON.stringify(result.problems).includes(SECRET));
});

test('create: required fields must be present and non-null; optional null omitted', () => {
  const fields = [def('email', 'email', { required: true }), def('nick', 'string')];
  const missing = validateRecordData(fields, {}, 'create', limits);
  assert.deepEqual(missing, { ok: false, problems: [{ field: 'email', code: 'record.required_field', detail: "field 'email' is required" }] });
  const nulled = validateRecordData(fields, { email: null }, 'create', limits);
  assert.ok(!nulled.ok && nulled.problems[0]?.code === 'record.required_field');
  assert.deepEqual(validateRecordData(fields, { email: 'a@b.co', nick: null }, 'create', limits), { ok: true, values: { email: 'a@b.co' } });
  assert.deepEqual(validateRecordData(fields, { email: 'a@b.co', nick: undefined }, 'create', limits), { ok: true, values: { email: 'a@b.co' } });
});

test('patch: only given keys, null clears optional, null on required fails', () => {
  const fields = [def('email', 'email', { required: true }), def('nick', 'string'), def('age', 'number')];
  assert.deepEqual(validateRecordData(fields, {}, 'patch', limits), { ok: true, values: {} });
  assert.deepEqual(validateRecordData(fields, { nick: null }, 'patch', limits), { ok: true, values: { nick: null } });
  assert.deepEqual(validateRecordData(fields, { email: ' A@B.CO ' }, 'patch', limits), { ok: true, values: { email: 'a@b.co' } });
  const result = validateRecordData(fields, { email: null, age: 'old' }, 'patch', limits);
  assert.ok(!result.ok);
  assert.deepEqual(result.problems.map((p) => [p.field, p.code]), [['email', 'record.required_field'], ['age', 'record.invalid_type']]);
});

test('all problems are collected at once', () => {
  const fields = [def('email', 'email', { required: true }), def('phone', 'phone'), def('born', 'date'), def('score', 'number'), def('name', 'string', { required: true })];
  const result = validateRecordData(fields, { email: 'nope', phone: 'nope', born: '2023-02-30', score: Infinity, extra: 1 }, 'create', limits);
  assert.ok(!result.ok);
  assert.deepEqual(result.problems.map((p) => [p.field, p.code]), [
    ['extra', 'record.unknown_field'],
    ['email', 'record.invalid_email'],
    ['phone', 'record.invalid_phone'],
    ['born', 'record.invalid_date'],
    ['score', 'record.invalid_number'],
    ['name', 'record.required_field'],
  ]);
  assert.equal(result.problems[1]?.detail, "field 'email' must be a valid e-mail address");
});

test('problem details never contain the rejected value', () => {
  const fields = [
    def('s', 'string', { maxLength: 3 }), def('n', 'string'), def('e', 'email'), def('p', 'phone'),
    def('d', 'date'), def('num', 'number'), def('b', 'boolean'), def('j', 'json'), def('t', 'email'),
  ];
  const data = {
    s: SECRET, n: `${SECRET}\u0000`, e: `${SECRET}@`, p: `+${SECRET}`, d: `2023-${SECRET}`,
    num: SECRET, b: SECRET, j: { [SECRET]: Number.NaN }, t: { secret: SECRET },
  };
  const result = validateRecordData(fields, data, 'create', limits);
  assert.ok(!result.ok);
  assert.equal(result.problems.length, fields.length);
  assert.ok(!JSON.stringify(result.problems).includes(SECRET));
  const big = validateRecordData([def('j', 'json')], { j: SECRET.repeat(10_000) }, 'create', limits);
  assert.ok(!big.ok && !JSON.stringify(big.problems).includes(SECRET));
  const lookup = normaliseLookup(def('e', 'email', { searchable: true }), SECRET);
  assert.ok(!lookup.ok && !JSON.stringify(lookup.problem).includes(SECRET));
});

test('indexValueFor gives one canonical string per value', () => {
  assert.equal(indexValueFor(def('e', 'email'), 'a@b.co'), 'a@b.co');
  assert.equal(indexValueFor(def('p', 'phone'), '+4930901820'), '+4930901820');
  assert.equal(indexValueFor(def('d', 'date'), '2024-02-29'), '2024-02-29');
  assert.equal(indexValueFor(def('s', 'string'), 'Alice '), 'Alice ');
  assert.equal(indexValueFor(def('n', 'number'), 1.0), indexValueFor(def('n', 'number'), 1));
  assert.equal(indexValueFor(def('n', 'number'), -0), '0');
  assert.equal(indexValueFor(def('n', 'number'), 2.5), '2.5');
  assert.throws(() => indexValueFor(def('b', 'boolean'), true), /not indexable/);
  assert.throws(() => indexValueFor(def('j', 'json'), {}), /not indexable/);
  assert.throws(() => indexValueFor(def('n', 'number'), SECRET), (err: Error) => !err.message.includes(SECRET));
});

test('normaliseLookup matches write normalisation', () => {
  const email = def('email', 'email', { searchable: true });
  const written = validateRecordData([email], { email: 'alice@example.com' }, 'create', limits);
  const lookup = normaliseLookup(email, ' Alice@Example.COM ');
  assert.ok(written.ok && lookup.ok);
  assert.equal(indexValueFor(email, lookup.value), indexValueFor(email, written.values.email));
  const phone = def('phone', 'phone', { searchable: true });
  assert.deepEqual(normaliseLookup(phone, '0049 30 901820'), { ok: true, value: '+4930901820' });
  assert.deepEqual(normaliseLookup(def('n', 'number', { searchable: true }), 7), { ok: true, value: 7 });
});

test('normaliseLookup rejects bad values and non-searchable fields', () => {
  const email = def('email', 'email', { searchable: true });
  const bad = normaliseLookup(email, 'nope');
  assert.ok(!bad.ok);
  assert.deepEqual(bad.problem, { field: 'email', code: 'record.invalid_email', detail: "field 'email' must be a valid e-mail address" });
  const notSearchable = normaliseLookup(def('nick', 'string'), 'x');
  assert.ok(!notSearchable.ok && notSearchable.problem.code === 'record.field_not_searchable');
  const empty = normaliseLookup(email, null);
  assert.ok(!empty.ok && empty.problem.code === 'record.required_field');
  const wrong = normaliseLookup(def('n', 'number', { searchable: true }), '7');
  assert.ok(!wrong.ok && wrong.problem.code === 'record.invalid_type');
});
