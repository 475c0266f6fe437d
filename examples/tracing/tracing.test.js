import { expect, it } from 'vitest';
import { traceOneFailure } from './run.js';

it("follows one failure by one trace ID: the upstream's span, the gateway's span and the problem body", async () => {
  const { status, body, gateway, inventory } = await traceOneFailure();
  expect(status).toBe(502);
  expect(body).toMatchObject({ code: 'UPSTREAM_ERROR_STATUS', requestId: 'trace-example-1' });
  expect(body.traceId).toMatch(/^[0-9a-f]{32}$/);
  expect(gateway.traceId).toBe(body.traceId);
  expect(inventory.traceId).toBe(body.traceId);
  // The inventory's span is a child of the gateway's: the trace context went along with the call.
  expect(inventory.parentSpanId).toBe(gateway.spanId);
  expect(inventory).toMatchObject({ status: 2, attributes: { 'http.response.status_code': 500 } });
  expect(gateway).toMatchObject({
    status: 2,
    attributes: { 'gateway_errors.code': 'UPSTREAM_ERROR_STATUS', 'gateway_errors.upstream': 'inventory', 'error.type': '502', 'http.response.status_code': 502 },
  });
  // The inventory's internals stay there.
  expect(JSON.stringify(body)).not.toMatch(/does not exist|SELECT/);
}, 30_000);
