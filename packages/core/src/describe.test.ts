import { describe, expect, it } from 'vitest';
import { describeError, maskSecrets } from './describe.js';

describe('maskSecrets', () => {
  it.each([
    ['a prefixed key', 'access_token=abc123XYZ', 'access_token=***'],
    ['an upper-case prefixed key', 'DB_PASSWORD=abc123XYZ', 'DB_PASSWORD=***'],
    ['a prefixed JSON member', '{"refresh_token":"abc123XYZ"}', '{"refresh_token":"***"}'],
    ['a header before a key=value pair', "Authorization: Bearer abc123XYZ WHERE password = 'pw123XYZ'", "Authorization: ***'***'"],
    ['an API-key header before a quoted value', "x-api-key: k123XYZ password='pw123XYZ'", "x-api-key: ***'***'"],
  ])('masks %s', (_name, text, masked) => {
    expect(maskSecrets(text)).toBe(masked);
  });

  it('leaves keys that only look alike', () => {
    expect(maskSecrets('max_tokens: 100, password_reset_count=3')).toBe('max_tokens: 100, password_reset_count=3');
  });
});

describe('describeError', () => {
  it('survives a revoked Proxy as aggregated errors and a URL whose href throws', () => {
    const { proxy, revoke } = Proxy.revocable([], {});
    revoke();
    const aggregate = Object.assign(new Error('several'), { name: 'AggregateError', errors: proxy });
    expect(describeError(aggregate)).toMatchObject({ name: 'AggregateError', message: 'several' });
    const href = {
      get href(): string {
        throw new Error('href');
      },
    };
    expect(describeError(Object.assign(new Error('x'), { url: href }))).toMatchObject({ message: 'x' });
  });
});

describe('describeError on long texts', () => {
  it('never shows the start of a credential whose URL was cut before its @', () => {
    const message = `${'x'.repeat(1990)} https://svc-user:hunter2-SECRET${'y'.repeat(50)}@db.internal/app`;
    const { message: shown } = describeError(new Error(message));
    expect(shown).not.toMatch(/hunter2|svc-user/);
    expect(shown.length).toBeLessThanOrEqual(2001);
  });

  it('masks stack lines that hold a secret, and only reads the others', () => {
    const error = new Error('boom');
    error.stack = 'Error: boom\n    at handler (/srv/app.js:1:1)\n    at fetch (https://svc:pw-SECRET@api.test/x?token=t-SECRET)';
    const { stack } = describeError(error);
    // A query value's mask runs to the value's end, the closing parenthesis included.
    expect(stack).toEqual(['at handler (/srv/app.js:1:1)', 'at fetch (https://***@api.test/x?token=***']);
  });
});
