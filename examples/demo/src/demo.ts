/**
 * The whole product in one command: a chaos upstream on 127.0.0.1, the four example gateways
 * (Express, Fastify, NestJS on both platforms, Hono) in front of it, every failure sent through
 * every gateway with an ordinary HTTP client, and one table of what each client got back.
 *
 *   pnpm demo           run once, print the table, exit non-zero if any cell is unexpected
 *   pnpm demo --serve   keep everything running and print URLs to try with curl or a browser
 */
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { performance } from 'node:perf_hooks';
import { organisationConventions } from '@gateway-errors-examples/conventions';
import { startChaos } from '@gateway-errors-examples/chaos-upstream';
import { createApp as createExpress } from '@gateway-errors-examples/express-gateway';
import { createApp as createFastify } from '@gateway-errors-examples/fastify-gateway';
import { createApp as createHono } from '@gateway-errors-examples/hono-gateway';
import { createApp as createNest } from '@gateway-errors-examples/nest-gateway';
import type { ErrorReport } from '@gateway-errors/core';
import { selfSignedCertificate } from '@gateway-errors/fault-servers';
import { serve } from '@hono/node-server';

interface Scenario {
  readonly name: string;
  readonly method: 'GET' | 'POST';
  readonly path: string;
  readonly expected: number;
}

const SCENARIOS: readonly Scenario[] = [
  { name: 'ok', method: 'GET', path: '/orders/ok', expected: 200 },
  { name: 'refused', method: 'GET', path: '/inventory/sku-1', expected: 502 },
  { name: 'hang (POST)', method: 'POST', path: '/orders/hang', expected: 504 },
  { name: 'reset mid-response', method: 'GET', path: '/orders/reset', expected: 502 },
  { name: 'garbage', method: 'GET', path: '/orders/garbage', expected: 502 },
  { name: 'truncated body', method: 'GET', path: '/orders/truncated', expected: 502 },
  { name: 'upstream 500', method: 'GET', path: '/orders/500', expected: 502 },
  { name: 'upstream 503', method: 'GET', path: '/orders/503', expected: 503 },
  { name: 'upstream 429 (POST)', method: 'POST', path: '/orders/429', expected: 503 },
  { name: 'slow, then ok', method: 'GET', path: '/orders/slow', expected: 200 },
  { name: 'self-signed TLS', method: 'GET', path: '/payments/charge-1', expected: 502 },
];

interface Gateway {
  readonly name: string;
  readonly url: string;
  close(): Promise<unknown>;
}

interface Cell {
  readonly status: number;
  readonly code: string;
  readonly retryable: string;
  readonly retryAfter: string;
  readonly echoed: boolean;
  readonly ms: number;
  readonly ok: boolean;
}

const serveMode = process.argv.includes('--serve');
const colour = process.stdout.isTTY === true && process.env['NO_COLOR'] === undefined && process.env['TERM'] !== 'dumb';
const paint = (code: number) => (text: string) => (colour ? `\u001b[${code}m${text}\u001b[0m` : text);
const green = paint(32);
const red = paint(31);
const yellow = paint(33);
const dim = paint(2);
const bold = paint(1);

