import { expect, it } from 'vitest';
import * as adapter from './index.js';

it('pins the public API', () => {
  expect(Object.keys(adapter).sort()).toMatchInlineSnapshot(`
    [
      "PROBLEM_SCHEMA",
      "asyncHandler",
      "gatewayErrors",
      "notFound",
      "problemResponses",
      "problemSchema",
      "proxyProblems",
      "requestId",
    ]
  `);
});
