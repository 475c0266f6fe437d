import { describe, expect, it, vi } from 'vitest';
import { renderProblem } from './render.js';
import { applyProblem, STALE_HEADERS } from './sink.js';
import type { ProblemSink, ResponseState } from './sink.js';

const problem = renderProblem(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }), { url: '/', id: 'r-1' }, { onError: false });

/** The core's `lib` has no DOM.Iterable: Web `Headers` is iterable all the same. */
type IterableHeaders = Headers & { keys(): IterableIterator<string> } & Iterable<[string, string]>;

/** A sink over a Web `Headers`, as the Hono adapter makes one, that records what is done to it. */
function headersSink(state: ResponseState, init: Record<string, string> = {}): ProblemSink & { headers: IterableHeaders; calls: string[] } {
  const headers = new Headers(init) as IterableHeaders;
  const calls: string[] = [];
  return {
    headers,
    calls,
    state: () => state,
    headerNames: () => headers.keys(),
    removeHeader: (name) => headers.delete(name),
    setHeader: (name, value) => headers.set(name, value),
    getHeader: (name) => headers.get(name),
    end: (status, body) => void calls.push(`end ${status} ${body === null ? 'null' : 'body'}`),
    abort: () => void calls.push('abort'),
  };
}

describe('STALE_HEADERS', () => {
  it('lists the headers of the abandoned response, not those other middleware set', () => {
    expect(STALE_HEADERS).toContain('content-length');
    expect(STALE_HEADERS).toContain('etag');
    expect(STALE_HEADERS).not.toContain('vary');
    expect(STALE_HEADERS).not.toContain('access-control-allow-origin');
  });
});

describe('applyProblem', () => {
  it('drops every stale header, keeps the rest and sets the problem over them', () => {
    const sink = headersSink('open', { etag: '"v1"', 'content-length': '9', 'content-type': 'text/csv', 'access-control-allow-origin': '*', 'last-modified': 'x', vary: 'Origin' });
    expect(applyProblem(sink, problem)).toBe(true);
    expect(Object.fromEntries(sink.headers)).toEqual({ ...problem.headers, 'access-control-allow-origin': '*', vary: 'Origin, Accept' });
    expect(sink.calls).toEqual(['end 502 body']);
  });

  it.each([
    [undefined, 'Accept'],
    ['', 'Accept'],
    ['Origin', 'Origin, Accept'],
    ['origin, accept', 'origin, accept'],
    ['Accept-Encoding', 'Accept-Encoding, Accept'],
    ['Origin, *', '*'],
    [['Origin', 'Accept-Encoding'], 'Origin, Accept-Encoding, Accept'],
    [`Origin${', X'.repeat(600)}`, 'Accept'],
    [42, 'Accept'],
  ])('adds Accept to the Vary %j of the response once: %s', (before, after) => {
    const sink = headersSink('open');
    sink.getHeader = () => before;
    applyProblem(sink, problem);
    expect(sink.headers.get('vary')).toBe(after);
  });

  it('sets Vary: Accept through a sink that cannot read headers, or whose getter throws', () => {
    const { getHeader: _getHeader, ...blind } = headersSink('open', { vary: 'Origin' });
    applyProblem(blind, problem);
    expect(blind.headers.get('vary')).toBe('Accept');
    const throwing = headersSink('open', { vary: 'Origin' });
    throwing.getHeader = () => {
      throw new Error('no');
    };
    applyProblem(throwing, problem);
    expect(throwing.headers.get('vary')).toBe('Accept');
  });

  it('cuts off a response that started, and writes nothing', () => {
    const sink = headersSink('started', { etag: '"v1"' });
    expect(applyProblem(sink, problem)).toBe(false);
    expect(sink.calls).toEqual(['abort']);
    expect(Object.fromEntries(sink.headers)).toEqual({ etag: '"v1"' });
  });

  it('leaves a response that is gone alone', () => {
    const sink = headersSink('gone');
    const names = vi.spyOn(sink, 'headerNames');
    expect(applyProblem(sink, problem)).toBe(false);
    expect(sink.calls).toEqual([]);
    expect(names).not.toHaveBeenCalled();
  });

  it('reads the state once', () => {
    const sink = headersSink('open');
    const state = vi.spyOn(sink, 'state');
    applyProblem(sink, problem);
    expect(state).toHaveBeenCalledOnce();
  });
});
