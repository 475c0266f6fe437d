import { expect, it } from 'vitest';
import * as adapter from './index.js';

it('pins the public API', () => {
  expect(Object.keys(adapter).sort()).toMatchInlineSnapshot(`
    [
      "PROBLEM_SCHEMA",
      "default",
      "errorHandler",
      "gatewayErrors",
      "genReqId",
      "notFoundHandler",
      "problemResponseSchemas",
      "problemResponses",
      "problemSchema",
      "proxyReplyOptions",
      "requestHop",
    ]
  `);
});
