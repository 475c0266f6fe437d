/**
 * Redaction: what an error knows about the internals (messages, stacks, causes,
 * upstream URLs, credentials, host names, IPs, ports, paths, SQL) never leaves a
 * production response, in any content type or header; development responses
 * show the internals but never a credential.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { defineConventions } from './conventions.js';
import type { Conventions } from './conventions.js';
import { BadGatewayError, GatewayTimeoutError, ServiceUnavailableError } from './errors.js';
import { renderProblem } from './render.js';
import type { Problem } from './render.js';

const ALNUM = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
const LOWER = 'abcdefghijklmnopqrstuvwxyz0123456789';
const HEX = '0123456789abcdef';
const chars = (alphabet: string, minLength: number, maxLength: number): fc.Arbitrary<string> =>
  fc.string({ unit: fc.constantFrom(...alphabet), minLength, maxLength });

/**
 * Generated internals. Each carries a marker and enough random characters that
 * it cannot occur by accident in fixed text such as "502" or "Bad Gateway".
 */
interface Secrets {
  readonly password: string;
  readonly token: string;
  readonly apiKey: string;
  readonly user: string;
  readonly host: string;
  readonly ip: string;
  readonly ipv6: string;
  /** 10000–65535: no fixed text of a response has five digits in a row. */
  readonly port: number;
  readonly path: string;
  readonly table: string;
  readonly upstream: string;
}

const secrets: fc.Arbitrary<Secrets> = fc.record({
  password: chars(ALNUM, 12, 24).map((random) => `Pw7${random}`),
  token: chars(ALNUM, 16, 32).map((random) => `tK9${random}`),
  apiKey: chars(ALNUM, 16, 32).map((random) => `aK3${random}`),
  user: chars(LOWER, 8, 12).map((random) => `usr${random}`),
  host: chars(LOWER, 8, 16).map((random) => `db-${random}.corp.example`),
  ip: fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255)).map(([a, b, c]) => `10.${a}.${b}.${c}`),
  ipv6: fc.array(chars(HEX, 4, 4), { minLength: 3, maxLength: 3 }).map(([a, b, c]) => `fd00:${a}:${b}::${c}`),
  port: fc.integer({ min: 10_000, max: 65_535 }),
  path: chars(LOWER, 8, 16).map((random) => `/srv/${random}/app/index.js`),
  table: chars(LOWER, 8, 16).map((random) => `tbl_${random}`),
  upstream: chars(LOWER, 8, 16).map((random) => `up-${random}`),
});

/** Ways internals appear in real messages. */
const FRAGMENTS: readonly ((s: Secrets) => string)[] = [
  (s) => `connect ECONNREFUSED ${s.ip}:${s.port}`,
  (s) => `getaddrinfo ENOTFOUND ${s.host}`,
  (s) => `request to https://${s.user}:${s.password}@${s.host}:${s.port}${s.path}?token=${s.token} failed`,
  (s) => `password=${s.password}`,
  (s) => `{"password":"${s.password}","user":"${s.user}"}`,
  (s) => `Authorization: Bearer ${s.token}`,
  (s) => `authorization=${s.token}`,
  (s) => `Bearer ${s.token}`,
  (s) => `x-api-key: ${s.apiKey}`,
  (s) => `api_key=${s.apiKey}`,
  (s) => `access_token=${s.token}`,
  (s) => `{"refresh_token":"${s.token}"}`,
  (s) => `DB_PASSWORD=${s.password}`,
  (s) => `Cookie: session=${s.token}`,
  (s) => `SELECT * FROM ${s.table} WHERE password = '${s.password}'`,
  (s) => `ENOENT: no such file or directory, open '${s.path}'`,
  (s) => `connect ETIMEDOUT [${s.ipv6}]:${s.port}`,
  (s) => `upstream ${s.upstream} at ${s.host} failed`,
];

interface Material {
  readonly s: Secrets;
  readonly message: string;
  readonly stack: string;
  readonly url: string;
}

const material: fc.Arbitrary<Material> = secrets.chain((s) =>
  fc
    .tuple(
      fc.array(fc.oneof(fc.constantFrom(...FRAGMENTS).map((fragment) => fragment(s)), fc.string({ maxLength: 20 })), {
        minLength: 1,
        maxLength: 6,
      }),
      fc.constantFrom(...FRAGMENTS).map((fragment) => fragment(s)),
    )
    .map(([parts, stackLine]) => ({
      s,
      message: parts.join(' '),
      stack: `Error: ${parts.join(' ')}\n    at connect (${s.path}:12:5)\n    at ${stackLine}\n    at ${s.host}:${s.port}`,
      url: `https://${s.user}:${s.password}@${s.host}:${s.port}${s.path}?api_key=${s.apiKey}&token=${s.token}`,
    })),
);

