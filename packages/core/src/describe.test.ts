import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { describeError, describeForLog, maskSecrets } from './describe.js';

const MB = 1 << 20;
/** `unit` repeated to `length` characters. */
const fill = (unit: string, length = MB): string => unit.repeat(Math.ceil(length / unit.length)).slice(0, length);

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

  it.each([
    ['a JSON value with spaces', '{"password":"correct horse battery"}', '{"password":"***"}'],
    ['a quoted value with a comma, a semicolon and an escaped quote', '{"password":"a,b;c\\"d","user":"bob"}', '{"password":"***","user":"bob"}'],
    ['an SQL literal with a doubled quote', "WHERE password = 'it''s; a, b' AND id = 7", "WHERE password = '***' AND id = 7"],
    ['an unquoted value up to its natural end', 'password=abc,def;ghi next', 'password=*** next'],
    ['an unquoted value with an escaped quote', 'password=ab\\"cd next', 'password=*** next'],
    ['JSON inside a JSON string', '{\\"password\\":\\"correct horse\\",\\"user\\":\\"bob\\"}', '{\\"password\\":\\"***\\",\\"user\\":\\"bob\\"}'],
    [
      'util.inspect output',
      "{ password: 'correct horse', headers: { authorization: 'Bearer abc', 'x-api-key': 'k1' } }",
      "{ password: '***', headers: { authorization: '***', 'x-api-key': '***' } }",
    ],
    ['a Ruby or PHP hash', '"password" => "s3 cret"', '"password" => "***"'],
    ["a Postgres key's value", 'Key (api_token)=(abc 123) already exists.', 'Key (api_token)=(***) already exists.'],
    ['a key that is a whole part of the name', 'DB_PASS=hunter2 x-auth: y', 'DB_PASS=*** x-auth: ***'],
    ['a key with a separated secret name', 'AWS_SECRET_ACCESS_KEY="wJal rXUt" private.key=k1', 'AWS_SECRET_ACCESS_KEY="***" private.key=***'],
    ['bearer in lower case', 'bearer abc123', 'bearer ***'],
    ['BEARER in upper case', 'header BEARER Xyz_9.a-b', 'header BEARER ***'],
    ['a scheme credential that reads as a token', 'token abc123 and Basic dXNlcjpwYXNz', 'token *** and Basic ***'],
    ['user-info whose password holds an @', 'postgres://app:p@ss@db.internal/x', 'postgres://***@db.internal/x'],
    ['a signed URL', 'GET https://s3.test/o?X-Amz-Signature=abc&X-Amz-Credential=k#f', 'GET https://s3.test/o?X-Amz-Signature=***&X-Amz-Credential=***#f'],
    ['a cookie header, quotes kept', 'Cookie: a="x"; session=abc\nnext line', 'Cookie: ***"***"***\nnext line'],
  ])('masks %s', (_name, text, masked) => {
    expect(maskSecrets(text)).toBe(masked);
  });

  it.each([
    ['"token" in a sentence', 'invalid token provided; Token expired'],
    ['"basic" and "digest" as words', 'basic auth failed, Digest mismatch'],
    ['a word that only contains a key name', 'bypass=true oauth=x'],
    ["a Postgres key that names no secret", 'DETAIL:  Key (email)=(bob@example.com) already exists.'],
    ['a pnpm stack line', 'at async fetch (/srv/app/node_modules/.pnpm/undici@7.1.0/node_modules/undici/index.js:2:3)'],
    ['an e-mail address', 'mail to bob@example.com failed'],
  ])('leaves %s readable', (_name, text) => {
    expect(maskSecrets(text)).toBe(text);
  });

  it('masks a generated secret whole, whatever surrounds it', () => {
    const secret = fc
      .string({ unit: fc.constantFrom(...'aZ09 ,;:=&"\'\\`{}()@/?#%'), minLength: 8, maxLength: 24 })
      .map((random) => `Pw7${random}`);
    /** Each form: the text with the secret as it appears there, and what masking leaves of that text. */
    const forms: ReadonlyArray<(value: string) => readonly [text: string, shown: string, masked: string]> = [
      (value) => [`{"password":${JSON.stringify(value)},"user":"bob"}`, JSON.stringify(value).slice(1, -1), '{"password":"***","user":"bob"}'],
      (value) => [`{ client_secret: ${JSON.stringify(value)} }`, JSON.stringify(value).slice(1, -1), '{ client_secret: "***" }'],
      (value) => {
        // A backslash escapes the next character (JSON, MySQL): in standard SQL, where it does not,
        // a value that ends in one is masked to the end of the line instead.
        const literal = value.replaceAll('\\', '').replaceAll("'", "''");
        return [`WHERE password = '${literal}'`, literal, "WHERE password = '***'"];
      },
      (value) => [`https://bob:${encodeURIComponent(value)}@db.internal/x`, encodeURIComponent(value), 'https://***@db.internal/x'],
      (value) => [`GET /x?id=1&access_token=${encodeURIComponent(value)}`, encodeURIComponent(value), 'GET /x?id=1&access_token=***'],
      (value) => {
        const bare = value.replace(/[\s"'`&<>}\\]/g, '');
        return [`DB_PASSWORD=${bare}`, bare, 'DB_PASSWORD=***'];
      },
      (value) => [`Authorization: Bearer ${encodeURIComponent(value)}`, encodeURIComponent(value), 'Authorization: ***'],
    ];
    fc.assert(
      fc.property(fc.string({ maxLength: 30 }), secret, fc.constantFrom(...forms), fc.string({ maxLength: 30 }), (before, value, form, after) => {
        const [text, shown, masked] = form(value);
        const result = maskSecrets(`${before} ${text} ${after}`);
        expect(result).not.toContain(shown);
        expect(result).toContain(masked);
      }),
      { numRuns: 1000 },
    );
  });
});

