import { describe, expect, it } from 'vitest';
import { DEFAULT_REQUEST_ID_PATTERN, isValidRequestId, randomUuid, resolveRequestId } from './request-id.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('resolveRequestId', () => {
  it.each([
    ['a UUID', '3f2504e0-4f89-41d3-9a0c-0305e82c3301'],
    ['a ULID', '01ARZ3NDEKTSV4RRFFQ69G5FAV'],
    ['a CloudFront ID', 'Ay8sWcBgP1a2aB8e_Bxj7kmAX2Yz_eHnHqUt8Q3ACRm1IpTAQ4Zukw=='],
    ['an ALB trace ID', 'Root=1-67891233-abcdef012345678912345678'],
    ['a Heroku ID', 'f9ed4675f1c53513c61a3b3b4e25b4c0'],
    ['a 200-character ID', 'a'.repeat(200)],
    ['slashes and pluses', 'a/b+c:d.e_f'],
  ])('keeps %s', (_name, id) => {
    expect(resolveRequestId({ 'x-request-id': id })).toBe(id);
    expect(resolveRequestId(new Headers({ 'X-Request-Id': id }))).toBe(id);
  });

  it.each([
    ['CRLF injection', 'abc\r\nSet-Cookie: session=evil'],
    ['a lone LF', 'abc\ndef'],
    ['NUL', 'abc\u0000'],
    ['a space', 'abc def'],
    ['a tab', 'abc\tdef'],
    ['Unicode', 'réquest-ïd'],
    ['an emoji', 'id-🔥'],
    ['empty', ''],
    ['201 characters', 'a'.repeat(201)],
    ['10 KB', 'x'.repeat(10_240)],
    ['quotes', '"abc"'],
    ['angle brackets', '<script>'],
  ])('replaces %s', (_name, id) => {
    const resolved = resolveRequestId({ 'x-request-id': id });
    expect(resolved).not.toBe(id);
    expect(resolved).toMatch(UUID);
  });

  it('replaces array-valued, numeric and missing headers', () => {
    expect(resolveRequestId({ 'x-request-id': ['a', 'b'] })).toMatch(UUID);
    expect(resolveRequestId({ 'x-request-id': 42 })).toMatch(UUID);
    expect(resolveRequestId({})).toMatch(UUID);
    expect(resolveRequestId(undefined)).toMatch(UUID);
    expect(resolveRequestId(new Headers())).toMatch(UUID);
  });

  it('generates a new ID every time', () => {
    expect(resolveRequestId({})).not.toBe(resolveRequestId({}));
  });

  it('trustIncoming: false always generates', () => {
    expect(resolveRequestId({ 'x-request-id': 'abc' }, { trustIncomingRequestId: false })).toMatch(UUID);
  });

  it('honours a custom header, pattern and generator', () => {
    let n = 0;
    const options = { requestIdHeader: 'x-correlation-id', requestIdPattern: /^c-\d+$/, generateRequestId: () => `c-${++n}` };
    expect(resolveRequestId({ 'x-correlation-id': 'c-77' }, options)).toBe('c-77');
    expect(resolveRequestId({ 'x-correlation-id': 'nope' }, options)).toBe('c-1');
  });

  it('falls back to a UUID when a generator throws or returns something unsafe', () => {
    expect(resolveRequestId({}, { generateRequestId: () => { throw new Error('x'); } })).toMatch(UUID);
    expect(resolveRequestId({}, { generateRequestId: () => 'bad\r\nid' })).toMatch(UUID);
  });

  it('a pattern cannot let CR, LF or spaces through', () => {
    expect(isValidRequestId('a b', /.*/)).toBe(false);
    expect(isValidRequestId('a\r\nb', /[\s\S]*/)).toBe(false);
    expect(isValidRequestId('ab', DEFAULT_REQUEST_ID_PATTERN)).toBe(true);
  });
});

describe('randomUuid', () => {
  it('makes version 4 UUIDs, each one new, across many refills of its random pool', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 5000; i++) {
      const id = randomUuid();
      expect(id).toMatch(UUID);
      seen.add(id);
    }
    expect(seen.size).toBe(5000);
  });

  it('uses every hex digit in every free position', () => {
    // 122 random bits: over 2,000 IDs each free position sees all 16 digits (a stuck digit fails).
    const digits = Array.from({ length: 36 }, () => new Set<string>());
    for (let i = 0; i < 2000; i++) [...randomUuid()].forEach((char, at) => digits[at]!.add(char));
    digits.forEach((set, at) => {
      if (at === 8 || at === 13 || at === 18 || at === 23) expect([...set]).toEqual(['-']);
      else if (at === 14) expect([...set]).toEqual(['4']);
      else if (at === 19) expect([...set].sort()).toEqual(['8', '9', 'a', 'b']);
      else expect(set.size).toBe(16);
    });
  });
});
