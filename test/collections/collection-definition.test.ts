import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseCollectionDefinition, type DefinitionProblem } from '../../src/collections/collection-definition.js';

const limits = { maxFields: 5, maxLengthCap: 1000, defaultMaxLength: 200 };

function problemsOf(input: unknown): DefinitionProblem[] {
  const result = parseCollectionDefinition(input as Parameters<typeof parseCollectionDefinition>[0], limits);
  assert.equal(result.ok, false);
  return result.ok ? [] : result.problems;
}

function codesAt(problems: DefinitionProblem[]): string[] {
  return problems.map((p) => `${p.path} ${p.code}`);
}

test('accepts a minimal definition and applies defaults', () => {
  const result = parseCollectionDefinition({ name: 'customers', fields: [{ name: 'email', type: 'email' }] }, limits);
  assert.deepEqual(result, {
    ok: true,
    name: 'customers',
    fields: [{ name: 'email', type: 'email', required: false, searchable: false, unique: false, classification: 'personal' }],
  });
});

test('keeps explicit options', () => {
  const result = parseCollectionDefinition({
    name: 'c1',
    fields: [{ name: 'nick', type: 'string', required: true, maxLength: 40, searchable: true, classification: 'none', mask: 'partial' }],
  }, limits);
  assert.ok(result.ok);
  assert.deepEqual(result.fields[0], {
    name: 'nick', type: 'string', required: true, maxLength: 40, searchable: true, unique: false, classification: 'none', mask: 'partial',
  });
});

test('unique implies searchable', () => {
  const result = parseCollectionDefinition({ name: 'c', fields: [{ name: 'email', type: 'email', unique: true, searchable: false }] }, limits);
  assert.ok(result.ok);
  assert.equal(result.fields[0]?.searchable, true);
  assert.equal(result.fields[0]?.unique, true);
});

test('rejects invalid collection and field names', () => {
  for (const name of ['', 'Customers', '1abc', '_x', 'a-b', 'a'.repeat(64), '__proto__']) {
    assert.deepEqual(codesAt(problemsOf({ name, fields: [{ name: 'a', type: 'string' }] })), ['/name collection.invalid_name']);
    assert.deepEqual(codesAt(problemsOf({ name: 'c', fields: [{ name, type: 'string' }] })), ['/fields/0/name collection.invalid_field_name']);
  }
  assert.ok(parseCollectionDefinition({ name: 'a'.repeat(63), fields: [{ name: 'a_1', type: 'string' }] }, limits).ok);
});

test('rejects missing name without echoing anything', () => {
  const problems = problemsOf({ fields: [{ name: 'a', type: 'string' }] });
  assert.deepEqual(codesAt(problems), ['/name collection.invalid_name']);
});

test('requires at least one field and at most maxFields', () => {
  assert.deepEqual(codesAt(problemsOf({ name: 'c', fields: [] })), ['/fields collection.no_fields']);
  assert.deepEqual(codesAt(problemsOf({ name: 'c' })), ['/fields collection.no_fields']);
  const fields = Array.from({ length: 6 }, (_, i) => ({ name: `f${i}`, type: 'string' }));
  assert.deepEqual(codesAt(problemsOf({ name: 'c', fields })), ['/fields collection.too_many_fields']);
  assert.ok(parseCollectionDefinition({ name: 'c', fields: fields.slice(0, 5) }, limits).ok);
});

test('rejects duplicate field names at the repeat', () => {
  const problems = problemsOf({ name: 'c', fields: [{ name: 'a', type: 'string' }, { name: 'b', type: 'date' }, { name: 'a', type: 'number' }] });
  assert.deepEqual(codesAt(problems), ['/fields/2/name collection.duplicate_field']);
});

test('rejects unknown types', () => {
  for (const type of ['text', undefined, 3, 'String']) {
    assert.deepEqual(codesAt(problemsOf({ name: 'c', fields: [{ name: 'a', type }] })), ['/fields/0/type collection.invalid_type']);
  }
});

test('rejects unknown option keys, naming only those that look like option names', () => {
  const problems = problemsOf({ name: 'c', fields: [{ name: 'a', type: 'string', default: 'x', 'a/b': 1, 'jane.doe@example.org': 1 }] });
  assert.deepEqual(codesAt(problems), ['/fields/0/default collection.unknown_option', '/fields/0 collection.unknown_option', '/fields/0 collection.unknown_option']);
  assert.doesNotMatch(JSON.stringify(problems), /jane|a\/b|a~1b/);
});

