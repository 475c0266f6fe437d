/**
 * `classify()`: the ladder. It walks the error graph (walk.ts) and asks each node, rung by rung, what
 * it says (`recognise` below); the shape readers behind the rungs live in one module per family:
 *
 * | family | module |
 * | --- | --- |
 * | the vocabulary: signals, the codes they name, bounds | signals.ts |
 * | transport: Node.js, undici, axios, got, TLS, breakers and bulkheads | shapes/transport.ts |
 * | data stores: pg, Redis, gRPC | shapes/data-stores.ts |
 * | an upstream's answer: HTTP clients' and API SDKs' statuses | shapes/http-status.ts |
 * | own errors: this library's, http-errors, Boom, NestJS, Hono, Fastify validation | shapes/own-errors.ts |
 * | the application's mappers | mappers.ts |
 * | the verdict: public types, title, Retry-After and retry guidance | classification.ts |
 *
 * To teach the core a new client, add its shape to its family's module (each says how); a rung is
 * added here only for a new kind of evidence. The log view (describe.ts) walks the same graph and
 * reads upstream statuses and URLs with the same readers.
 */
import type { Classification, ClassificationOverride, ClassifyOptions, ClassifyRequest } from './classification.js';
import { finish } from './classification.js';
import { decisive, fromOverride, refine, runMapper } from './mappers.js';
import { constructorName, keep } from './own.js';
import { DATA_STORE_MESSAGES, DATA_STORE_NAMES, grpcDetails, grpcSignal, isPostgresError, postgresSignal, redisBusy } from './shapes/data-stores.js';
import { fromUpstreamStatus, SDK_NAMES, upstreamAnswer } from './shapes/http-status.js';
import { brandedUpstreamError, ownStatus, upstreamName } from './shapes/own-errors.js';
import { connectionCode, isCauseWrapper, resilienceFlags, tlsCode, TRANSPORT_MESSAGES, TRANSPORT_NAMES } from './shapes/transport.js';
import { checkPrototype, complete } from './signals.js';
import type { Signal } from './signals.js';
import { MAX_NODES, walk } from './walk.js';

// The public types of `classify()`, defined beside the verdict that builds them.
export type { Classification, ClassificationOverride, ClassifyOptions, ClassifyRequest, ErrorMapper, ProblemFieldError } from './classification.js';

/** Exact messages of clients that throw plain `Error`s, every family's: one look-up per node. */
const BY_MESSAGE: ReadonlyMap<string, Readonly<Signal>> = new Map([...TRANSPORT_MESSAGES, ...DATA_STORE_MESSAGES]);

/** `name`s of error classes whose meaning does not depend on a code, every family's: one look-up per node. */
const BY_NAME: ReadonlyMap<string, Readonly<Signal>> = new Map([...TRANSPORT_NAMES, ...DATA_STORE_NAMES, ...SDK_NAMES]);

/**
 * Decides status, code and retry guidance for any thrown value. Pure and total:
 * it accepts `null`, strings, frozen objects, Proxies and objects whose getters
 * throw, follows `cause` chains and `AggregateError.errors` (bounded, cycle-safe),
 * and never throws.
 *
 * @example
 * ```ts
 * try { await fetch(url); } catch (err) {
 *   classify(err, { method: 'GET' }); // { status: 502, code: 'UPSTREAM_UNREACHABLE', retryable: true, ... }
 * }
 * ```
 */
export function classify(error: unknown, request?: ClassifyRequest, options?: ClassifyOptions): Classification {
  checkPrototype();
  try {
    return decide(error, request, options);
  } catch {
    return finish({ status: 500, code: 'INTERNAL_ERROR' }, { request, options });
  }
}

