/**
 * The log record through real pino: its `err` leaves pino's standard serializer unchanged, and a
 * logger that binds the request ID (Fastify's `request.log`) gets no second ID field.
 */
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { classify } from './classify.js';
import { describeForLog } from './describe.js';
import { BadGatewayError } from './errors.js';
import { logWith, toLogEntry } from './log.js';
import type { ErrorReport } from './log.js';

const refused = () => Object.assign(new Error('connect ECONNREFUSED 10.0.0.1:5432'), { code: 'ECONNREFUSED' });
const reportOf = (error: unknown, requestId = 'r-1'): ErrorReport => ({ error, classification: classify(error), requestId, method: 'GET', path: '/orders' });

/** A pino logger writing bare lines (no time, pid or hostname) into `lines`, and `child` of it with `bindings`. */
function pinoLines(bindings?: Record<string, string>): { lines: string[]; logger: pino.Logger } {
  const lines: string[] = [];
  const root = pino({ base: null, timestamp: false }, { write: (line: string) => void lines.push(line.trimEnd()) });
  return { lines, logger: bindings === undefined ? root : root.child(bindings) };
}

class QueryError extends Error {
  override name = 'QueryError';
}

const errors: ReadonlyArray<readonly [string, () => unknown]> = [
  ['an error with a masked cause chain', () => new TypeError('fetch failed for postgres://app:hunter2@db/x', { cause: new Error('pool', { cause: refused() }) })],
  ['an error whose name is not its class', () => Object.assign(new Error('aborted'), { name: 'AbortError' })],
  ['an error of a class of its own', () => new QueryError('syntax error', { cause: refused() })],
  ["this library's error, with an upstream", () => new BadGatewayError({ upstream: 'orders', upstreamStatus: 500, cause: refused() })],
  ['an AggregateError', () => new AggregateError([refused(), new Error('second')], 'all attempts failed')],
  ['a plain object', () => ({ status: 500, message: 'plain', code: 7 })],
  ['a string', () => 'boom'],
  ['null', () => null],
];

describe("the err of a log record through pino's err serializer", () => {
  it.each(errors)('%s: pino writes what JSON.stringify writes', (_name, make) => {
    const { lines, logger } = pinoLines();
    const { level: _level, msg, ...fields } = toLogEntry(reportOf(make()));
    logger.error(fields, msg);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toBe(JSON.stringify({ level: 50, ...fields, msg }));
    const err = describeForLog(make());
    expect(JSON.stringify(pino.stdSerializers.err(err as never))).toBe(JSON.stringify(err));
  });

  it('keeps the type of the error, not the class of the record', () => {
    const { lines, logger } = pinoLines();
    logger.error({ err: describeForLog(new QueryError('x')) });
    expect(JSON.parse(lines[0]!)).toMatchObject({ err: { type: 'QueryError', stack: expect.stringMatching(/^QueryError: x\n {4}at /) } });
  });
});

describe('a logger that binds the request ID', () => {
  it.each([
    ["Fastify's default label", { reqId: 'r-1' }, ['reqId']],
    ['the label every other adapter writes', { requestId: 'r-1' }, ['requestId']],
    ['a binding of another ID', { reqId: 'other' }, ['reqId', 'requestId']],
    ['no binding', undefined, ['requestId']],
  ] as const)('%s: the line names the request ID once', (_name, bindings, keys) => {
    const { lines, logger } = pinoLines(bindings);
    logWith(logger)(reportOf(refused()));
    expect(lines).toHaveLength(1);
    const line = JSON.parse(lines[0]!) as Record<string, unknown>;
    expect(Object.keys(line).filter((key) => key === 'reqId' || key === 'requestId')).toEqual(keys);
    // pino writes a key twice rather than replace a binding: count in the text.
    expect(lines[0]!.match(/"r-1"/g)).toHaveLength(1);
    expect(line).toMatchObject({ method: 'GET', path: '/orders', status: 502, code: 'UPSTREAM_UNREACHABLE', err: { type: 'Error', code: 'ECONNREFUSED' } });
  });
});
