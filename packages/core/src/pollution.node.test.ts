/**
 * Prototype-pollution gadgets: another bug of the application has set a property on
 * `Object.prototype`. None of them may change a production answer. Each gadget runs in its own
 * child process, so the pollution reaches nothing else.
 */
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleCore } from './test-support/bundled-core.js';
import type { BundledCore } from './test-support/bundled-core.js';

const run = promisify(execFile);
let core: BundledCore;
let dir: string;

beforeAll(async () => {
  core = await bundleCore('gateway-errors-pollution-');
  dir = core.dir;
});

afterAll(async () => {
  await core.remove();
});

/**
 * Runs `body` in a child process after `pollute`, with the core imported as `core`; `body` returns
 * what to print. The pollution happens after the core is loaded, as it would at run time.
 */
async function inChild(pollute: string, body: string): Promise<unknown> {
  const file = join(dir, `gadget-${Math.random().toString(36).slice(2)}.mjs`);
  await writeFile(
    file,
    `import * as core from './core.mjs';
${pollute}
const result = await (async () => { ${body} })();
process.stdout.write(JSON.stringify(result));
`,
  );
  const { stdout } = await run(process.execPath, [file], { cwd: dir, timeout: 15_000, env: { ...process.env, NODE_ENV: 'production' } });
  return JSON.parse(stdout) as unknown;
}

const RENDER = `
const render = (error, conventions, request = { method: 'GET', url: '/orders/7' }) => {
  const problem = core.renderProblem(error, request, conventions);
  return { status: problem.status, headers: problem.headers, body: problem.body };
};`;

describe('a polluted Object.prototype changes no production answer', () => {
  it.each([
    ['mode: development (defaults)', `Object.prototype.mode = 'development';`, `return render(new Error('db at 10.0.0.7 refused: SECRET'), undefined);`],
    ['mode: development (defineConventions)', `Object.prototype.mode = 'development';`, `return render(new Error('db at 10.0.0.7 refused: SECRET'), core.defineConventions({ onError: false }));`],
    ['mode: development (raw options)', `Object.prototype.mode = 'development';`, `return render(new Error('db at 10.0.0.7 refused: SECRET'), { onError: false });`],
    ['exposeUpstream', `Object.prototype.exposeUpstream = true;`, `return render(new core.BadGatewayError({ upstream: 'payments-SECRET' }), { onError: false });`],
    ['status and expose', `Object.prototype.status = 404; Object.prototype.expose = true;`, `return render(new Error('connect to 10.0.0.7 failed SECRET'), { onError: false });`],
    ['statusCode', `Object.prototype.statusCode = 409;`, `return render(new Error('SECRET message'), { onError: false });`],
    ['detail', `Object.prototype.detail = 'foreign-SECRET detail';`, `return render(new core.BadGatewayError({ upstream: 'orders' }), { onError: false });`],
    ['detail on a plain error', `Object.prototype.detail = 'foreign-SECRET detail';`, `return render(Object.assign(new Error('x'), { code: 'ECONNREFUSED' }), { onError: false });`],
    ['errors and message', `Object.prototype.errors = [{ detail: 'foreign-SECRET' }]; Object.prototype.status = 400;`, `return render(new Error('SECRET'), { onError: false });`],
    ['isBoom and output', `Object.prototype.isBoom = true; Object.prototype.output = { statusCode: 404, payload: { message: 'SECRET' } };`, `return render(new Error('x'), { onError: false });`],
    ['typeBase and proxyName', `Object.prototype.typeBase = 'https://evil.example/SECRET/'; Object.prototype.proxyName = 'SECRET';`, `return render(Object.assign(new Error('x'), { code: 'ECONNREFUSED' }), { onError: false });`],
    ['a request id header', `Object.prototype['x-request-id'] = 'SECRET-id';`, `return render(new Error('x'), { onError: false }, { method: 'GET', url: '/orders/7', headers: {} });`],
    ['a request id on the request', `Object.prototype.id = 'SECRET-id';`, `return render(new Error('x'), { onError: false }, { method: 'GET', url: '/orders/7' });`],
    ['a mapper result', `Object.prototype.upstream = 'SECRET'; Object.prototype.title = 'SECRET';`, `return render(new Error('x'), { onError: false, exposeUpstream: true, mappers: [() => ({ status: 502 })] });`],
  ])('%s', async (_name, pollute, body) => {
    const answer = (await inChild(pollute, RENDER + body)) as { status: number; headers: Record<string, string>; body: string };
    const text = JSON.stringify(answer);
    expect(text).not.toContain('SECRET');
    expect(text).not.toContain('hunter2');
    expect(JSON.parse(answer.body)).not.toHaveProperty('debug');
    expect(answer.headers['proxy-status'] ?? '').not.toContain('details=');
    expect(answer.status).toBeGreaterThanOrEqual(500);
    expect(answer.headers['content-type']).toBe('application/problem+json; charset=utf-8');
  });

  it('an idempotency key on the prototype does not make a POST retryable', async () => {
    const answer = (await inChild(
      `Object.prototype['idempotency-key'] = 'k';`,
      `${RENDER} return JSON.parse(render(Object.assign(new Error('x'), { code: 'ECONNRESET' }), { onError: false }, { method: 'POST', url: '/x', headers: {} }).body);`,
    )) as { retryable: boolean; status: number };
    expect(answer).toMatchObject({ status: 502, retryable: false });
  });

  it('options and error fields still work when the prototype is polluted', async () => {
    const answer = (await inChild(
      `Object.prototype.mode = 'development'; Object.prototype.status = 404;`,
      `const conventions = core.defineConventions({ mode: 'production', onError: false });
       const own = core.renderProblem(Object.assign(new Error('No such order'), { status: 404 }), { method: 'GET', url: '/x' }, conventions);
       const upstream = core.renderProblem(new core.ServiceUnavailableError({ detail: 'Paused.' }), { method: 'GET', url: '/x' }, conventions);
       return { mode: conventions.mode, own: JSON.parse(own.body), upstream: JSON.parse(upstream.body) };`,
    )) as { mode: string; own: Record<string, unknown>; upstream: Record<string, unknown> };
    expect(answer.mode).toBe('production');
    expect(answer.own).toMatchObject({ status: 404, detail: 'No such order' });
    expect(answer.upstream).toMatchObject({ status: 503, detail: 'Paused.' });
  });
});