/** An error as Node.js, undici, pg and friends build them: the internals in every field they use. */
function errno(code: string, m: Material, extra: Record<string, unknown> = {}): Error {
  const { s } = m;
  return Object.assign(new Error(m.message), {
    code,
    errno: -111,
    syscall: 'connect',
    address: s.ip,
    port: s.port,
    hostname: s.host,
    path: s.path,
    stack: m.stack,
    ...extra,
  });
}

/** An axios-style error: the upstream's response, the request's configuration and its credentials. */
function httpClientError(status: number, m: Material, headers: Record<string, unknown> = {}): Error {
  const { s } = m;
  const config = { url: m.url, baseURL: `https://${s.host}:${s.port}`, headers: { Authorization: `Bearer ${s.token}`, 'x-api-key': s.apiKey } };
  return Object.assign(new Error(m.message), {
    isAxiosError: true,
    stack: m.stack,
    config,
    request: { path: s.path, host: s.host },
    response: { status, statusText: m.message, headers: { server: s.host, ...headers }, data: { error: m.message, table: s.table }, config },
  });
}

type Build = (m: Material) => unknown;

/** For every code the classification produces without a mapper, errors that get it. */
const BUILDERS: Readonly<Record<string, readonly Build[]>> = {
  UPSTREAM_UNREACHABLE: [
    (m) => errno('ECONNREFUSED', m),
    (m) => errno('ENOTFOUND', m, { syscall: 'getaddrinfo' }),
    (m) => new TypeError(m.message, { cause: errno('ECONNREFUSED', m) }),
    (m) => errno('08001', m, { severity: 'FATAL', detail: m.message, hint: m.message, table: m.s.table, where: m.s.path }),
    (m) => new BadGatewayError({ code: 'UPSTREAM_UNREACHABLE', url: m.url, upstream: m.s.upstream, cause: errno('EHOSTUNREACH', m) }),
  ],
  UPSTREAM_CONNECTION_LOST: [
    (m) => errno('ECONNRESET', m),
    (m) => errno('UND_ERR_SOCKET', m, { socket: { remoteAddress: m.s.ip, remotePort: m.s.port, localAddress: m.s.ipv6 } }),
    (m) => Object.assign(new Error('Connection terminated unexpectedly'), { stack: m.stack, client: { host: m.s.host, password: m.s.password } }),
  ],
  UPSTREAM_TLS_FAILURE: [
    (m) => errno('DEPTH_ZERO_SELF_SIGNED_CERT', m, { cert: { subject: { CN: m.s.host } } }),
    (m) => errno('ERR_TLS_CERT_ALTNAME_INVALID', m, { host: m.s.host, reason: m.message }),
    (m) => errno('EPROTO', m),
  ],
  UPSTREAM_BAD_RESPONSE: [
    (m) => errno('HPE_INVALID_CONSTANT', m, { data: m.message, rawPacket: m.url }),
    (m) => httpClientError(200, m),
    (m) => new BadGatewayError({ url: m.url, upstream: m.s.upstream, cause: new SyntaxError(m.message) }),
  ],
  UPSTREAM_ERROR_STATUS: [
    (m) => httpClientError(500, m),
    (m) => httpClientError(404, m),
    (m) => httpClientError(401, m, { 'www-authenticate': `Bearer realm="${m.s.host}"` }),
    (m) => errno('UND_ERR_RESPONSE_STATUS_CODE', m, { statusCode: 502, body: m.message, headers: { location: m.url } }),
    (m) => new BadGatewayError({ code: 'UPSTREAM_ERROR_STATUS', upstreamStatus: 500, url: m.url, upstream: m.s.upstream }),
    (m) => Object.assign(new Error(m.message), { code: 13, details: m.message, metadata: { host: m.s.host } }),
  ],
  UPSTREAM_TIMEOUT: [
    (m) => errno('ETIMEDOUT', m),
    (m) => Object.assign(new DOMException(m.message, 'TimeoutError'), { url: m.url }),
    (m) => new GatewayTimeoutError({ url: m.url, upstream: m.s.upstream, cause: errno('ESOCKETTIMEDOUT', m) }),
    (m) => httpClientError(504, m),
    (m) => errno('57014', m, { severity: 'ERROR', detail: m.message, table: m.s.table }),
  ],
  UPSTREAM_UNAVAILABLE: [
    (m) => httpClientError(503, m, { 'retry-after': '30' }),
    (m) => httpClientError(429, m, { 'retry-after': m.message }),
    (m) => errno('EOPENBREAKER', m),
    (m) => new ServiceUnavailableError({ url: m.url, upstream: m.s.upstream, cause: errno('ECONNREFUSED', m) }),
    (m) => errno('53300', m, { severity: 'FATAL', detail: m.message }),
  ],
  INTERNAL_ERROR: [
    (m) => Object.assign(new Error(m.message), { stack: m.stack }),
    (m) => m.message,
    (m) => new SyntaxError(m.message),
    (m) => ({ status: 500, message: m.message, expose: false, stack: m.stack }),
    (m) => errno('23505', m, { severity: 'ERROR', detail: `Key (email)=(${m.s.user}@${m.s.host}) already exists.`, table: m.s.table }),
  ],
  CLIENT_CLOSED_REQUEST: [
    (m) => Object.assign(new DOMException(m.message, 'AbortError'), { url: m.url }),
    (m) => errno('ERR_CANCELED', m, { config: { url: m.url } }),
  ],
  // Status-only answers an application chose, and a 4xx it marked as not for clients.
  NOT_IMPLEMENTED: [(m) => ({ statusCode: 501, message: m.message, stack: m.stack })],
  INSUFFICIENT_STORAGE: [(m) => ({ status: 507, message: m.message })],
  CONFLICT: [(m) => ({ status: 409, expose: false, message: m.message, stack: m.stack })],
};

