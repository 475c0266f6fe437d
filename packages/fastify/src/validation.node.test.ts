import { defineConventions } from '@gateway-errors/core';
import Fastify from 'fastify';
import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import gatewayErrors from './index.js';

const apps: FastifyInstance[] = [];

afterEach(async () => {
  await Promise.all(apps.splice(0).map((app) => app.close()));
});

/** A route whose schema lets any member name through, so the request chooses the validation error's `instancePath`. */
async function build(): Promise<FastifyInstance> {
  const app = Fastify({ bodyLimit: 8 * 1024 * 1024, ajv: { customOptions: { allErrors: true } } });
  apps.push(app);
  await app.register(gatewayErrors, defineConventions({ mode: 'production', onError: false }));
  app.post(
    '/tags',
    { schema: { body: { type: 'object', additionalProperties: { type: 'string' } } } },
    async () => ({ ok: true }),
  );
  return app;
}

describe('Fastify validation errors carry request text only within caps', () => {
  it('a 1 MB member name becomes a capped pointer and detail', async () => {
    const app = await build();
    const name = 'k'.repeat(1_000_000);
    const response = await app.inject({ method: 'POST', url: '/tags', headers: { 'content-type': 'application/json' }, payload: `{"${name}": {}}` });
    expect(response.statusCode).toBe(400);
    const body = response.json<{ errors: { pointer: string; detail: string }[] }>();
    expect(body.errors).toHaveLength(1);
    expect(body.errors[0]!.pointer.length).toBeLessThanOrEqual(502);
    expect(body.errors[0]!.detail.length).toBeLessThanOrEqual(1001);
    expect(response.body.length).toBeLessThan(10_000);
  });

  it('many such members make at most 100 field errors', async () => {
    const app = await build();
    const members = Array.from({ length: 300 }, (_, i) => `"${String(i).padStart(3, '0')}${'k'.repeat(20_000)}": {}`);
    const response = await app.inject({ method: 'POST', url: '/tags', headers: { 'content-type': 'application/json' }, payload: `{${members.join(',')}}` });
    expect(response.statusCode).toBe(400);
    const body = response.json<{ errors: { pointer: string }[] }>();
    expect(body.errors.length).toBeLessThanOrEqual(100);
    expect(response.body.length).toBeLessThan(200_000);
  });
});
