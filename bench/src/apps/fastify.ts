// Fastify 5: the failing route answered five ways, and the happy path bare or with the plugin.
import { randomUUID } from 'node:crypto';
import gatewayErrors, { errorHandler, genReqId } from '@gateway-errors/fastify';
import sensible from '@fastify/sensible';
import Fastify from 'fastify';
import type { FastifyInstance } from 'fastify';
import { ERROR_PATH, floorHeaders, FLOOR_BODY, OK_PATH, upstreamCall } from './shared.js';
import type { RunningApp, Variant } from './shared.js';

// Logging off in every variant (Fastify's default): its default error handler then logs nothing either.
export async function start(variant: Variant, upstreamError: unknown): Promise<RunningApp> {
  const app: FastifyInstance = Fastify(
    variant === 'request-id' || variant === 'request-id-no-hop' ? { genReqId: genReqId() } : variant === 'id-floor' ? { genReqId: () => randomUUID() } : {},
  );
  if (variant === 'id-floor') {
    app.addHook('onRequest', (request, reply, done) => {
      reply.header('x-request-id', request.id);
      done();
    });
  }
  const callOrders = upstreamCall(upstreamError);

  if (variant === 'request-id') await app.register(gatewayErrors);
  if (variant === 'request-id-no-hop') await app.register(gatewayErrors, { hopStorage: false });
  if (variant === 'peer') await app.register(sensible);
  app.get(OK_PATH, async () => ({ ok: true }));

  if (variant === 'peer') {
    // @fastify/sensible: the route turns the failure into a 502, Fastify's default handler answers it.
    app.get(ERROR_PATH, async () => {
      try {
        return await callOrders();
      } catch {
        throw app.httpErrors.badGateway();
      }
    });
  } else {
    app.get(ERROR_PATH, async () => callOrders());
  }

  // The bare error handler: the request-ID hook of the plugin is what the happy path measures.
  if (variant === 'ge-quiet') app.setErrorHandler(errorHandler({ onError: false }));
  if (variant === 'ge') app.setErrorHandler(errorHandler());
  if (variant === 'floor') {
    app.setErrorHandler(function floor(_error, request, reply) {
      // The same request ID gateway-errors answers with: Fastify's own.
      reply.code(502).headers(floorHeaders(request.id)).send(FLOOR_BODY);
    });
  }

  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  return { port: typeof address === 'object' && address !== null ? address.port : 0, close: () => app.close() };
}
