/**
 * Data stores and RPC: PostgreSQL (pg and its pool, generic-pool), Redis (ioredis, node-redis) and
 * gRPC (@grpc/grpc-js). Only failures of the store itself decide anything here: a query's own error
 * (a constraint, a syntax error, a Redis `WRONGTYPE`) says nothing about the dependency's health.
 *
 * A new database or queue client: add its error class names to `DATA_STORE_NAMES` or its exact
 * messages to `DATA_STORE_MESSAGES`; a client with its own codes gets a reader beside
 * {@link postgresSignal} and a rung in classify.ts.
 */
import { keep } from '../own.js';
import {
  ABORTED,
  BREAKER_OPEN,
  CONNECT_TIMEOUT,
  DESTINATION_DOWN,
  LIMIT_REACHED,
  REFUSED,
  RESPONSE_TIMEOUT,
  STATUS,
  TERMINATED,
} from '../signals.js';
import type { Signal, SignalEntries } from '../signals.js';

/** Class names of Redis clients (ioredis, node-redis). */
export const DATA_STORE_NAMES: SignalEntries = [
  // ioredis rejects queued and already-sent commands alike with it.
  ['MaxRetriesPerRequestError', DESTINATION_DOWN],
  // node-redis: thrown before anything is written.
  ['ClientClosedError', BREAKER_OPEN],
  ['ClientOfflineError', BREAKER_OPEN],
  ['SocketClosedUnexpectedlyError', TERMINATED],
  ['SocketTimeoutError', RESPONSE_TIMEOUT],
  ['ConnectionTimeoutError', CONNECT_TIMEOUT],
];

/** Exact messages of database clients that throw plain `Error`s. */
export const DATA_STORE_MESSAGES: SignalEntries = [
  // pg
  ['Connection terminated unexpectedly', TERMINATED],
  ['Connection terminated due to connection timeout', CONNECT_TIMEOUT],
  ['timeout expired', CONNECT_TIMEOUT],
  ['timeout exceeded when trying to connect', LIMIT_REACHED],
  ['Query read timeout', RESPONSE_TIMEOUT],
  // ioredis: used for commands already sent as well as queued ones.
  ['Connection is closed.', DESTINATION_DOWN],
  ["Stream isn't writeable and enableOfflineQueue options is false", BREAKER_OPEN],
  ['Command timed out', RESPONSE_TIMEOUT],
  // generic-pool (used by many database clients)
  ['ResourceRequest timed out', LIMIT_REACHED],
];

/** Error-reply classes of ioredis (redis-errors) and node-redis. */
const REDIS_REPLY: ReadonlySet<string> = new Set(['ReplyError', 'ErrorReply', 'SimpleError', 'BlobError', 'RedisError']);
const REDIS_BUSY = /^(?:LOADING|BUSY|READONLY|MASTERDOWN|TRYAGAIN|CLUSTERDOWN|NOREPLICAS|MISCONF)\b/;

/** @internal A Redis error reply that says the server cannot serve now (loading, busy, a replica, a failover). */
export function redisBusy(kind: string, message: unknown): Signal | undefined {
  return REDIS_REPLY.has(kind) && typeof message === 'string' && REDIS_BUSY.test(message) ? DESTINATION_DOWN : undefined;
}

/** @internal pg's `DatabaseError`: a five-character SQLSTATE beside a `severity`. */
export function isPostgresError(code: string, node: Record<string, unknown>): boolean {
  return code.length === 5 && typeof keep(node, 'severity', node['severity']) === 'string';
}

/** @internal SQLSTATE classes (PostgreSQL appendix A) that describe the database rather than the query. */
export function postgresSignal(sqlstate: string): Signal | undefined {
  if (sqlstate === '57014') return RESPONSE_TIMEOUT;
  if (sqlstate === '53300') return LIMIT_REACHED;
  if (sqlstate.startsWith('53')) return DESTINATION_DOWN;
  if (sqlstate === '57P03') return BREAKER_OPEN;
  if (sqlstate.startsWith('57P')) return DESTINATION_DOWN;
  if (sqlstate === '08001' || sqlstate === '08004') return REFUSED;
  if (sqlstate.startsWith('08')) return TERMINATED;
  return undefined;
}

/**
 * @internal The `details` of a @grpc/grpc-js status error (a numeric `code` beside string `details`
 * and `metadata`); `undefined` for any other error.
 */
export function grpcDetails(node: Record<string, unknown>): string | undefined {
  const details = keep(node, 'details', node['details']);
  return typeof details === 'string' && typeof keep(node, 'metadata', node['metadata']) === 'object' ? details : undefined;
}

/** @internal @grpc/grpc-js status codes; `undefined` for OK, which decides nothing. */
export function grpcSignal(code: number, details: string): Signal | undefined {
  switch (code) {
    case 0:
      return undefined;
    case 1:
      return ABORTED;
    case 4:
      return RESPONSE_TIMEOUT;
    case 8:
      return { ...LIMIT_REACHED, reached: true };
    case 14:
      return /^(?:No connection established|Name resolution failed|failed to connect)/i.test(details)
        ? BREAKER_OPEN
        : DESTINATION_DOWN;
    case 3: // INVALID_ARGUMENT
    case 5: // NOT_FOUND
    case 6: // ALREADY_EXISTS
    case 7: // PERMISSION_DENIED
    case 9: // FAILED_PRECONDITION
    case 11: // OUT_OF_RANGE
    case 12: // UNIMPLEMENTED
    case 16: // UNAUTHENTICATED
      // The upstream's answer to this very request: sending it again gives the same.
      return { status: 502, code: STATUS, reached: true, final: true };
    default:
      return { status: 502, code: STATUS, reached: true };
  }
}
