/**
 * The handlers' shared parts: the request-ID middleware and the one place a failure becomes a response.
 */
import { applyProblem, isValidRequestId, renderProblem, resolveRequestId } from '@gateway-errors/core';
import type { Conventions, ProblemSink, ResponseState } from '@gateway-errors/core';
import type { Context, MiddlewareHandler } from 'hono';
import { headersOf, keepConventions, requestHop, unlessClientClosed } from './context.js';
import { hopStorage } from './hop-storage.js';

/** The context variable the middleware sets; the same one `hono/request-id` uses. */
export type RequestIdVariables = { requestId: string };

/** @internal The environment the middleware declares. */
export type RequestIdEnv = { Variables: RequestIdVariables };

/** @internal The request-ID middleware. */
export function requestIdMiddleware(config: Conventions): MiddlewareHandler<RequestIdEnv> {
  return async function requestId(c, next) {
    const known: unknown = c.get('requestId');
    const id = isValidRequestId(known, config.requestIdPattern) ? known : resolveRequestId(headersOf(c), config);
    c.set('requestId', id);
    keepConventions(c, config);
    const outgoing = nodeResponse(c);
    // On @hono/node-server the header goes on the Node.js response, under whatever Response the handler
    // makes: Hono's own then keep their plain header records, which node-server writes as they are.
    // Elsewhere every response Hono makes for this request starts with it (and with a Headers object of
    // its own, which a lightweight Response needs for later changes to its headers to stick).
    if (outgoing === undefined) c.header(config.requestIdHeader, id);
    else outgoing.setHeader(config.requestIdHeader, id);
    const storage = config.hopStorage ? hopStorage() : null;
    try {
      // Where the runtime has AsyncLocalStorage, upstream calls made from here on forward this request's ID.
      await (storage === null ? next() : storage.run(requestHop(c), next));
    } catch (error) {
      // A thrown string, null or plain object skips onError and would escape app.fetch.
      c.res = respond(config, error, c);
    }
    // A Response the handler made itself (proxy(), fetch(), new Response()) replaced Hono's: set it there too.
    if (outgoing === undefined || !stampLightweight(c.res, config.requestIdHeader, id)) stamp(c, config.requestIdHeader, id);
  };
}

/** What the middleware needs of the Node.js response under `@hono/node-server` (`c.env.outgoing`). */
interface NodeResponse {
  setHeader(name: string, value: string): unknown;
  readonly headersSent: boolean;
}

/** `c.env.outgoing` when the app runs on `@hono/node-server` and nothing has been sent yet. */
function nodeResponse(c: Context): NodeResponse | undefined {
  const env = c.env as { incoming?: unknown; outgoing?: Partial<NodeResponse> } | undefined;
  const outgoing = env?.outgoing;
  return typeof env?.incoming === 'object' &&
    typeof outgoing === 'object' &&
    outgoing !== null &&
    typeof outgoing.setHeader === 'function' &&
    outgoing.headersSent === false
    ? (outgoing as NodeResponse)
    : undefined;
}

/**
 * The key under which @hono/node-server's lightweight Response keeps `[status, body, headers]`, found
 * once on the global Response, which node-server replaces (`null` where it did not: none to look at).
 */
let cacheKey: symbol | null | undefined;

/**
 * Whether the answer, a lightweight Response of @hono/node-server that node-server writes from its
 * status, body and header record as they are, carries no other request ID than `id` (set on the
 * Node.js response, which the record's headers would override). Looked at without turning it into a
 * whole Web Response; `false` for any other answer, which {@link stamp} then handles.
 */
function stampLightweight(response: Response, name: string, id: string): boolean {
  const cached = lightweightParts(response);
  if (cached === undefined) return false;
  const headers: unknown = cached[2];
  if (headers === undefined) return true;
  if (headers instanceof Headers) {
    if (headers.get(name) !== id) headers.set(name, id);
    return true;
  }
  if (typeof headers !== 'object' || headers === null || Array.isArray(headers)) return false;
  // A record the handler may share between responses: never changed here; one naming the header is stamped as a copy.
  for (const key in headers) if (key.length === name.length && key.toLowerCase() === name) return false;
  return true;
}

