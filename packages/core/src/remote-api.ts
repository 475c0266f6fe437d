/**
 * Errors of API SDKs: what a remote API answered, reported by its client library. Their status is
 * the remote API's, never this service's: a remote 404 is a 502, not our 404.
 */
import { field, has } from './own.js';

/** @internal The remote status of an SDK's error, with the headers of that answer when known. */
export interface RemoteStatus {
  readonly status: number;
  readonly headers: unknown;
}

/**
 * @internal The status the remote API answered, when the error shows it came from one:
 * OpenAI- and Anthropic-style `APIError` (`status`, `headers`, `requestID`, `error`), Stripe
 * (`statusCode`, `raw`) and the AWS SDK v3 (`$metadata.httpStatusCode`, `$fault`).
 */
export function remoteApiStatus(node: object): RemoteStatus | undefined {
  const metadata = field(node, '$metadata');
  if (typeof metadata === 'object' && metadata !== null && typeof field(node, '$fault') === 'string') {
    const status = field(metadata, 'httpStatusCode');
    const response = field(node, '$response');
    const headers = typeof response === 'object' && response !== null ? field(response, 'headers') : undefined;
    return isHttpStatus(status) && status >= 400 ? { status, headers } : undefined;
  }
  // http-errors (and body-parser's errors) say whether to expose them: they are this service's own answer.
  if (typeof field(node, 'expose') === 'boolean') return undefined;
  const own = field(node, 'status');
  const status = typeof own === 'number' ? own : field(node, 'statusCode');
  if (!isHttpStatus(status) || status < 400) return undefined;
  const remote = has(node, 'requestID') || has(node, 'request_id') || has(node, 'raw') || (has(node, 'headers') && has(node, 'error'));
  return remote ? { status, headers: field(node, 'headers') } : undefined;
}

function isHttpStatus(status: unknown): status is number {
  return typeof status === 'number' && Number.isInteger(status) && status >= 100 && status <= 599;
}