test('booleans must be booleans', () => {
  const problems = problemsOf({ name: 'c', fields: [{ name: 'a', type: 'string', required: 'yes', searchable: 1, unique: null }] });
  assert.deepEqual(codesAt(problems), [
    '/fields/0/required collection.invalid_option',
    '/fields/0/unique collection.invalid_option',
    '/fields/0/searchable collection.invalid_option',
  ]);
});

test('classification and mask must be from their lists', () => {
  const problems = problemsOf({ name: 'c', fields: [{ name: 'a', type: 'string', classification: 'secret', mask: 'half' }] });
  assert.deepEqual(codesAt(problems), ['/fields/0/classification collection.invalid_option', '/fields/0/mask collection.invalid_option']);
  const ok = parseCollectionDefinition({ name: 'c', fields: [{ name: 'a', type: 'string', classification: 'special', mask: 'full' }] }, limits);
  assert.ok(ok.ok);
  assert.equal(ok.fields[0]?.classification, 'special');
});

test('json and boolean fields cannot be searchable or unique', () => {
  const problems = problemsOf({ name: 'c', fields: [
    { name: 'a', type: 'json', searchable: true },
    { name: 'b', type: 'boolean', unique: true },
  ] });
  assert.deepEqual(codesAt(problems), [
    '/fields/0/searchable collection.field_not_indexable',
    '/fields/1/searchable collection.field_not_indexable',
    '/fields/1/unique collection.field_not_indexable',
  ]);
  assert.ok(parseCollectionDefinition({ name: 'c', fields: [{ name: 'a', type: 'json', searchable: false }] }, limits).ok);
});

test('maxLength is an integer within the cap, only for text types', () => {
  for (const maxLength of [0, -1, 1.5, 1001, '10', Number.NaN]) {
    assert.deepEqual(codesAt(problemsOf({ name: 'c', fields: [{ name: 'a', type: 'string', maxLength }] })), ['/fields/0/maxLength collection.invalid_option']);
  }
  for (const type of ['email', 'phone']) {
    assert.ok(parseCollectionDefinition({ name: 'c', fields: [{ name: 'a', type, maxLength: 1000 }] }, limits).ok);
  }
  for (const type of ['date', 'number', 'boolean', 'json']) {
    assert.deepEqual(codesAt(problemsOf({ name: 'c', fields: [{ name: 'a', type, maxLength: 10 }] })), ['/fields/0/maxLength collection.invalid_option']);
  }
});

test('non-object field entries are reported', () => {
  assert.deepEqual(codesAt(problemsOf({ name: 'c', fields: ['email', null] })), ['/fields/0 collection.invalid_option', '/fields/1 collection.invalid_option']);
});

test('collects all problems at once', () => {
  const problems = problemsOf({ name: 'Bad Name', fields: [
    { name: 'ok', type: 'string' },
    { name: 'Bad', type: 'nope', extra: true },
    { name: 'ok', type: 'json', unique: true, maxLength: 3 },
  ] });
  assert.deepEqual(codesAt(problems).sort(), [
    '/name collection.invalid_name',
    '/fields/1/extra collection.unknown_option',
    '/fields/1/name collection.invalid_field_name',
    '/fields/1/type collection.invalid_type',
    '/fields/2/searchable collection.field_not_indexable',
    '/fields/2/unique collection.field_not_indexable',
    '/fields/2/maxLength collection.invalid_option',
    '/fields/2/name collection.duplicate_field',
  ].sort());
});

test('problem details never echo invalid input', () => {
  const secret = 'zz-secret-9137';
  const problems = problemsOf({ name: secret, fields: [
    { name: secret, type: secret, classification: secret, mask: secret, required: secret, maxLength: secret, [secret]: 1 },
  ] });
  assert.ok(problems.length >= 6);
  for (const p of problems) assert.ok(!p.detail.includes(secret), p.detail);
  // The unknown key appears only in the path, which is where it belongs.
  assert.ok(!JSON.stringify(problems.map((p) => ({ ...p, path: '' }))).includes(secret));
});
