import { describe, expect, it, vi } from 'vitest';
import { classify } from './classify.js';
import { logToConsole, logWith, report } from './log.js';
import type { ErrorReport } from './log.js';

const refused = Object.assign(new Error('connect ECONNREFUSED 10.0.0.1:5432'), { code: 'ECONNREFUSED' });
const reportOf = (error: unknown): ErrorReport => ({ error, classification: classify(error), requestId: 'r-1', method: 'GET', path: '/orders' });
const failure = reportOf(refused);
const aborted = reportOf(Object.assign(new Error('aborted'), { name: 'AbortError' }));
const notFound = reportOf(Object.assign(new Error('no such order'), { status: 404, expose: true }));

describe('logWith', () => {
  it('writes each 5xx once, as fields and a message', () => {
    const lines: unknown[][] = [];
    logWith({ error: (...args: unknown[]) => void lines.push(args) })(failure);
    expect(lines).toEqual([[expect.objectContaining({ requestId: 'r-1', code: 'UPSTREAM_UNREACHABLE', err: expect.objectContaining({ code: 'ECONNREFUSED' }) }), 'GET /orders failed: 502 UPSTREAM_UNREACHABLE']]);
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
    const spy = vi.spyOn(console, 'error').mockImplementation(() => {});
    try {
      for (const entry of [failure, aborted, notFound]) {
        logWith(logger)(entry);
        logToConsole(entry);
        report(entry, undefined, { logger });
        report(entry, undefined, {});
      }
      expect(logger.error).toHaveBeenCalledTimes(2);
      expect(spy).toHaveBeenCalledTimes(2);
    } finally {
      spy.mockRestore();
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
