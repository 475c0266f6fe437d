/**
 * What a conformance target is: one framework (and version) wired the way its
 * adapter's README says, started against the fault servers. The targets
 * (`targets.ts`, `nest-target.ts`) and the suites import it; it imports none of them.
 */
import type { ServerResponse } from 'node:http';
import type { Conventions } from '@gateway-errors/core';
import type { Faults } from '@gateway-errors/fault-servers';
import type { RouteAction } from './scenarios.js';

/**
 * A running app of one framework. Besides the routes of the scenarios
 * (`/orders`, `/s/:name`, and `/stale/:name`, which sets
 * `HEADERS_BEFORE_FAILURE` before the action of `name`), every app has
 * `GET /health`, answering 200 at once, `GET /stream`, streaming
 * `failingBody` the framework's own way, and `GET /started`, which writes its
 * head and first chunk itself and leaves the failure to the adapter's error
 * handler ({@link writeBody}).
 */
export interface RunningTarget {
  readonly url: string;
  /** How many connections the app's server holds open. */
  connections(): Promise<number>;
  close(): Promise<void>;
}

/** What a test changes in a target; the scenarios start every target without any. */
export interface StartOptions {
  /**
   * Turn on the logger the framework has in a deployed app: Fastify's pino (onto stdout, through
   * `process.stdout`), Nest's `ConsoleLogger`. Without, neither logs anything of its own. Express and
   * Hono have no logger of their own to turn on.
   */
  readonly logs?: boolean;
  /** Actions of `/s/:name` besides the scenarios' (`actions`). */
  readonly actions?: ReadonlyMap<string, RouteAction>;
  /** What `/stream` and `/started` send, instead of `failingBody`. */
  readonly body?: (faults: Faults) => AsyncGenerator<Uint8Array, void, undefined>;
}

/** One framework (and version) the conformance suite runs against. */
export interface Target {
  readonly name: string;
  start(conventions: Conventions, faults: Faults, options?: StartOptions): Promise<RunningTarget>;
  /** Headers the framework sets itself, left out of cross-adapter comparisons. */
  readonly ownHeaders: readonly string[];
}

/**
 * Writes the head and `chunks` straight onto a Node.js response, so a failure
 * reaches the adapter's error handler after the head went out: every target's `GET /started`.
 */
export async function writeBody(res: ServerResponse, chunks: AsyncIterable<Uint8Array>): Promise<void> {
  res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
  for await (const chunk of chunks) res.write(chunk);
  res.end();
}
