import { describe, expect, it, vi } from 'vitest';
import { classify } from './classify.js';
import { BadGatewayError } from './errors.js';
import { logToConsole, logWith, report, toLogEntry } from './log.js';
import type { ErrorReport } from './log.js';
import { captureStderr } from './test-support/stderr.js';

const refused = Object.assign(new Error('connect ECONNREFUSED 10.0.0.1:5432'), { code: 'ECONNREFUSED' });
const reportOf = (error: unknown): ErrorReport => ({ error, classification: classify(error), requestId: 'r-1', method: 'GET', path: '/orders' });
const failure = reportOf(refused);
const aborted = reportOf(Object.assign(new Error('aborted'), { name: 'AbortError' }));
const notFound = reportOf(Object.assign(new Error('no such order'), { status: 404, expose: true }));

describe('toLogEntry', () => {
  it('is the record every default logger writes: request, answer and the masked error in the shape of pino', () => {
    const error = new Error('query failed for postgres://app:hunter2@db.internal/orders', { cause: refused });
    const entry = toLogEntry(reportOf(error));
    expect(Object.keys(entry)).toEqual(['level', 'msg', 'requestId', 'method', 'path', 'status', 'code', 'err']);
    expect(entry).toEqual({
      level: 'error',
      msg: 'GET /orders failed: 502 UPSTREAM_UNREACHABLE',
      requestId: 'r-1',
      method: 'GET',
      path: '/orders',
      status: 502,
      code: 'UPSTREAM_UNREACHABLE',
      err: {
        type: 'Error',
        message: 'query failed for postgres://***@db.internal/orders: connect ECONNREFUSED 10.0.0.1:5432',
        stack: expect.stringMatching(/^Error: query failed for postgres:\/\/\*\*\*@db\.internal\/orders\n {4}at [^]*\ncaused by: Error: connect ECONNREFUSED 10\.0\.0\.1:5432\n {4}at /),
        causes: [{ type: 'Error', message: 'connect ECONNREFUSED 10.0.0.1:5432', code: 'ECONNREFUSED' }],
      },
    });
    expect(JSON.stringify(entry)).not.toContain('hunter2');
  });

  it('names the upstream when the failure is tagged with one', () => {
    const entry = toLogEntry(reportOf(new BadGatewayError({ upstream: 'orders', cause: refused })));
    expect(Object.keys(entry)).toEqual(['level', 'msg', 'requestId', 'method', 'path', 'status', 'code', 'upstream', 'err']);
    expect(entry).toMatchObject({ upstream: 'orders', err: { type: 'BadGatewayError', causes: [{ code: 'ECONNREFUSED' }] } });
  });
});

describe('logWith', () => {
  it('writes each 5xx once, as fields and a message', () => {
    const lines: unknown[][] = [];
    logWith({ error: (...args: unknown[]) => void lines.push(args) })(failure);
    const { level: _level, msg, ...fields } = toLogEntry(failure);
    expect(lines).toEqual([[fields, msg]]);
    expect(lines[0]?.[0]).toMatchObject({ requestId: 'r-1', code: 'UPSTREAM_UNREACHABLE', err: { type: 'Error', code: 'ECONNREFUSED' } });
  });

  it("leaves out requestId when the logger's bindings hold the request ID already, and only then", () => {
    const written = (bindings: () => unknown): object[] => {
      const lines: object[] = [];
      logWith({ error: (fields: object) => void lines.push(fields), bindings } as never)(failure);
      return lines;
    };
    expect(written(() => ({ reqId: 'r-1' }))[0]).not.toHaveProperty('requestId');
    expect(written(() => ({ requestId: 'r-1' }))[0]).not.toHaveProperty('requestId');
    for (const bindings of [() => ({ reqId: 'another' }), () => null, () => 'r-1', () => ({ req: { id: 'r-1' } })]) {
      expect(written(bindings)[0]).toHaveProperty('requestId', 'r-1');
    }
    const throwing = () => {
      throw new Error('bindings down');
    };
    expect(written(throwing)).toEqual([expect.objectContaining({ requestId: 'r-1' })]);
  });

  it('builds nothing for a logger that would drop the line', () => {
    let calls = 0;
    const count = () => void calls++;
    // pino below error, and a no-op logger (Fastify's without a logger, pino at silent): one function for every level.
    logWith({ error: count, isLevelEnabled: () => false } as never)(failure);
    logWith({ error: count, info: count, trace: count } as never)(failure);
    expect(calls).toBe(0);
    logWith({ error: count, info: () => {}, trace: () => {}, isLevelEnabled: (level: string) => level === 'error' } as never)(failure);
    expect(calls).toBe(1);
  });
});

describe('the default loggers', () => {
  it('log 5xx only: never a 4xx, never a 499 (a client that left)', () => {
    expect(aborted.classification.status).toBe(499);
    expect(notFound.classification.status).toBe(404);
    const logger = { error: vi.fn() };
    const stderr = captureStderr();
    try {
      for (const entry of [failure, aborted, notFound]) {
        logWith(logger)(entry);
        logToConsole(entry);
        report(entry, undefined, { logger });
        report(entry, undefined, {});
      }
      expect(logger.error).toHaveBeenCalledTimes(2);
      expect(stderr.lines()).toHaveLength(2);
    } finally {
      stderr.restore();
    }
  });
});

describe('report', () => {
  it('hands every report, 4xx too, to onError and to the deprecated log function', () => {
    const hook = vi.fn();
    const log = vi.fn();
    for (const entry of [failure, aborted, notFound]) {
      report(entry, hook, { logger: { error: () => {} } });
      report(entry, undefined, { log });
    }
    expect(hook).toHaveBeenCalledTimes(3);
    expect(log).toHaveBeenCalledTimes(3);
  });

  it('never throws, and swallows a rejection', async () => {
    const throwing = { error: () => {
      throw new Error('logger down');
    } };
    expect(() => report(failure, undefined, { logger: throwing })).not.toThrow();
    expect(() => report(failure, () => Promise.reject(new Error('down')), {})).not.toThrow();
    await new Promise((resolve) => setTimeout(resolve, 10)); // an unhandled rejection would fail the run
  });
});
