/**
 * The Node.js platform: its `ServerResponse` as a problem sink. Express, NestJS on Express and
 * any `node:http` server write through {@link writeProblem}; structural, so no Node.js import.
 */
import type { Problem } from './render.js';
import { applyProblem } from './sink.js';
import type { ProblemSink, ResponseState } from './sink.js';

/** The parts of a Node.js `ServerResponse` that {@link writeProblem} uses (structural: no Node.js import). */
export interface NodeResponseLike {
  statusCode: number;
  readonly headersSent: boolean;
  readonly writableEnded?: boolean | undefined;
  readonly destroyed?: boolean | undefined;
  getHeaderNames(): string[];
  removeHeader(name: string): void;
  setHeader(name: string, value: string): unknown;
  /** A header set so far: the problem's `Vary` is added to the response's own. */
  getHeader?(name: string): unknown;
  end(chunk?: string): unknown;
  /** Cuts the connection of a response that started; without it, such a response is left as it is. */
  destroy?(): unknown;
}

/**
 * Writes a problem onto a Node.js-style response with the core's one policy
 * ({@link applyProblem}): drops the headers that described the abandoned
 * response, keeps the rest (CORS, HSTS), adds `Accept` to `Vary`, sets the problem's status,
 * headers and body. A response that already started is cut off (destroyed);
 * one that ended, or whose client is gone, is left alone. Returns `false` in
 * both cases, having written nothing.
 *
 * @example
 * ```ts
 * writeProblem(res, renderProblem(err, { method: req.method, url: req.url, headers: req.headers }));
 * ```
 */
export function writeProblem(res: NodeResponseLike, problem: Problem): boolean {
  return applyProblem(new NodeSink(res), problem);
}

class NodeSink implements ProblemSink {
  constructor(private readonly res: NodeResponseLike) {}

  state(): ResponseState {
    const { res } = this;
    if (res.writableEnded === true || res.destroyed === true) return 'gone';
    return res.headersSent ? 'started' : 'open';
  }

  headerNames(): string[] {
    return this.res.getHeaderNames();
  }

  removeHeader(name: string): void {
    this.res.removeHeader(name);
  }

  setHeader(name: string, value: string): void {
    this.res.setHeader(name, value);
  }

  getHeader(name: string): unknown {
    return this.res.getHeader?.(name);
  }

  end(status: number, body: string | null): void {
    this.res.statusCode = status;
    if (body === null) this.res.end();
    else this.res.end(body);
  }

  abort(): void {
    this.res.destroy?.();
  }
}
