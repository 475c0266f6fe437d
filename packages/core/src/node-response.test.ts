import { describe, expect, it } from 'vitest';
import type { NodeResponseLike } from './node-response.js';
import { writeProblem } from './node-response.js';
import { renderProblem } from './render.js';

const error = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
const problem = renderProblem(error, { url: '/', id: 'r-1' }, { onError: false });

/** The parts of a `ServerResponse` writeProblem uses, recording what it does. */
function response(init: Partial<Pick<NodeResponseLike, 'headersSent' | 'writableEnded' | 'destroyed'>> = {}, headers: Record<string, string> = {}) {
  const state = { headersSent: false, writableEnded: false, destroyed: false, ...init };
  const res = {
    statusCode: 200,
    headers: { ...headers },
    body: undefined as string | undefined,
    ended: false,
    get headersSent() {
      return state.headersSent;
    },
    get writableEnded() {
      return state.writableEnded;
    },
    get destroyed() {
      return state.destroyed;
    },
    getHeaderNames: () => Object.keys(res.headers),
    removeHeader: (name: string) => void delete res.headers[name],
    setHeader: (name: string, value: string) => void (res.headers[name] = value),
    end(chunk?: string) {
      res.ended = true;
      res.body = chunk;
      state.writableEnded = true;
    },
    destroy() {
      state.destroyed = true;
    },
  };
  return res;
}

describe('writeProblem', () => {
  it('drops the stale headers, keeps the rest and writes status, headers and body', () => {
    const res = response({}, { etag: '"v1"', 'content-length': '10', 'access-control-allow-origin': '*', vary: 'Origin' });
    expect(writeProblem(res, problem)).toBe(true);
    expect(res.statusCode).toBe(502);
    expect(res.headers).toEqual({ 'access-control-allow-origin': '*', vary: 'Origin', ...problem.headers });
    expect(res.body).toBe(problem.body);
  });

  it('ends a HEAD response without a body', () => {
    const res = response();
    expect(writeProblem(res, renderProblem(error, { method: 'HEAD', url: '/' }, { onError: false }))).toBe(true);
    expect(res.ended).toBe(true);
    expect(res.body).toBeUndefined();
  });

  it('destroys a response that already started, writing nothing', () => {
    const res = response({ headersSent: true }, { 'content-type': 'text/csv' });
    expect(writeProblem(res, problem)).toBe(false);
    expect(res.destroyed).toBe(true);
    expect(res.ended).toBe(false);
    expect(res.headers).toEqual({ 'content-type': 'text/csv' });
  });

  it('leaves a response that ended, or whose client is gone, alone', () => {
    for (const gone of [response({ headersSent: true, writableEnded: true }), response({ destroyed: true })]) {
      const before = gone.destroyed;
      expect(writeProblem(gone, problem)).toBe(false);
      expect(gone.destroyed).toBe(before);
      expect(gone.ended).toBe(false);
    }
  });

  it('leaves a started response as it is when it cannot be destroyed', () => {
    const { destroy: _destroy, ...res } = response({ headersSent: true });
    expect(writeProblem(res, problem)).toBe(false);
  });
});
