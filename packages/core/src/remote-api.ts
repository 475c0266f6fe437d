/**
 * Errors of API SDKs: what a remote API answered, reported by its client library. Their status is
 * the remote API's, never this service's: a remote 404 is a 502, not our 404.
 *
 * The rule is general rather than a list of SDKs: an error that carries a 4xx/5xx status *and* a
 * trace of the HTTP exchange it came from is the remote's answer. Only a few SDKs need a word of
 * their own (the AWS SDK v3, google-gax over REST, Slack's rate limit), where the status is not
 * where the general rule looks.
 */
import { field, has, keep } from './own.js';

type Fields = Readonly<Record<string, unknown>>;

/** @internal The remote status of an SDK's error, with the headers of that answer when known. */
export interface RemoteStatus {
  readonly status: number;
  /** Readable by `readSingleHeader`: at least the answer's `Retry-After` under its lower-case name. */
  readonly headers: unknown;
}

/**
 * google.rpc.Code → the HTTP status Google's REST APIs send for it (google/rpc/code.proto). google-gax
 * over REST keeps only the gRPC code of the answer.
 */
const HTTP_FOR_GRPC: readonly number[] = [200, 499, 500, 400, 504, 404, 409, 403, 429, 400, 409, 400, 501, 500, 503, 500, 401];

/**
 * @internal The status the remote API answered, when the error shows it came from one.
 *
 * The status is the error's own `status` or `statusCode`, or the one inside the answer it carries
 * (`response.status`/`statusCode`/`code`, Elasticsearch's `meta.statusCode`, SendGrid's `code` beside
 * its `response`). A status read from the error itself counts as remote only beside evidence of an
 * HTTP exchange: an object `request`, `response`, `meta`, `config` or `errorResponse` (OpenAI-style,
 * Octokit, Azure `RestError`, Elasticsearch, gaxios, MongoDB), a numeric vendor `code` (Twilio,
 * MongoDB), request IDs (`requestID`, `request_id`), Stripe's `raw`, Twilio's `moreInfo`, or `headers`
 * beside `body`, `data` or `error` (Slack, Elasticsearch). An error marked as this service's own answer
 * is never remote: http-errors' `expose` flag (set it, `true` or `false`, to keep an error of yours
 * that looks remote), Boom, NestJS `HttpException` and Hono `HTTPException` (`getResponse`), Fastify's
 * `FST_` codes and `validation`. Each field is read at most once; getters may throw (the caller guards).
 */
export function remoteApiStatus(node: Fields): RemoteStatus | undefined {
  const metadata = keep(node, '$metadata', node['$metadata']);
  if (isObject(metadata) && typeof keep(node, '$fault', node['$fault']) === 'string') {
    const status = field(metadata, 'httpStatusCode');
    const response = keep(node, '$response', node['$response']);
    const headers = isObject(response) ? field(response, 'headers') : undefined;
    return isErrorStatus(status) ? { status, headers } : undefined;
  }
  if (isOwnAnswer(node)) return undefined;
  const code = keep(node, 'code', node['code']);
  if (typeof code === 'string') {
    if (code.startsWith('FST_')) return undefined;
    // Slack's WebClient (rejectRateLimitedCalls) reports the 429 it got only as the seconds to wait.
    if (code === 'slack_webapi_rate_limited_error') return { status: 429, headers: retryAfterHeaders(keep(node, 'retryAfter', node['retryAfter'])) };
  }

  const own = keep(node, 'status', node['status']);
  const status = typeof own === 'number' ? own : keep(node, 'statusCode', node['statusCode']);
  const response = objectValue(keep(node, 'response', node['response']));
  const meta = objectValue(keep(node, 'meta', node['meta']));
  if (typeof status === 'number') {
    if (!isErrorStatus(status) || !(response !== undefined || meta !== undefined || typeof code === 'number' || hasExchange(node))) return undefined;
    return { status, headers: answerHeaders(node, response, meta) };
  }

  // The status lives only inside the answer the error carries: it came from the remote.
  const inside = (response === undefined ? undefined : responseStatus(response)) ?? (meta === undefined ? undefined : field(meta, 'statusCode'));
  // SendGrid's ResponseError keeps the status as `code`, beside a `response` of headers and body.
  const remote = typeof inside === 'number' ? inside : response !== undefined && typeof code === 'number' ? code : undefined;
  if (remote !== undefined) return isErrorStatus(remote) ? { status: remote, headers: answerHeaders(node, response, meta) } : undefined;

  // google-gax over REST: a google.rpc.Status (numeric gRPC `code`, `details` list) without HTTP status.
  // A gRPC transport error has string `details` and `metadata`: the gRPC rules decide those.
  if (typeof code === 'number' && Number.isInteger(code) && code >= 1 && code <= 16) {
    const details = keep(node, 'details', node['details']);
    if (Array.isArray(details) || (typeof details !== 'string' && has(node, 'statusDetails'))) {
      return { status: HTTP_FOR_GRPC[code]!, headers: undefined };
    }
  }
  return undefined;
}

