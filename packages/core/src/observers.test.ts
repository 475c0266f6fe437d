import { describe, expect, it } from 'vitest';
import { defineConventions } from './conventions.js';
import { BadGatewayError } from './errors.js';
import type { ProblemObservation } from './log.js';
import { renderProblem } from './render.js';

const request = { method: 'POST', url: '/orders?card=4111', headers: { 'x-request-id': 'obs-1' } };

describe('observers', () => {
  it('see every problem answered, with the request and the mode, whatever onError does', () => {
    const seen: ProblemObservation[] = [];
    const error = new BadGatewayError({ upstream: 'payments' });
    for (const onError of [false, () => undefined] as const) {
      renderProblem(error, request, defineConventions({ mode: 'production', onError, observers: [(observation) => void seen.push(observation)] }));
    }
    renderProblem(new Error('kept'), request, defineConventions({ mode: 'development', onError: false, observers: [(observation) => void seen.push(observation)] }));
    expect(seen.map(({ error: thrown, classification, requestId, method, path, mode }) => ({ thrown, code: classification.code, upstream: classification.upstream, requestId, method, path, mode }))).toEqual([
      { thrown: error, code: 'UPSTREAM_BAD_RESPONSE', upstream: 'payments', requestId: 'obs-1', method: 'POST', path: '/orders', mode: 'production' },
      { thrown: error, code: 'UPSTREAM_BAD_RESPONSE', upstream: 'payments', requestId: 'obs-1', method: 'POST', path: '/orders', mode: 'production' },
      { thrown: expect.any(Error), code: 'INTERNAL_ERROR', upstream: undefined, requestId: 'obs-1', method: 'POST', path: '/orders', mode: 'development' },
    ]);
  });

  it('one that throws or rejects neither breaks the answer nor keeps the next from seeing it', async () => {
    const seen: string[] = [];
    const conventions = defineConventions({
      onError: false,
      observers: [
        () => {
          throw new Error('observer down');
        },
        // A JavaScript caller may return a promise where void is expected.
        (() => Promise.reject(new Error('later'))) as () => void,
        (observation) => void seen.push(observation.classification.code),
      ],
    });
    const problem = renderProblem(new BadGatewayError(), request, conventions);
    expect(problem.status).toBe(502);
    expect(seen).toEqual(['UPSTREAM_BAD_RESPONSE']);
    await new Promise((resolve) => setTimeout(resolve, 5));
  });

  it('are validated at start-up and frozen', () => {
    for (const bad of ['nope', [1], [null], {}, new Set([() => undefined])]) {
      expect(() => defineConventions({ observers: bad as never }), String(bad)).toThrow(/`observers` must be an array of functions/);
    }
    const observers = [() => undefined];
    const conventions = defineConventions({ observers });
    observers.push(() => undefined);
    expect(conventions.observers).toHaveLength(1);
    expect(Object.isFrozen(conventions.observers)).toBe(true);
    expect(defineConventions({}).observers).toEqual([]);
  });
});