function decide(error: unknown, request: ClassifyRequest | undefined, options: ClassifyOptions | undefined): Classification {
  const nodes = walk(error, MAX_NODES);
  const mappers = options?.mappers;
  let refinement: ClassificationOverride | undefined;
  if (mappers !== undefined && mappers.length > 0) {
    for (const node of nodes) {
      for (const mapper of mappers) {
        const override = runMapper(mapper, node, request);
        if (override === undefined) continue;
        if (decisive(override)) return fromOverride(override, nodes, { request, options });
        refinement ??= override;
      }
    }
  }

  let chosen: Signal | undefined;
  let weak: Signal | undefined;
  let upstream: string | undefined;
  let retryAfter: unknown;
  for (let i = 0; i < nodes.length; i++) {
    const node = nodes[i];
    // Only the thrown value itself may be this service's own 4xx (see `ownStatus`).
    const found = inspect(node, i === 0);
    if (upstream === undefined) upstream = upstreamName(node);
    if (found === undefined) continue;
    if (retryAfter === undefined && found.retryAfter !== undefined) retryAfter = found.retryAfter;
    if (chosen !== undefined) {
      // An application's deliberate 502/503/504 keeps its status; a deeper error of the same status says why.
      if (found.status === chosen.status && !found.weak && !found.refinable && (!chosen.explicitCode || found.code === chosen.code)) {
        chosen = {
          ...chosen,
          code: found.code,
          proxyError: found.proxyError,
          reached: found.reached,
          upstreamStatus: chosen.upstreamStatus ?? found.upstreamStatus,
          refinable: false,
        };
        break;
      }
      continue;
    }
    if (found.weak) {
      weak ??= found;
      continue;
    }
    chosen = found;
    if (!found.refinable) break;
  }
  const verdict = chosen ?? weak ?? { status: 500, code: 'INTERNAL_ERROR', proxyError: 'proxy_internal_error' as const };
  const result = finish(
    retryAfter !== undefined && (verdict as Signal).retryAfter === undefined ? { ...verdict, retryAfter } : verdict,
    { request, options, upstream },
  );
  return refinement === undefined ? result : refine(result, refinement, options);
}

function inspect(node: unknown, root: boolean): Signal | undefined {
  if (typeof node !== 'object' || node === null) return undefined;
  try {
    const found = recognise(node as Record<string, unknown>, root);
    return found === undefined ? undefined : complete(found);
  } catch {
    return undefined;
  }
}

/**
 * The ladder: what one node of the error graph says, the first rung that answers deciding. Most
 * specific evidence first. Each field is read once, and only when a rung needs it: a getter may
 * answer differently on a second read, or throw (then the node says nothing).
 */
function recognise(node: Record<string, unknown>, root: boolean): Signal | undefined {
  // 1. This library's UpstreamError family: the application said what failed (own-errors).
  const declared = brandedUpstreamError(node);
  if (declared !== undefined) return declared;

  // 2. A string `code`: transport codes, else a pg SQLSTATE (which claims its code), else TLS codes.
  const code = keep(node, 'code', node['code']);
  if (typeof code === 'string' && code.length > 0) {
    const known = connectionCode(code, node) ?? (isPostgresError(code, node) ? postgresSignal(code) : tlsCode(code));
    if (known !== undefined) return known;
  }

  // 3. The exact message of a client that throws plain `Error`s (transport, data stores).
  const message = keep(node, 'message', node['message']);
  if (typeof message === 'string') {
    const byMessage = BY_MESSAGE.get(message);
    if (byMessage !== undefined) return byMessage;
  }

  // 4. The error's class (transport, data stores, API SDKs), then a Redis reply that says the server is busy.
  // What the error is beats the response it carries: got's TimeoutError during a body has a 200 response.
  // node-redis leaves `name` as 'Error' on its own classes: their constructors tell them apart.
  const name = keep(node, 'name', node['name']);
  const kind = name === 'Error' || name === undefined ? constructorName(node) : name;
  if (typeof kind === 'string') {
    const byName = BY_NAME.get(kind) ?? redisBusy(kind, message);
    if (byName !== undefined) return byName;
    // The commonest error of a gateway says nothing but its cause: the rungs below are skipped.
    if (isCauseWrapper(kind, message)) return undefined;
  }

  // 5. The status an HTTP client or API SDK got from the upstream: never this service's (http-status).
  const answer = upstreamAnswer(node, code);
  if (answer !== undefined) return fromUpstreamStatus(answer.status, answer.headers);

  // 6. A gRPC status (data stores); OK decides nothing.
  if (typeof code === 'number') {
    const details = grpcDetails(node);
    if (details !== undefined) return grpcSignal(code, details);
  }

  // 7. Resilience libraries' flags (transport), 8. this service's own answer (own-errors).
  return resilienceFlags(node) ?? ownStatus(node, root);
}