async function listening(server: Server): Promise<string> {
  if (!server.listening) await new Promise((resolve) => server.once('listening', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function startGateways(upstreams: Record<string, string>, reports: ErrorReport[]): Promise<Gateway[]> {
  const conventions = organisationConventions({ mode: 'production', onError: (report) => void reports.push(report) });
  const options = { conventions, upstreams, timeoutMs: 1000 };

  const express = createExpress(options).listen(0, '127.0.0.1');
  const fastify = await createFastify(options);
  await fastify.listen({ host: '127.0.0.1', port: 0 });
  const hono = serve({ fetch: createHono(options).fetch, hostname: '127.0.0.1', port: 0 }) as Server;
  const nestExpress = await createNest({ ...options, platform: 'express', logger: false });
  await nestExpress.listen(0, '127.0.0.1');
  const nestFastify = await createNest({ ...options, platform: 'fastify', logger: false });
  await nestFastify.listen(0, '127.0.0.1');

  const closeServer = (server: Server) =>
    new Promise((resolve) => {
      server.closeAllConnections();
      server.close(resolve);
    });
  return [
    { name: 'Express', url: await listening(express), close: () => closeServer(express) },
    { name: 'Fastify', url: await listening(fastify.server), close: () => fastify.close() },
    { name: 'NestJS (express)', url: await listening(nestExpress.getHttpServer() as Server), close: () => nestExpress.close() },
    { name: 'NestJS (fastify)', url: await listening(nestFastify.getHttpServer() as Server), close: () => nestFastify.close() },
    { name: 'Hono', url: await listening(hono), close: () => closeServer(hono) },
  ];
}

async function send(gateway: Gateway, scenario: Scenario, index: number): Promise<Cell> {
  const id = `demo-${index + 1}-${gateway.name.replace(/\W+/g, '-').toLowerCase()}`;
  const started = performance.now();
  const response = await fetch(gateway.url + scenario.path, {
    method: scenario.method,
    headers: { 'x-request-id': id, 'content-type': 'application/json' },
    body: scenario.method === 'POST' ? '{"quantity":1}' : null,
    signal: AbortSignal.timeout(5000),
  });
  const text = await response.text();
  const ms = Math.round(performance.now() - started);
  let code = '';
  let retryable = '';
  if ((response.headers.get('content-type') ?? '').startsWith('application/problem+json')) {
    const body = JSON.parse(text) as { code?: string; retryable?: boolean };
    code = body.code ?? '';
    retryable = body.retryable === undefined ? '' : body.retryable ? 'yes' : 'no';
  }
  return {
    status: response.status,
    code,
    retryable,
    retryAfter: response.headers.get('retry-after') ?? '',
    echoed: response.headers.get('x-request-id') === id,
    ms,
    ok: response.status === scenario.expected && response.headers.get('x-request-id') === id,
  };
}

function table(rows: string[][], header: string[]): string {
  // eslint-disable-next-line no-control-regex -- colour codes take no room on screen
  const width = (text: string) => text.replace(/\u001b\[\d+m/g, '').length;
  const widths = header.map((title, column) => Math.max(width(title), ...rows.map((row) => width(row[column] ?? ''))));
  const line = (cells: string[]) => cells.map((cell, column) => cell + ' '.repeat(widths[column]! - width(cell))).join('  ');
  return [bold(line(header)), dim(widths.map((w) => '─'.repeat(w)).join('  ')), ...rows.map(line)].join('\n');
}

function sideBySide(left: string, right: string, titles: [string, string]): string {
  const columns = Math.max(40, Math.floor(((process.stdout.columns ?? 160) - 4) / 2));
  const fit = (text: string) => (text.length > columns ? `${text.slice(0, columns - 1)}…` : text.padEnd(columns));
  const a = left.split('\n');
  const b = right.split('\n');
  const out = [bold(`${fit(titles[0])}    ${titles[1]}`)];
  for (let i = 0; i < Math.max(a.length, b.length); i++) out.push(`${fit(a[i] ?? '')}    ${(b[i] ?? '').slice(0, columns)}`);
  return out.join('\n');
}

async function main(): Promise<number> {
  const started = performance.now();
  const chaos = await startChaos(selfSignedCertificate());
  const reports: ErrorReport[] = [];
  const gateways = await startGateways(chaos.upstreams, reports);
  const development = createExpress({
    conventions: organisationConventions({ mode: 'development', onError: false }),
    upstreams: chaos.upstreams,
  }).listen(0, '127.0.0.1');
  const developmentUrl = await listening(development);

  const stop = async () => {
    await Promise.all([...gateways.map((gateway) => gateway.close()), chaos.close()]);
    development.closeAllConnections();
    await new Promise((resolve) => development.close(resolve));
  };

  if (serveMode) {
    console.log(bold('Chaos upstream'));
    console.log(`  orders     ${chaos.upstreams.orders}/{ok,hang,reset,garbage,truncated,500,503,429,slow}`);
    console.log(`  inventory  ${chaos.upstreams.inventory} (refused)`);
    console.log(`  payments   ${chaos.upstreams.payments} (self-signed certificate)`);
    console.log(bold('\nGateways (production)'));
    for (const gateway of gateways) console.log(`  ${gateway.name.padEnd(18)} ${gateway.url}`);
    console.log(`  ${'Express (dev mode)'.padEnd(18)} ${developmentUrl}`);
    console.log(bold('\nTry'));
    console.log(`  curl -i ${gateways[0]!.url}/orders/500`);
    console.log(`  curl -i -X POST ${gateways[1]!.url}/orders/hang`);
    console.log(`  curl -i -H 'accept: text/html' ${gateways[4]!.url}/inventory/sku-1`);
    console.log(`  curl -i ${developmentUrl}/orders/500`);
    console.log(dim('\nCtrl+C stops everything.'));
    await new Promise<void>((resolve) => process.once('SIGINT', resolve));
    await stop();
    return 0;
  }

  // Every gateway at once for each scenario: the slow ones (hang, slow) cost their time once.
  const results: Cell[][] = [];
  for (const [index, scenario] of SCENARIOS.entries()) {
    results.push(await Promise.all(gateways.map((gateway) => send(gateway, scenario, index))));
  }

  const rows: string[][] = [];
  const failures: string[] = [];
  for (const [index, scenario] of SCENARIOS.entries()) {
    for (const [column, gateway] of gateways.entries()) {
      const cell = results[index]![column]!;
      if (!cell.ok) failures.push(`${scenario.name} × ${gateway.name}: got ${cell.status}${cell.echoed ? '' : ' without the request ID'}, expected ${scenario.expected}`);
      const status = String(cell.status);
      rows.push([
        column === 0 ? bold(scenario.name) : '',
        gateway.name,
        cell.ok ? (cell.status < 400 ? green(status) : yellow(status)) : red(status),
        cell.code,
        cell.retryable,
        cell.retryAfter,
        cell.echoed ? 'yes' : red('no'),
        `${cell.ms} ms`,
        cell.ok ? green('✓') : red(`✗ expected ${scenario.expected}`),
      ]);
    }
  }
  console.log(table(rows, ['scenario', 'gateway', 'status', 'code', 'retryable', 'Retry-After', 'request ID echoed', 'time', '']));

  const failing = SCENARIOS.filter((scenario) => scenario.expected >= 500).length * gateways.length;
  const reported = reports.filter((report) => report.classification.status >= 500).length;

  const production = await fetch(`${gateways[0]!.url}/orders/500`, { headers: { 'x-request-id': 'demo-side-by-side' } });
  const debugging = await fetch(`${developmentUrl}/orders/500`, { headers: { 'x-request-id': 'demo-side-by-side' } });
  console.log(`\n${bold('The same upstream 500, as production and development answer it')} ${dim('(the upstream\'s body held a SQL error, a password and a host)')}\n`);
  console.log(
    sideBySide(JSON.stringify(await production.json(), null, 2), JSON.stringify(await debugging.json(), null, 2), [
      `production — ${production.status} ${production.headers.get('content-type')}`,
      `development — ${debugging.status}`,
    ]),
  );

  console.log(`\n${reported} failures reported to the logging hook with their request IDs (${failing} expected).`);
  await stop();
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  if (failures.length > 0 || reported !== failing) {
    if (failures.length > 0) console.error(red(`\n${failures.length} cell(s) did not get the expected answer:`));
    for (const failure of failures) console.error(red(`  ${failure}`));
    if (reported !== failing) console.error(red(`  ${reported} failures were reported to onError, ${failing} expected`));
    return 1;
  }
  console.log(green(`\nEvery cell as expected: ${SCENARIOS.length} scenarios × ${gateways.length} gateways in ${seconds} s.`));
  return 0;
}

if (!serveMode) {
  // A demo that hangs is a failed demo: stop it, and say so.
  setTimeout(() => {
    console.error(red('The demo did not finish within 60 s.'));
    process.exit(2);
  }, 60_000).unref();
}
main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(red('The demo failed to run:'), error);
    process.exitCode = 1;
  },
);
