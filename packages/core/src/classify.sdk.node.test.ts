/**
 * API SDKs against a fake API on 127.0.0.1: OpenAI, Stripe, Elasticsearch, Twilio, Google
 * (gaxios, google-gax), Azure, Octokit, SendGrid, Slack and Shopify clients throw their own
 * errors, carrying the status the *remote* API answered. That status is the upstream's, never
 * this service's: an uncaught 401 from an API key gone stale, or an Elasticsearch index that does
 * not exist, is a 502, not this service's 401 or 404, and the remote's text is never shown.
 */
import { STATUS_CODES, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { createRestError, getClient } from '@azure-rest/core-client';
import { RestError } from '@azure/core-rest-pipeline';
import { Client as Elasticsearch, errors as elasticErrors } from '@elastic/elasticsearch';
import { hangServer, refusedPort } from '@gateway-errors/fault-servers';
import type { FaultServer } from '@gateway-errors/fault-servers';
import { Octokit } from '@octokit/core';
import { RequestError } from '@octokit/request-error';
import sendgrid from '@sendgrid/client';
import '@shopify/shopify-api/adapters/node';
import { ApiVersion, HttpResponseError, LogSeverity, Session, shopifyApi } from '@shopify/shopify-api';
import { SlackError, WebAPIPlatformError, WebClient } from '@slack/web-api';
import type { Logger as SlackLogger } from '@slack/web-api';
import createHttpError from 'http-errors';
import { GaxiosError, request as gaxiosRequest } from 'gaxios';
import { GoogleError, LocationsClient, fallback as gaxFallback } from 'google-gax';
import { MongoServerError } from 'mongodb';
import OpenAI from 'openai';
import Stripe from 'stripe';
import twilio from 'twilio';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { classify } from './classify.js';
import { defineConventions } from './conventions.js';
import { renderProblem } from './render.js';
import { rejection } from './test-support/rejection.js';

/** Answers `/<status>/…` with that status and an API-style JSON error naming a key and a host. */
function apiServer(): Promise<Server> {
  const server = createServer((req, res) => {
    req.resume();
    const status = Number(/^\/(\d{3})\//.exec(req.url ?? '')?.[1] ?? 400);
    const headers: Record<string, string> = { 'content-type': 'application/json', 'request-id': 'req_remote_1' };
    if (status === 429 || status === 503) headers['retry-after'] = '9';
    res.writeHead(status, headers).end(
      JSON.stringify({ error: { message: 'Incorrect API key provided: sk-te****CRET (api.internal 10.9.8.7)', type: 'invalid_request_error', code: 'invalid_api_key' } }),
    );
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

let api: Server;
let hang: FaultServer;
let dead: number;

beforeAll(async () => {
  [api, hang, dead] = await Promise.all([apiServer(), hangServer(), refusedPort()]);
});

afterAll(async () => {
  api.closeAllConnections();
  await Promise.all([new Promise((resolve) => api.close(resolve)), hang.close()]);
});

function apiUrl(status: number): string {
  return `http://127.0.0.1:${(api.address() as AddressInfo).port}/${status}`;
}

const openai = (baseURL: string) => new OpenAI({ apiKey: 'sk-test-SECRET', baseURL, maxRetries: 0, timeout: 150 });
const stripe = (port: number) => new Stripe('sk_test_SECRET', { host: '127.0.0.1', port, protocol: 'http', maxNetworkRetries: 0, timeout: 150 });
const apiPort = () => (api.address() as AddressInfo).port;

describe('the remote API answered with an error status', () => {
  const cases = [
    { status: 401, expected: { status: 502, code: 'UPSTREAM_ERROR_STATUS', retryable: false, upstreamStatus: 401 } },
    { status: 404, expected: { status: 502, code: 'UPSTREAM_ERROR_STATUS', retryable: false, upstreamStatus: 404 } },
    { status: 429, expected: { status: 503, code: 'UPSTREAM_UNAVAILABLE', retryable: true, retryAfter: 9, upstreamStatus: 429 } },
    { status: 500, expected: { status: 502, code: 'UPSTREAM_ERROR_STATUS', retryable: true, upstreamStatus: 500 } },
    { status: 503, expected: { status: 503, code: 'UPSTREAM_UNAVAILABLE', retryable: true, retryAfter: 9, upstreamStatus: 503 } },
    { status: 504, expected: { status: 504, code: 'UPSTREAM_TIMEOUT', upstreamStatus: 504 } },
  ] as const;

  it.each(cases)('openai · remote $status → $expected.status $expected.code', async ({ status, expected }) => {
    const error = await rejection(openai(`${apiUrl(status)}/v1`).models.retrieve('gpt-x'));
    expect(error).toBeInstanceOf(OpenAI.APIError);
    expect(classify(error, { method: 'GET' })).toMatchObject(expected);
  });

  it.each(cases.filter(({ status }) => status !== 504))('stripe · remote $status → $expected.status $expected.code', async ({ status, expected }) => {
    // Stripe's client takes no base path: the status goes in the object ID's path segment instead.
    const client = stripe(apiPort());
    const error = await rejection(client.rawRequest('GET', `/${status}/v1/customers/cus_1`));
    expect(error).toBeInstanceOf(Stripe.errors.StripeError);
    expect(classify(error, { method: 'GET' })).toMatchObject(expected);
  });

  it("a production answer shows neither the remote API's message nor its status as ours", async () => {
    const error = await rejection(openai(`${apiUrl(401)}/v1`).models.retrieve('gpt-x'));
    const problem = renderProblem(error, { method: 'GET', url: '/chat' }, defineConventions({ mode: 'production', onError: false }));
    expect(problem.status).toBe(502);
    expect(problem.headers['proxy-status']).toBe('gateway-errors; received-status=401');
    expect(problem.body).not.toMatch(/API key|sk-te|10\.9\.8\.7|api\.internal|invalid_api_key/);
  });
});

describe('the remote API could not be reached in time', () => {
  it('openai · refused → 502 UPSTREAM_UNREACHABLE, retryable', async () => {
    const error = await rejection(openai(`http://127.0.0.1:${dead}/v1`).models.retrieve('gpt-x'));
    expect(classify(error, { method: 'POST' })).toMatchObject({ status: 502, code: 'UPSTREAM_UNREACHABLE', retryable: true, reachedUpstream: false });
  });

  it('openai · its own timeout → 504 UPSTREAM_TIMEOUT', async () => {
    const error = await rejection(openai(`${hang.url}/v1`).models.retrieve('gpt-x'));
    expect(classify(error, { method: 'POST' })).toMatchObject({ status: 504, code: 'UPSTREAM_TIMEOUT', retryable: false });
  });

  it("openai · the caller's abort → 499", async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 20);
    const error = await rejection(openai(`${hang.url}/v1`).models.retrieve('gpt-x', { signal: controller.signal }));
    expect(classify(error)).toMatchObject({ status: 499, code: 'CLIENT_CLOSED_REQUEST' });
  });

  it('stripe · refused → 502 UPSTREAM_UNREACHABLE', async () => {
    const error = await rejection(stripe(dead).customers.retrieve('cus_1'));
    expect(classify(error, { method: 'GET' })).toMatchObject({ status: 502, code: 'UPSTREAM_UNREACHABLE', retryable: true });
  });

  it('stripe · its own timeout → 504 UPSTREAM_TIMEOUT', async () => {
    const error = await rejection(stripe(Number(new URL(hang.url).port)).customers.retrieve('cus_1'));
    expect(classify(error, { method: 'GET' })).toMatchObject({ status: 504, code: 'UPSTREAM_TIMEOUT' });
  });
});

describe("errors meant as this service's own answer stay 4xx", () => {
  it('an error with a status and its own headers but no remote evidence is kept', () => {
    const own = Object.assign(new Error('Sign in first.'), { status: 401, expose: true, headers: { 'www-authenticate': 'Bearer' } });
    expect(classify(own)).toMatchObject({ status: 401, code: 'UNAUTHORIZED' });
    expect(classify(Object.assign(new Error('Gone'), { statusCode: 410 }))).toMatchObject({ status: 410 });
  });

  it('an AWS SDK v3 service exception is the remote answer', () => {
    const aws = Object.assign(new Error('Access Denied'), { name: 'AccessDenied', $fault: 'client', $metadata: { httpStatusCode: 403, requestId: 'R1' } });
    expect(classify(aws)).toMatchObject({ status: 502, code: 'UPSTREAM_ERROR_STATUS', upstreamStatus: 403 });
  });
});

/** Remote text that must never reach a client: the API's message, its reason phrase, credentials. */
const MARKER = 'SECRET-upstream-text';
const REMOTE_TEXT = /SECRET|index_not_found|channel_not_found|20404|twilio\.com/i;
const GRPC_NAME: Readonly<Record<number, string>> = { 404: 'NOT_FOUND', 429: 'RESOURCE_EXHAUSTED', 500: 'INTERNAL', 503: 'UNAVAILABLE' };

/**
 * A remote API on 127.0.0.1 that answers `…/<status>…` (the first three-digit path segment) with that
 * status, the reason phrase `SECRET-reason` and one JSON body in the error shapes of every SDK below:
 * Elasticsearch (`error.type`, `status`), Google AIP-193 (`error.code`/`status`), Azure (`error`),
 * Twilio (`code`, `message`, `more_info`), GitHub (`message`), SendGrid and Shopify (`errors`). A path
 * with `/problem/` gets Twilio's RFC 9457 body; a 200 gets Slack's `{ ok: false }`.
 */
function remoteApi(): Promise<Server> {
  const server = createServer((req, res) => {
    req.resume();
    const url = req.url ?? '';
    const status = Number(/\/(\d{3})(?=[/.?]|$)/.exec(url)?.[1] ?? 400);
    const headers: Record<string, string> = { 'content-type': 'application/json', 'x-elastic-product': 'Elasticsearch', 'x-request-id': 'req-remote-1' };
    if (status === 429 || status === 503) headers['retry-after'] = '9';
    const body =
      status === 200
        ? { ok: false, error: `channel_not_found ${MARKER}` }
        : url.includes('/problem/')
          ? { type: 'https://www.twilio.com/docs/errors/20404', title: `Resource not found ${MARKER}`, status, code: 20404, detail: MARKER, instance: '/v1/x' }
          : {
              error: {
                type: 'index_not_found_exception',
                reason: `no such index [${MARKER}]`,
                root_cause: [{ type: 'index_not_found_exception', reason: `no such index [${MARKER}]` }],
                code: status,
                status: GRPC_NAME[status],
                message: `index_not_found_exception ${MARKER}`,
              },
              status,
              code: 20404,
              message: `index_not_found_exception ${MARKER}`,
              more_info: 'https://www.twilio.com/docs/errors/20404',
              errors: [{ message: MARKER, field: null, help: null }],
            };
    res.writeHead(status, 'SECRET-reason', headers).end(JSON.stringify(body));
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

/** Twilio's own HTTP client, its requests sent to the loopback API instead of api.twilio.com. */
function loopbackTwilio(prefix: string) {
  const real = new twilio.RequestClient({ timeout: 1000 });
  const request = ((opts: Parameters<typeof real.request>[0]) => real.request({ ...opts, uri: opts.uri.replace(/^https:\/\/[^/]+/, prefix) })) as typeof real.request;
  const httpClient = Object.assign(Object.create(real) as typeof real, { request });
  return twilio(`AC${'0'.repeat(32)}`, 'token-SECRET', { httpClient }).api.v2010.accounts(`AC${'1'.repeat(32)}`);
}

const quiet: SlackLogger = { debug() {}, info() {}, warn() {}, error() {}, setLevel() {}, getLevel: () => 'error' as never, setName() {} };

interface Sdk {
  readonly name: string;
  /** The real client's call against the loopback API, answering `status`: what it threw. */
  readonly fail: (status: number) => Promise<unknown>;
  /** The SDK's error class (what its package exports), to prove the error is the real one. */
  readonly errorClass: abstract new (...args: never[]) => object;
  /** Whether the error keeps the answer's headers, so the remote's Retry-After survives. */
  readonly keepsHeaders: boolean;
}

describe('API SDKs of other remote services: their errors are the remote answer', () => {
  let remote: Server;
  let base: string;
  const clients: Array<{ close(): unknown }> = [];

  beforeAll(async () => {
    remote = await remoteApi();
    base = `http://127.0.0.1:${(remote.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await Promise.all(clients.map((client) => client.close()));
    remote.closeAllConnections();
    await new Promise((resolve) => remote.close(resolve));
  });

  const track = <T extends { close(): unknown }>(client: T): T => {
    clients.push(client);
    return client;
  };

  const shopify = shopifyApi({
    apiKey: 'key',
    apiSecretKey: 'shpss_SECRET',
    hostName: 'app.example',
    hostScheme: 'http',
    apiVersion: ApiVersion.January25,
    isEmbeddedApp: false,
    isCustomStoreApp: true,
    adminApiAccessToken: 'shpat_SECRET',
    logger: { level: LogSeverity.Error, log: async () => {} },
  });
  // Google's auth library is not under test: an auth object that signs nothing and fetches plainly.
  const googleAuth = { fetch: (url: string, init: RequestInit) => fetch(url, init), getClient: async () => ({ getRequestHeaders: async () => new Headers() }) };
  sendgrid.setApiKey('SG.SECRET');

  const sdks: Sdk[] = [
    {
      name: 'elasticsearch',
      fail: (status) => rejection(track(new Elasticsearch({ node: base, maxRetries: 0, requestTimeout: 1000 })).search({ index: String(status) })),
      errorClass: elasticErrors.ResponseError,
      keepsHeaders: true,
    },
    {
      name: 'twilio',
      fail: (status) => rejection(loopbackTwilio(`${base}/${status}`).fetch()),
      errorClass: twilio.RestException,
      keepsHeaders: false,
    },
    {
      name: 'twilio (RFC 9457 body)',
      fail: (status) => rejection(loopbackTwilio(`${base}/problem/${status}`).fetch()),
      // TwilioServiceException is not exported by the package.
      errorClass: Error,
      keepsHeaders: false,
    },
    {
      name: 'gaxios',
      fail: (status) => rejection(gaxiosRequest({ url: `${base}/v1/things/${status}`, retry: false, timeout: 1000 })),
      errorClass: GaxiosError,
      keepsHeaders: true,
    },
    {
      name: 'google-gax (REST)',
      fail: (status) => {
        const options = { servicePath: '127.0.0.1', port: Number(new URL(base).port), protocol: 'http', fallback: true, auth: googleAuth as never };
        const client = track(new LocationsClient(new gaxFallback.GrpcClient({ auth: googleAuth } as never), options));
        return rejection(client.getLocation({ name: `projects/p/locations/${status}` }, { maxRetries: 0 }));
      },
      errorClass: GoogleError,
      keepsHeaders: false,
    },
    {
      name: 'azure',
      fail: async (status) => {
        const client = getClient(`${base}/${status}`, { retryOptions: { maxRetries: 0 }, allowInsecureConnection: true });
        const response = await client.path('/items/{id}', 'x').get();
        return createRestError(response);
      },
      errorClass: RestError,
      keepsHeaders: true,
    },
    {
      name: 'octokit',
      fail: (status) => rejection(new Octokit({ baseUrl: `${base}/${status}`, auth: 'ghp_SECRET' }).request('GET /repos/{owner}/{repo}', { owner: 'o', repo: 'r' })),
      errorClass: RequestError,
      keepsHeaders: true,
    },
    {
      name: 'sendgrid',
      fail: (status) => rejection(sendgrid.request({ method: 'GET', url: '/v3/templates', baseUrl: `${base}/${status}` })),
      // ResponseError lives in @sendgrid/helpers, which the client does not re-export.
      errorClass: Error,
      keepsHeaders: true,
    },
    {
      name: 'slack',
      fail: (status) => {
        const client = new WebClient('xoxb-SECRET', { slackApiUrl: `${base}/${status}/`, retryConfig: { retries: 0 }, rejectRateLimitedCalls: true, logger: quiet });
        return rejection(client.auth.test());
      },
      errorClass: SlackError,
      keepsHeaders: true,
    },
    {
      name: 'shopify',
      fail: (status) => {
        const session = new Session({ id: 'offline_shop', shop: new URL(base).host, state: '', isOnline: false, accessToken: 'shpat_SECRET' });
        return rejection(new shopify.clients.Rest({ session }).get({ path: `${status}/products` }));
      },
      errorClass: HttpResponseError,
      keepsHeaders: true,
    },
  ];

  const statuses = [
    { status: 404, expected: { status: 502, code: 'UPSTREAM_ERROR_STATUS', retryable: false, upstreamStatus: 404 } },
    { status: 429, expected: { status: 503, code: 'UPSTREAM_UNAVAILABLE', retryable: true, upstreamStatus: 429 } },
    { status: 500, expected: { status: 502, code: 'UPSTREAM_ERROR_STATUS', retryable: true, upstreamStatus: 500 } },
    { status: 503, expected: { status: 503, code: 'UPSTREAM_UNAVAILABLE', retryable: true, upstreamStatus: 503 } },
  ] as const;
  const cases = sdks.flatMap((sdk) => statuses.map(({ status, expected }) => ({ name: sdk.name, sdk, status, expected })));

  it.each(cases)('$name · remote $status → $expected.status $expected.code, nothing of the remote shown', async ({ sdk, status, expected }) => {
    const error = await sdk.fail(status);
    expect(error).toBeInstanceOf(sdk.errorClass);
    const retryAfter = expected.status === 503 ? (sdk.keepsHeaders ? 9 : 5) : undefined;
    expect(classify(error, { method: 'GET' })).toMatchObject({ ...expected, retryAfter, expose: false, detail: undefined, errors: undefined });

    const problem = renderProblem(error, { method: 'GET', url: '/x', headers: {} }, { mode: 'production', onError: false });
    expect(problem.status).toBe(expected.status);
    expect(problem.headers['proxy-status']).toBe(`gateway-errors; received-status=${status}`);
    expect(problem.body).not.toMatch(REMOTE_TEXT);
    // Nor the remote status as ours: a kept 404 would say "Not Found".
    if (expected.status !== status) expect(problem.body).not.toContain(STATUS_CODES[status]);
  });

  it("slack · an API error inside a 200 (`ok: false`) is no answer of this service's", async () => {
    const error = await rejection(new WebClient('xoxb-SECRET', { slackApiUrl: `${base}/200/`, retryConfig: { retries: 0 }, logger: quiet }).auth.test());
    expect(error).toBeInstanceOf(WebAPIPlatformError);
    const result = classify(error, { method: 'GET' });
    expect(result.status).toBeGreaterThanOrEqual(500);
    expect(result).toMatchObject({ expose: false, detail: undefined });
    expect(renderProblem(error, { method: 'GET', url: '/x', headers: {} }, { mode: 'production', onError: false }).body).not.toMatch(REMOTE_TEXT);
  });
});

describe('MongoDB server errors are the database answer', () => {
  it('a MongoServerError is never kept as a 4xx, even when the reply carries a status', () => {
    // The driver copies every field of the server's reply onto the error: a proxy's `status` too.
    const plain = new MongoServerError({ ok: 0, errmsg: `not authorized ${MARKER}`, code: 13, codeName: 'Unauthorized' });
    const withStatus = new MongoServerError({ ok: 0, errmsg: `not found ${MARKER}`, code: 26, codeName: 'NamespaceNotFound', status: 404 });
    expect(classify(plain)).toMatchObject({ status: 500, code: 'INTERNAL_ERROR', expose: false, detail: undefined });
    expect(classify(withStatus)).toMatchObject({ status: 502, code: 'UPSTREAM_ERROR_STATUS', upstreamStatus: 404, expose: false, detail: undefined });
    for (const error of [plain, withStatus]) {
      expect(renderProblem(error, { method: 'GET', url: '/x', headers: {} }, { mode: 'production', onError: false }).body).not.toMatch(REMOTE_TEXT);
    }
  });
});

describe('the remote-evidence rule', () => {
  const remoteLooking = {
    'an object `request`': { request: { method: 'GET', url: 'https://api.example/x' } },
    'an object `config`': { config: { url: 'https://api.example/x' } },
    'an object `meta`': { meta: { statusCode: 404, headers: {} } },
    'an object `errorResponse`': { errorResponse: { ok: 0 } },
    'a numeric vendor `code`': { code: 20404 },
    '`moreInfo`': { moreInfo: 'https://docs.example/errors/20404' },
    '`headers` beside `body`': { headers: { 'x-request-id': 'r' }, body: { message: MARKER } },
    '`headers` beside `data`': { headers: { 'x-request-id': 'r' }, data: { message: MARKER } },
  };

  it.each(Object.entries(remoteLooking))('a 4xx with %s is the remote answer, shown to no one', (_evidence, fields) => {
    const error = Object.assign(new Error(`Not found ${MARKER}`), { status: 404 }, fields);
    expect(classify(error)).toMatchObject({ status: 502, code: 'UPSTREAM_ERROR_STATUS', upstreamStatus: 404, expose: false, detail: undefined });
  });

  it('the status may live only in the answer the error carries', () => {
    const shopifyLike = Object.assign(new Error(MARKER), { response: { code: 404, statusText: 'Not Found', body: {}, headers: {} } });
    const sendgridLike = Object.assign(new Error('Not Found'), { code: 429, response: { headers: { 'retry-after': '7' }, body: {} } });
    const elasticLike = Object.assign(new Error(MARKER), { meta: { statusCode: 503, headers: { 'retry-after': '8' }, body: {} } });
    expect(classify(shopifyLike)).toMatchObject({ status: 502, upstreamStatus: 404 });
    expect(classify(sendgridLike)).toMatchObject({ status: 503, upstreamStatus: 429, retryAfter: 7 });
    expect(classify(elasticLike)).toMatchObject({ status: 503, upstreamStatus: 503, retryAfter: 8 });
  });

  it("an error marked as this service's own stays its own, remote-looking fields or not", () => {
    const own = createHttpError(404, 'No such order', { request: { id: 'r' }, code: 1001 });
    expect(classify(own)).toMatchObject({ status: 404, expose: true, detail: 'No such order' });
    const marked = Object.assign(new Error('No such order'), { status: 404, expose: true, config: {}, headers: {}, body: {} });
    expect(classify(marked)).toMatchObject({ status: 404, expose: true });
    const fastify = Object.assign(new Error('body/name must be string'), { statusCode: 400, code: 'FST_ERR_VALIDATION', validation: [], headers: {}, body: {} });
    expect(classify(fastify)).toMatchObject({ status: 400, expose: true });
  });

  describe('with a polluted Object.prototype', () => {
    const keys = ['request', 'config', 'meta', 'moreInfo', 'raw', 'errorResponse', 'response'] as const;
    afterEach(() => {
      for (const key of keys) delete (Object.prototype as Record<string, unknown>)[key];
    });

    it('shared-prototype fields are no evidence: an own 4xx stays its own', () => {
      for (const key of keys) (Object.prototype as Record<string, unknown>)[key] = { statusCode: 404, status: 404 };
      expect(classify(Object.assign(new Error('Gone'), { statusCode: 410 }))).toMatchObject({ status: 410, expose: true, detail: 'Gone' });
    });
  });

  it('throwing getters and Proxies never make classify throw', () => {
    const boom = (): never => {
      throw new Error('trap');
    };
    const hostile = [
      Object.defineProperty(Object.assign(new Error('x'), { status: 404 }), 'request', { get: boom }),
      Object.defineProperty(Object.assign(new Error('x'), { status: 404 }), 'meta', { get: boom }),
      Object.assign(new Error('x'), { response: new Proxy({}, { get: boom }) }),
      Object.assign(new Error('x'), { status: 429, config: {}, headers: new Proxy({}, { ownKeys: boom, has: boom }) }),
      Object.assign(new Error('x'), { response: { code: 503, headers: new Proxy({}, { ownKeys: boom }) } }),
    ];
    for (const error of hostile) expect(() => classify(error)).not.toThrow();
  });
});