/** `[status, body, headers]` of a lightweight Response of @hono/node-server that node-server will write as they are. */
function lightweightParts(response: Response): unknown[] | undefined {
  if (cacheKey === undefined) cacheKey = lightweightKey();
  const cached = cacheKey === null ? undefined : (response as unknown as Record<symbol, unknown>)[cacheKey];
  return Array.isArray(cached) && cached.length === 3 ? cached : undefined;
}

function lightweightKey(): symbol | null {
  try {
    const probe = new Response('');
    for (const key of Object.getOwnPropertySymbols(probe)) {
      if (key.description === 'cache' && Array.isArray((probe as unknown as Record<symbol, unknown>)[key])) return key;
    }
  } catch {
    // An exotic global Response: the general way.
  }
  return null;
}

/**
 * Sets the request-ID header on the answer. A `Response` from `fetch()` has immutable headers: it is
 * replaced by one that shares its body stream, with a mutable copy of its headers.
 */
function stamp(c: Context, name: string, id: string): void {
  const response = c.res;
  try {
    if (response.headers.get(name) === id) return;
    response.headers.set(name, id);
  } catch {
    const headers = new Headers(response.headers);
    headers.set(name, id);
    // Let the immutable one go first, or Hono would copy its headers onto the new one.
    letGo(c);
    try {
      c.res = new Response(response.body, { status: response.status, statusText: response.statusText, headers });
    } catch {
      // A status a Response cannot be made with (a 101 upgrade): leave the answer as it was.
      c.res = response;
    }
  }
}

/** @internal One response per failure. */
export function respond(config: Conventions, thrown: unknown, c: Context): Response {
  // The client hung up (`@hono/node-server` aborts the request's signal with a string or a plain Error): a 499, not a logged 500.
  const error = unlessClientClosed(c, thrown);
  const known: unknown = c.get('requestId');
  const own = ownResponse(error);
  const problem = renderProblem(
    error,
    {
      method: c.req.method,
      url: c.req.url,
      headers: headersOf(c),
      id: typeof known === 'string' ? known : undefined,
    },
    config,
  );
  if (own !== undefined) {
    // The application built this response on purpose: keep it, and say which request it answers.
    own.headers.set(config.requestIdHeader, problem.requestId);
    return own;
  }
  // One Response per failure: newResponse() carries the headers set so far (CORS, Vary, the request ID)
  // into it, and the core drops the stale ones and sets its own over the rest.
  // With no headers set so far, Hono hands a record of one header to the Response as it is: on
  // @hono/node-server, whose lightweight Response keeps it for the Node.js response, the problem's
  // headers go into that record, written as they are, without a Headers object.
  const record: Record<string, string> = { [config.requestIdHeader]: problem.requestId };
  const response = c.newResponse(problem.body, problem.status as never, record);
  if (nodeResponse(c) !== undefined && lightweightParts(response)?.[2] === record) Object.assign(record, problem.headers);
  else applyProblem(new HeadersSink(response.headers), problem);
  // Hono copies every header of the response under way onto the one returned, over ours (an ETag,
  // a Cache-Control): everything worth keeping is in ours already, so let that response go.
  letGo(c);
  return response;
}

/** Drops the context's response: Hono's setter takes `undefined`, though its type says `Response`. */
function letGo(c: Context): void {
  (c as { res: Response | undefined }).res = undefined;
}

/**
 * The headers of a Response made for the problem, with its status and body: it never started, and
 * once its headers are right there is nothing left to send. A class: a failure makes no closures.
 */
class HeadersSink implements ProblemSink {
  constructor(private readonly headers: Headers) {}

  state(): ResponseState {
    return 'open';
  }

  headerNames(): Iterable<string> {
    return this.headers.keys();
  }

  removeHeader(name: string): void {
    this.headers.delete(name);
  }

  setHeader(name: string, value: string): void {
    this.headers.set(name, value);
  }

  getHeader(name: string): unknown {
    return this.headers.get(name);
  }

  end(): void {}

  abort(): void {}
}

/** An `HTTPException` created with `{ res }`: its response, with the exception's status. */
function ownResponse(error: unknown): Response | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const candidate = error as { res?: unknown; getResponse?: unknown };
  if (!(candidate.res instanceof Response) || typeof candidate.getResponse !== 'function') return undefined;
  try {
    const response = (candidate.getResponse as () => unknown)();
    return response instanceof Response ? response : undefined;
  } catch {
    return undefined;
  }
}
