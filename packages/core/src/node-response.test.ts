import { describe, expect, it } from 'vitest';
import { classify } from './classify.js';
import { logWith } from './node-response.js';
import type { ErrorReport } from './conventions.js';

const refused = Object.assign(new Error('connect ECONNREFUSED 10.0.0.1:5432'), { code: 'ECONNREFUSED' });
const report: ErrorReport = { error: refused, classification: classify(refused), requestId: 'r-1', method: 'GET', path: '/orders' };

describe('logWith', () => {
  it('writes each 5xx once, as fields and a message', () => {
    const lines: unknown[][] = [];
    logWith({ error: (...args: unknown[]) => void lines.push(args) })(report);
    expect(lines).toEqual([[expect.objectContaining({ requestId: 'r-1', code: 'UPSTREAM_UNREACHABLE', err: expect.objectContaining({ code: 'ECONNREFUSED' }) }), 'GET /orders failed: 502 UPSTREAM_UNREACHABLE']]);
  });

  it('builds nothing for a logger that would drop the line', () => {
    let calls = 0;
    const count = () => void calls++;
    // pino below error, and a no-op logger (Fastify's without a logger, pino at silent): one function for every level.
    logWith({ error: count, isLevelEnabled: () => false } as never)(report);
    logWith({ error: count, info: count, trace: count } as never)(report);
    expect(calls).toBe(0);
    logWith({ error: count, info: () => {}, trace: () => {}, isLevelEnabled: (level: string) => level === 'error' } as never)(report);
    expect(calls).toBe(1);
  });
});
