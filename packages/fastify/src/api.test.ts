import { expect, it } from 'vitest';
import * as adapter from './index.js';

it('pins the public API', () => {
  expect(Object.keys(adapter).sort()).toMatchInlineSnapshot(`
    [
      "default",
      "errorHandler",
      "gatewayErrors",
      "genReqId",
      "notFoundHandler",
      "proxyReplyOptions",
      "requestHop",
    ]
  `);
});
