import { expect, it } from 'vitest';
import * as adapter from './index.js';

it('pins the public API', () => {
  expect(Object.keys(adapter).sort()).toMatchInlineSnapshot(`
    [
      "PROBLEM_SCHEMA",
      "gatewayErrors",
      "notFound",
      "problemResponses",
      "problemSchema",
      "proxyProblems",
      "requestId",
    ]
  `);
});
