/**
 * API SDKs against a fake API on 127.0.0.1: the OpenAI and Stripe clients throw
 * their own errors, carrying the status the *remote* API answered. That status
 * is the upstream's, never this service's: an uncaught 401 from an API key
 * gone stale is a 502, not this service's 401.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { hangServer, refusedPort } from '@gateway-errors/fault-servers';
import type { FaultServer } from '@gateway-errors/fault-servers';
import OpenAI from 'openai';
import Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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
