// What every benchmark app shares: the failing upstream call and the hand-written floor.
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';

/** Which way a server answers. */
export type Variant =
  /** gateway-errors with its logging hook off (`onError: false`). */
  | 'ge-quiet'
  /** gateway-errors with its default logging. */
  | 'ge'
  /** The framework's own error handling, untouched; for a proxy stack, the proxy as its docs show it. */
  | 'default'
  /** The ecosystem's usual way to answer a 502. */
  | 'peer'
  /** A hand-written handler that writes a static 502 problem+json: the floor. */
  | 'floor'
  /** Happy path: no gateway-errors at all. */
  | 'bare'
  /** Happy path: the request-ID middleware (and error handler) installed. */
  | 'request-id'
  /** Happy path: the same, with `hopStorage: false` (no AsyncLocalStorage for the upstream helpers). */
  | 'request-id-no-hop'
  /** Happy path: a hand-written middleware that sets a fresh UUID as `x-request-id`, the least a request ID costs. */
  | 'id-floor';

export type Framework = 'express' | 'fastify' | 'hono' | 'nest' | 'nest-fastify';

/** A proxy library on its framework, forwarding `/orders/*` to an upstream. */
export type ProxyStack = 'express-hpm' | 'fastify-proxy' | 'hono-proxy';

/** What one benchmark server runs: a framework with a failing route, or a proxy stack. */
export type Stack = Framework | ProxyStack;

/** The route every app serves: `/orders/42` fails upstream, `/ok` succeeds. */
export const ERROR_PATH = '/orders/42';
export const OK_PATH = '/ok';

/**
 * The error a real `fetch` gave when the upstream refused the connection, made once at start-up.
 * Every request rethrows it, so the benchmark measures the error handling and not the kernel's
 * connection refusal; the same object goes through every variant.
 */
export async function refusedFetchError(): Promise<unknown> {
  const port = await closedPort();
  try {
    await fetch(`http://127.0.0.1:${port}/orders/42`);
  } catch (error) {
    return error;
  }
  throw new Error(`Expected a refused connection on 127.0.0.1:${port}`);
}

/** A 127.0.0.1 port that was listening a moment ago and is closed now: connecting to it is refused. */
export async function closedPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

/** The upstream call of the failing route: always rejects with the same real client error. */
export function upstreamCall(error: unknown): () => Promise<never> {
  return async function callOrders() {
    throw error;
  };
}

/** The floor's body: what gateway-errors answers for this failure, with a fixed request ID. */
export const FLOOR_BODY = JSON.stringify({
  type: 'urn:gateway-errors:upstream-unreachable',
  title: 'Upstream Unreachable',
  status: 502,
  detail: 'An upstream service could not be reached.',
  instance: ERROR_PATH,
  code: 'UPSTREAM_UNREACHABLE',
  requestId: '00000000-0000-4000-8000-000000000000',
  retryable: true,
});

/** The floor's headers: the same ones gateway-errors sets, with a fresh request ID. */
export function floorHeaders(id: string = randomUUID()): Record<string, string> {
  return {
    'content-type': 'application/problem+json; charset=utf-8',
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
    'x-request-id': id,
    'proxy-status': 'gateway-errors; error=connection_refused',
  };
}

/** A running app as the server process sees it. */
export interface RunningApp {
  readonly port: number;
  close(): Promise<unknown>;
}