/** http-errors and body-parser (`expose`), Boom, NestJS and Hono (`getResponse`), Fastify (`validation`). */
function isOwnAnswer(node: Fields): boolean {
  return (
    typeof keep(node, 'expose', node['expose']) === 'boolean' ||
    keep(node, 'isBoom', node['isBoom']) === true ||
    typeof keep(node, 'getResponse', node['getResponse']) === 'function' ||
    has(node, 'validation')
  );
}

/** Traces of an HTTP exchange on the error itself (its `response` and `meta` are read by the caller). */
function hasExchange(node: Fields): boolean {
  return (
    objectValue(keep(node, 'request', node['request'])) !== undefined ||
    objectValue(keep(node, 'config', node['config'])) !== undefined ||
    objectValue(keep(node, 'errorResponse', node['errorResponse'])) !== undefined ||
    has(node, 'requestID') ||
    has(node, 'request_id') ||
    has(node, 'raw') ||
    has(node, 'moreInfo') ||
    has(node, 'more_info') ||
    (has(node, 'headers') && (has(node, 'body') || has(node, 'data') || has(node, 'error')))
  );
}

/** `status`, `statusCode` or (Shopify) `code` of a response object. */
function responseStatus(response: object): unknown {
  const status = field(response, 'status');
  if (typeof status === 'number') return status;
  const statusCode = field(response, 'statusCode');
  return typeof statusCode === 'number' ? statusCode : field(response, 'code');
}

/** The answer's headers: the error's own, else its response's, else Elasticsearch's `meta.headers`. */
function answerHeaders(node: Fields, response: object | undefined, meta: object | undefined): unknown {
  let headers = keep(node, 'headers', node['headers']);
  if (headers === undefined && response !== undefined) headers = field(response, 'headers');
  if (headers === undefined && meta !== undefined) headers = field(meta, 'headers');
  return lowerCaseRetryAfter(headers);
}

/**
 * Header readers look names up in lower case, as Node.js and `Headers` give them. Some SDKs keep the
 * answer's spelling (Shopify: `Retry-After: ['9']`): such a `Retry-After` is handed over in lower case.
 */
function lowerCaseRetryAfter(headers: unknown): unknown {
  if (!isObject(headers) || typeof field(headers, 'get') === 'function' || has(headers, 'retry-after')) return headers;
  for (const key of Object.keys(headers).slice(0, 200)) {
    if (key.toLowerCase() === 'retry-after') return { 'retry-after': field(headers, key) };
  }
  return headers;
}

function retryAfterHeaders(seconds: unknown): Record<string, string> | undefined {
  return typeof seconds === 'number' && Number.isFinite(seconds) && seconds >= 0 ? { 'retry-after': String(Math.ceil(seconds)) } : undefined;
}

function objectValue(value: unknown): object | undefined {
  return isObject(value) ? value : undefined;
}

function isObject(value: unknown): value is object {
  return typeof value === 'object' && value !== null;
}

function isErrorStatus(status: unknown): status is number {
  return typeof status === 'number' && Number.isInteger(status) && status >= 400 && status <= 599;
}