/** The same error, thrown as it is or wrapped the way applications wrap errors. */
const WRAPS: Readonly<Record<string, (error: unknown, m: Material) => unknown>> = {
  bare: (error) => error,
  cause: (error, m) => new Error(m.message, { cause: error }),
  aggregate: (error, m) => new AggregateError([error], m.message),
};

const VARIANTS = [
  { name: 'problem+json', method: 'GET', accept: 'application/problem+json' },
  { name: 'application/json', method: 'POST', accept: 'application/json' },
  { name: 'text/html', method: 'GET', accept: 'text/html,application/xhtml+xml;q=0.9' },
  { name: 'text/plain', method: 'GET', accept: 'text/plain' },
  { name: 'HEAD', method: 'HEAD', accept: '*/*' },
] as const;

const production = defineConventions({ mode: 'production', onError: false });
const development = defineConventions({ mode: 'development', onError: false });

function renderAll(error: unknown, m: Material, conventions: Conventions): Problem[] {
  return VARIANTS.map(({ method, accept }) =>
    renderProblem(
      error,
      {
        method,
        url: `/orders/42?token=${m.s.token}&host=${m.s.host}`,
        headers: { accept, 'x-request-id': 'req-redaction-1', authorization: `Bearer ${m.s.token}` },
      },
      conventions,
    ),
  );
}

/** Every value of a response a client can see: the body, its members as other shapes carry them, and each header. */
function visible(problem: Problem): string[] {
  return [problem.body ?? '', JSON.stringify(problem.members), ...Object.values(problem.headers)];
}

function expectNone(problems: Problem[], needles: readonly string[]): void {
  for (const problem of problems) {
    for (const text of visible(problem)) {
      for (const needle of needles) {
        if (text.includes(needle)) {
          expect.fail(`${problem.status} ${problem.headers['content-type']} shows ${JSON.stringify(needle)}: ${text}`);
        }
      }
    }
  }
}

const pick = <TValue>(record: Readonly<Record<string, TValue>>): fc.Arbitrary<[string, TValue]> => fc.constantFrom(...Object.entries(record));

describe('production responses show no internals', () => {
  it.each(Object.keys(BUILDERS))('%s, in every content type and HEAD', (code) => {
    fc.assert(
      fc.property(material, fc.constantFrom(...BUILDERS[code]!), pick(WRAPS), (m, build, [wrapName, wrap]) => {
        const error = wrap(build(m), m);
        const problems = renderAll(error, m, production);
        // A 4xx decides the answer only as the thrown error itself, never from inside a wrapper.
        const expected = wrapName !== 'bare' && code === 'CONFLICT' ? 'INTERNAL_ERROR' : code;
        for (const problem of problems) expect(problem.classification.code).toBe(expected);
        const { s } = m;
        expectNone(problems, [s.password, s.token, s.apiKey, s.user, s.host, s.ip, s.ipv6, String(s.port), s.path, s.table, s.upstream]);
      }),
      { numRuns: 40 },
    );
  });
});

describe('development responses show no credentials', () => {
  it.each(Object.keys(BUILDERS))('%s, in every content type and HEAD', (code) => {
    fc.assert(
      fc.property(material, fc.constantFrom(...BUILDERS[code]!), pick(WRAPS), (m, build, [_wrapName, wrap]) => {
        const problems = renderAll(wrap(build(m), m), m, development);
        // The internals are there (this is development), the credentials are not.
        expect(problems[0]!.body).toContain('"debug"');
        expectNone(problems, [m.s.password, m.s.token, m.s.apiKey]);
      }),
      { numRuns: 25 },
    );
  });
});
