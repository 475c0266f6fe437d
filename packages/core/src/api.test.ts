import { expect, it } from 'vitest';
import * as core from './index.js';
import * as upstream from './upstream.js';

it('pins the public API of the main entry', () => {
  expect(Object.keys(core).sort()).toMatchInlineSnapshot(`
    [
      "BadGatewayError",
      "DEFAULT_REQUEST_ID_PATTERN",
      "GatewayTimeoutError",
      "PROBLEM_SCHEMA",
      "REQUEST_ID_KEY",
      "ROUTE_NOT_FOUND",
      "STALE_HEADERS",
      "ServiceUnavailableError",
      "UpstreamError",
      "applyProblem",
      "classify",
      "currentHop",
      "defineConventions",
      "describeError",
      "describeForLog",
      "forwardHeaders",
      "hopOf",
      "isUpstreamError",
      "isValidRequestId",
      "logToConsole",
      "logWith",
      "maskSecrets",
      "parseRetryAfter",
      "problemResponse",
      "problemResponses",
      "problemSchema",
      "renderProblem",
      "resolveRequestId",
      "sharedHopStore",
      "toLogEntry",
      "upstreamRequestId",
      "writeProblem",
    ]
  `);
});

it('pins the public API of ./upstream', () => {
  expect(Object.keys(upstream).sort()).toMatchInlineSnapshot(`
    [
      "fetchUpstream",
      "withUpstream",
    ]
  `);
});

it('pins the public API of ./node', async () => {
  expect(Object.keys(await import('./node.js')).sort()).toMatchInlineSnapshot(`
    [
      "runWithHop",
    ]
  `);
});