describe('maskSecrets on inputs built to backtrack (1 MB each)', () => {
  // No timing here: each case must simply finish within the test timeout. The regular
  // expressions masking used before took seconds at 100 KB and did not finish at 1 MB.
  it.each([
    ['a.a.a…@ after a secret word', `password ${fill('a.')}@`, `password ${fill('a.')}@`],
    ['a.a.a…@ as user-info', `https://${fill('a.')}@db`, 'https://***@db'],
    ['?tokentoken… without a value', `?${fill('token')}`, `?${fill('token')}`],
    ['?tokentoken…= with a value', `?${fill('token')}=v`, `?${fill('token')}=***`],
    ['a-a-a…key', `${fill('a-')}key`, `${fill('a-')}key`],
    ['a-a-a…api-key: as a header', `${fill('a-')}api-key: v`, `${fill('a-')}api-key: ***`],
    [':// repeated', fill('://'), fill('://')],
    ['a:// repeated', fill('a://'), fill('a://')],
    ['many @ in an authority', `a://${fill('@')}`, 'a://***@'],
    ['password=password=…', fill('password='), 'password=***'],
    ['escaped quotes in a JSON value', `{"password":"${fill('\\"')}"}`, '{"password":"***"}'],
    ['nested quotes after a key', `password=${fill('"\'')}`, `password="***${fill('"\'').slice(2)}`],
    ['a huge whitespace run after a key', `password${fill(' ')}= x`, `password${fill(' ')}= ***`],
    ['a huge whitespace run after a scheme', `Bearer${fill(' ')}abc1`, `Bearer${fill(' ')}***`],
    ['Cookie: Cookie: …', fill('Cookie: '), 'Cookie: ***'],
    ['bearer bearer …', fill('bearer bearer ', 14 * 75_000), 'bearer *** '.repeat(75_000)],
    ['words after a weak scheme', fill('token abc ', 10 * 100_000), fill('token abc ', 10 * 100_000)],
    ["a Postgres key's unclosed value", `Key (token)=(${fill('(')}`, 'Key (token)=(***'],
    ['query values', `?${fill('token=a;')}`, '?token=***'],
  ])('%s', (_name, text, masked) => {
    const result = maskSecrets(text);
    // toBe on megabyte strings would print them whole on a failure.
    expect(result.length).toBe(masked.length);
    expect(result === masked).toBe(true);
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

describe('describeError has a fixed masking budget', () => {
  /** A chain of nine errors, each with a 2,000-character message that ends in a secret, and 25 long stack lines. */
  function heavyChain(): Error {
    let error: Error | undefined;
    for (let index = 0; index < 9; index += 1) {
      const next: Error = new Error(`${'m'.repeat(1960)} #${index} password=hunter2-SECRET`, error === undefined ? {} : { cause: error });
      next.stack = `Error: x\n${Array.from({ length: 25 }, () => `    at f (${'token=t0k3n-SECRET '.repeat(150)})`).join('\n')}`;
      error = next;
    }
    return error!;
  }

  it('shows every message, cuts stack lines once the budget is spent and never shows a secret', () => {
    const description = describeError(heavyChain());
    const all = [description, ...(description.causes ?? [])];
    expect(all).toHaveLength(9);
    // Names and messages of the whole chain come first.
    for (const [index, error] of all.entries()) expect(error.message).toContain(`#${8 - index} password=***`);
    const shown = JSON.stringify(description);
    expect(shown).not.toMatch(/SECRET/);
    expect(shown).toContain('[not shown: masking budget spent]');
    expect(shown.length).toBeLessThan(60_000);
  });

  it('cuts a text at the budget without showing the start of a credential', () => {
    const error = new Error('m'.repeat(1990), {
      cause: new Error(`${'c'.repeat(1990)} https://svc-user:hunter2-SECRET${'y'.repeat(20)}@db.internal/app`),
    });
    error.stack = `Error: x\n${Array.from({ length: 20 }, () => `    at ${'s'.repeat(2000)}`).join('\n')}`;
    const shown = JSON.stringify(describeError(error));
    expect(shown).not.toMatch(/hunter2|svc-user/);
  });

  it('describes 1 MB attacker-shaped texts in a cause chain, each clipped', () => {
    const texts = [`${fill('a.')}@`, `?${fill('token')}`, `${fill('a-')}key`, fill('password='), `{"password":"${fill('\\"')}`];
    const error = texts.reduce<Error | undefined>((cause, text) => {
      const next = new Error(text, cause === undefined ? {} : { cause });
      next.stack = `Error: x\n    at ${text}\n    at ${text}`;
      return next;
    }, undefined)!;
    const description = describeError(error);
    for (const { message, stack } of [description, ...(description.causes ?? [])]) {
      expect(message.length).toBeLessThanOrEqual(2001);
      for (const line of stack ?? []) expect(line.length).toBeLessThanOrEqual(2001);
    }
  });
});

describe('describeForLog', () => {
  it('shows a stack seen before as it showed it, and masks a stack with a secret every time', () => {
    const plain = new Error('connect ECONNREFUSED 10.0.0.7:443');
    const first = describeForLog(plain);
    const again = describeForLog(plain);
    expect(again).toEqual(first);
    expect(again.stack).toBe(plain.stack);
    const secret = new Error('GET https://svc:hunter2@api.internal/v1 failed');
    for (let i = 0; i < 3; i++) {
      const { stack } = describeForLog(secret);
      expect(stack).not.toContain('hunter2');
      expect(stack).toMatch(/^Error: GET https:\/\/\*\*\*@api\.internal\/v1 failed\n {4}at /);
    }
  });

  it('still spends the budget on a stack seen before: a long chain ends in the marker, not in the stack', () => {
    const frame = `    at ${'f'.repeat(1_000)} (/srv/app/orders.js:1:1)`;
    const stack = ['Error: deep', ...Array.from({ length: 20 }, () => frame)].join('\n');
    const seen = Object.assign(new Error('deep'), { stack });
    expect(describeForLog(seen).stack).not.toContain('not shown');
    // Eight causes of long messages first leave too little budget for the stack they share.
    let chain: Error = Object.assign(new Error('deep'), { stack });
    for (let i = 0; i < 8; i++) chain = Object.assign(new Error('m'.repeat(1_990), { cause: chain }), { stack });
    const logged = describeForLog(chain);
    expect(logged.stack).toContain('[not shown: masking budget spent]');
    expect(logged.stack.length).toBeLessThan(9 * stack.length);
  });

  const refused = () => Object.assign(new Error('connect ECONNREFUSED 10.0.0.7:5432'), { code: 'ECONNREFUSED' });

  it("is pino's err shape: type, message and stack of the chain as strings, code, and the causes without stacks", () => {
    const error = new TypeError('query failed for postgres://app:hunter2@db.internal/orders', { cause: new Error('pool exhausted', { cause: refused() }) });
    const logged = describeForLog(error);
    expect(Object.keys(logged)).toEqual(['type', 'message', 'stack', 'causes']);
    expect(logged).toEqual({
      type: 'TypeError',
      message: 'query failed for postgres://***@db.internal/orders: pool exhausted: connect ECONNREFUSED 10.0.0.7:5432',
      stack: expect.any(String),
      causes: [
        { type: 'Error', message: 'pool exhausted' },
        { type: 'Error', message: 'connect ECONNREFUSED 10.0.0.7:5432', code: 'ECONNREFUSED' },
      ],
    });
    const parts = logged.stack.split('\ncaused by: ');
    expect(parts.map((part) => part.split('\n')[0])).toEqual([
      'TypeError: query failed for postgres://***@db.internal/orders',
      'Error: pool exhausted',
      'Error: connect ECONNREFUSED 10.0.0.7:5432',
    ]);
    for (const part of parts) expect(part.split('\n')[1]).toMatch(/^ {4}at /);
    expect(JSON.stringify(logged)).not.toContain('hunter2');
  });

  it('names no constructor and holds no cause, so a serializer follows nothing again', () => {
    const logged = describeForLog(new Error('a', { cause: refused() }));
    expect((logged as { constructor?: unknown }).constructor).toBeUndefined();
    expect(Object.getOwnPropertyDescriptor(logged, 'constructor')).toMatchObject({ value: undefined, enumerable: false });
    expect('cause' in logged).toBe(false);
    expect(JSON.parse(JSON.stringify(logged))).toEqual(logged);
  });

  it('keeps the code and the upstream of the thrown error itself', () => {
    const error = Object.assign(new Error('Request failed with status code 503'), { code: 'ERR_BAD_RESPONSE', response: { status: 503, headers: { 'x-request-id': 'up-1' } } });
    expect(describeForLog(error)).toMatchObject({ type: 'Error', code: 'ERR_BAD_RESPONSE', upstream: { status: 503, requestId: 'up-1' } });
    expect(describeForLog(error)).not.toHaveProperty('causes');
  });

  it('a value without a stack stands as its first line would', () => {
    expect(describeForLog({ status: 500, message: 'plain object' })).toEqual({ type: 'Object', message: 'plain object', stack: 'Object: plain object' });
    expect(describeForLog('boom')).toEqual({ type: 'string', message: 'boom', stack: 'string: boom' });
    expect(describeForLog(null)).toEqual({ type: 'null', message: 'null', stack: 'null: null' });
    expect(describeForLog(Object.assign(new Error(''), { stack: undefined }))).toEqual({ type: 'Error', message: '', stack: 'Error' });
  });

  it('masks stack lines, keeps their indentation, and shows at most 20 frames per error', () => {
    const error = new Error('boom');
    error.stack = `Error: boom\n    at fetch (https://svc:pw-SECRET@api.test/x?token=t-SECRET)\n${'    at f (/srv/app.js:1:1)\n'.repeat(30)}`;
    const lines = describeForLog(error).stack.split('\n');
    expect(lines.slice(0, 2)).toEqual(['Error: boom', '    at fetch (https://***@api.test/x?token=***']);
    expect(lines).toHaveLength(21);
  });

  it('reads each field once, survives throwing getters and Proxies, and never throws', () => {
    const reads: Record<string, number> = {};
    const counted = new Error('x');
    // The stack first: V8 formats an error's stack when it is replaced, reading name and message.
    for (const key of ['stack', 'name', 'message', 'code', 'cause'] as const) {
      let first = true;
      Object.defineProperty(counted, key, {
        get: () => {
          reads[key] = (reads[key] ?? 0) + 1;
          const answer = first ? { name: 'Shifty', message: 'first read', code: 'E_FIRST', stack: 'Shifty: first read\n    at a (/a.js:1:1)', cause: refused() }[key] : 'password=hunter2';
          first = false;
          return answer;
        },
      });
    }
    const logged = describeForLog(counted);
    expect(reads).toEqual({ name: 1, message: 1, code: 1, stack: 1, cause: 1 });
    expect(logged).toMatchObject({ type: 'Shifty', message: 'first read: connect ECONNREFUSED 10.0.0.7:5432', code: 'E_FIRST' });
    expect(logged.stack).toMatch(/^Shifty: first read\n {4}at a \(\/a\.js:1:1\)\ncaused by: Error: connect ECONNREFUSED/);

    const trap = () => {
      throw new Error('trap');
    };
    const { proxy, revoke } = Proxy.revocable({}, {});
    revoke();
    const hostile = [
      new Proxy({}, { get: trap, getPrototypeOf: trap, has: trap, ownKeys: trap, getOwnPropertyDescriptor: trap }),
      proxy,
      Object.defineProperty(new Error('x'), 'stack', { get: trap }),
      Object.defineProperty(new Error('x'), 'cause', { get: trap }),
      Object.create(null),
      undefined,
      Symbol('s'),
      10n,
    ];
    for (const value of hostile) {
      const logged = describeForLog(value);
      expect(typeof logged.type).toBe('string');
      expect(typeof logged.message).toBe('string');
      expect(typeof logged.stack).toBe('string');
    }
  });

  it('cycles end, and a chain shows at most 8 causes', () => {
    const a = new Error('a');
    const b = new Error('b', { cause: a });
    (a as { cause?: unknown }).cause = b;
    expect(describeForLog(a).causes).toEqual([{ type: 'Error', message: 'b' }]);
    let deep = new Error('0');
    for (let index = 1; index < 50; index++) deep = new Error(String(index), { cause: deep });
    const logged = describeForLog(deep);
    expect(logged.causes).toHaveLength(8);
    expect(logged.stack.split('\ncaused by: ')).toHaveLength(9);
  });

  it('has the budget of describeError: every message first, stacks cut once it is spent, no secret', () => {
    let error: Error | undefined;
    for (let index = 0; index < 9; index += 1) {
      const next: Error = new Error(`${'m'.repeat(1960)} #${index} password=hunter2-SECRET`, error === undefined ? {} : { cause: error });
      next.stack = `Error: x\n${Array.from({ length: 25 }, () => `    at f (${'token=t0k3n-SECRET '.repeat(150)})`).join('\n')}`;
      error = next;
    }
    const logged = describeForLog(error);
    for (const [index, cause] of (logged.causes ?? []).entries()) expect(cause.message).toContain(`#${7 - index} password=***`);
    expect(logged.message).toContain('#8 password=***');
    const shown = JSON.stringify(logged);
    expect(shown).not.toMatch(/SECRET/);
    expect(logged.stack).toContain('[not shown: masking budget spent]');
    expect(shown.length).toBeLessThan(80_000);
  });
});
