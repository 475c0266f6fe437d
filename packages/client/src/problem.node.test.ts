import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import axios from 'axios';
import got from 'got';
import got16 from 'got16';
import ky from 'ky';
import ky2 from 'ky2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseProblem } from './problem.js';

const BODY = { type: 'https://errors.example.com/problems/upstream-unreachable', title: 'Bad Gateway', status: 502, code: 'UPSTREAM_UNREACHABLE', retryable: true, retryAfter: 1 };
const EXPECTED = { ...BODY };

let server: Server;
let url = '';

beforeAll(async () => {
  server = createServer((req, res) => {
    req.resume();
    const path = req.url ?? '/';
    if (path === '/html') {
      res.writeHead(502, { 'content-type': 'text/html' }).end('<h1>Bad Gateway</h1>');
      return;
    }
    res.writeHead(502, { 'content-type': 'Application/Problem+JSON; charset=utf-8' }).end(JSON.stringify(BODY));
  });
  await new Promise<void>((resolve) => server.listen({ host: '127.0.0.1', port: 0 }, resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(
  () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
);

/** Each client's own error for a 502, as it throws it. */
const CLIENTS: Record<string, (target: string) => Promise<unknown>> = {
  fetch: (target) => fetch(target),
  'ky 1 HTTPError': (target) => ky.get(target, { retry: 0 }).then(unexpected, caught),
  'ky 2 HTTPError (data)': (target) => ky2.get(target, { retry: 0 }).then(unexpected, caught),
  'axios error': (target) => axios.get(target).then(unexpected, caught),
  'got 14 error': (target) => got(target, { retry: { limit: 0 } }).then(unexpected, caught),
  'got 16 error': (target) => got16(target, { retry: { limit: 0 } }).then(unexpected, caught),
  'got 14 error, json': (target) => got(target, { retry: { limit: 0 }, responseType: 'json' }).then(unexpected, caught),
  'got 14 error, bytes': (target) => got(target, { retry: { limit: 0 }, responseType: 'buffer' }).then(unexpected, caught),
};

function unexpected(): never {
  throw new Error('the client resolved a 502');
}

function caught(error: unknown): unknown {
  return error;
}

describe.each(Object.entries(CLIENTS))('parseProblem of %s', (_name, call) => {
  it('reads the problem a real 502 carried', async () => {
    expect(await parseProblem(await call(`${url}/problem`))).toEqual(EXPECTED);
  });

  it('answers undefined when the 502 is not a problem', async () => {
    expect(await parseProblem(await call(`${url}/html`))).toBeUndefined();
  });
});

it('leaves the body of ky 1’s response to the caller', async () => {
  const error = (await ky.get(`${url}/problem`, { retry: 0 }).then(unexpected, caught)) as { response: Response };
  expect(await parseProblem(error)).toEqual(EXPECTED);
  expect(await error.response.json()).toEqual(BODY);
});
