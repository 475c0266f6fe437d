/**
 * The whole product in one command: a chaos upstream on 127.0.0.1 and, for each proxy stack (Express
 * with http-proxy-middleware, Fastify with @fastify/http-proxy, Hono with `proxy()`, NestJS with
 * @nestjs/axios on platform-express and platform-fastify), two gateways in front of it: the example
 * gateway, and its bare twin — the same proxy library with the same deadline, without gateway-errors.
 * Every failure goes through both with `fetch`, and one table shows what a client gets from each; a
 * second shows how a client with `fetchWithRetry` fares against the Express gateway, as a GET and as a
 * POST; a third shows what each example gateway counted, scraped from its `/metrics`. Last, one failure
 * up close: the upstream's 500 with a SQL error, a password and a host in its body, what the bare twin
 * passes on, what production and development answer, and the log record the gateway writes for it.
 *
 *   pnpm demo           run once, print the table, exit non-zero if any "with gateway-errors" cell is unexpected
 *   pnpm demo --serve   keep everything running and print URLs to try with curl or a browser
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { conventionsWithMetrics, SERVICES } from '@gateway-errors-examples/conventions';
import { startChaos } from '@gateway-errors-examples/chaos-upstream';
import { createApp as createExpress } from '@gateway-errors-examples/express-gateway';
import { createApp as createFastify } from '@gateway-errors-examples/fastify-gateway';
import { createApp as createHono } from '@gateway-errors-examples/hono-gateway';
import { createApp as createNest } from '@gateway-errors-examples/nest-gateway';
import { decideRetry, fetchWithRetry, parseProblem, retryAfterMs } from '@gateway-errors/client';
import type { RetryReason } from '@gateway-errors/client';
import { maskSecrets, toLogEntry } from '@gateway-errors/core';
import type { ErrorReport } from '@gateway-errors/core';
import { selfSignedCertificate } from '@gateway-errors/fault-servers';
import { serve } from '@hono/node-server';
import { bareExpress, bareFastify, bareHono, bareNest, nestServer } from './bare.js';
import { bold, dim, green, heading, readableJson, red, sideBySide, table, wrap, wrapAll, yellow } from './terminal.js';

/** The deadline of every proxied call, with and without gateway-errors. */
const DEADLINE_MS = 1000;
/** The whole run, start-up included, stops by itself within this. */
const RUN_LIMIT_MS = 45_000;

/**
 * The retrying client's limits: small waits keep the demo quick, a `Retry-After` above 1 s is given up
 * on rather than waited for, and the budget stops a request that times out again and again.
 */
const RETRY = { attempts: 3, baseDelayMs: 50, maxRetryAfterMs: 1000, budgetMs: 1500 } as const;

/** What a "with gateway-errors" cell must show. */
interface Expected {
  readonly status: number;
  readonly code?: string;
  readonly retryAfter?: string;
  /** A response cut off after its head went out is right too (the upstream failed mid-body). */
  readonly orCut?: true;
}

interface Scenario {
  readonly name: string;
  readonly what: string;
  readonly method: 'GET' | 'POST';
  readonly path: string;
  /** Whether the client sends a request ID. */
  readonly sendsId: boolean;
  readonly expected: Expected;
}

const SCENARIOS: readonly Scenario[] = [
  { name: 'ok', what: 'the upstream answers 200 and echoes the request ID it received', method: 'GET', path: '/orders/ok', sendsId: true, expected: { status: 200 } },
  { name: 'ok, no request ID sent', what: 'the gateway makes one: the upstream and the client must both get it', method: 'GET', path: '/orders/ok', sendsId: false, expected: { status: 200 } },
  { name: 'refused', what: 'nobody listens on the inventory port', method: 'GET', path: '/inventory/sku-1', sendsId: true, expected: { status: 502, code: 'UPSTREAM_UNREACHABLE' } },
  { name: 'reset', what: 'the upstream resets the connection without answering', method: 'GET', path: '/orders/reset', sendsId: true, expected: { status: 502, code: 'UPSTREAM_CONNECTION_LOST' } },
  { name: 'hang past the deadline (POST)', what: `the upstream never answers; the deadline is ${DEADLINE_MS} ms`, method: 'POST', path: '/orders/hang', sendsId: true, expected: { status: 504, code: 'UPSTREAM_TIMEOUT' } },
  { name: 'garbage', what: 'the upstream answers bytes that are not HTTP', method: 'GET', path: '/orders/garbage', sendsId: true, expected: { status: 502, code: 'UPSTREAM_BAD_RESPONSE' } },
  { name: 'self-signed TLS', what: 'payments presents a self-signed certificate', method: 'GET', path: '/payments/charge-1', sendsId: true, expected: { status: 502, code: 'UPSTREAM_TLS_FAILURE' } },
  { name: 'upstream 500', what: 'its body holds a SQL error, a password and a host', method: 'GET', path: '/orders/500', sendsId: true, expected: { status: 502, code: 'UPSTREAM_ERROR_STATUS' } },
  { name: 'upstream 503, Retry-After: 7', what: 'the upstream is overloaded and says when to come back', method: 'GET', path: '/orders/503', sendsId: true, expected: { status: 503, code: 'UPSTREAM_UNAVAILABLE', retryAfter: '7' } },
  { name: 'reset mid-body', what: 'the head and half the body, then a reset: a streaming proxy cuts the response, a buffering one answers 502', method: 'GET', path: '/orders/cut', sendsId: true, expected: { status: 502, code: 'UPSTREAM_CONNECTION_LOST', orCut: true } },
];

/** What must never reach a client in a "with gateway-errors" answer: the upstream's secrets and addresses. */
const SECRETS = ['hunter2', 'db-7.internal', '127.0.0.1'] as const;

interface App {
  readonly url: string;
  close(): Promise<unknown>;
}

interface Stack {
  readonly name: string;
  readonly proxy: string;
  readonly bare: App;
  readonly gateway: App;
}

interface Answer {
  /** 0 when no head came back. */
  readonly status: number;
  /** The connection ended before the whole answer came. */
  readonly cut: boolean;
  readonly contentType: string;
  readonly body: string;
  readonly code: string;
  readonly proxyError: string;
  readonly retryAfter: string;
  readonly requestId: string | null;
  /** The request ID the upstream says it received (the `ok` route echoes it in its body). */
  readonly upstreamGot: string | null;
  readonly ms: number;
}

const serveMode = process.argv.includes('--serve');

async function listening(server: Server): Promise<string> {
  if (!server.listening) await new Promise((resolve) => server.once('listening', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function closeServer(server: Server): Promise<unknown> {
  return new Promise((resolve) => {
    server.closeAllConnections();
    server.close(resolve);
  });
}

async function nodeApp(server: Server): Promise<App> {
  return { url: await listening(server), close: () => closeServer(server) };
}

async function startStacks(upstreams: Record<string, string>, reports: ErrorReport[]): Promise<Stack[]> {
  // Conventions and registry, one pair per gateway: each counts in its own /metrics.
  const options = () => ({ ...conventionsWithMetrics({ mode: 'production', upstreamTimeoutMs: DEADLINE_MS, onError: (report) => void reports.push(report) }), upstreams });
  const bareOptions = { upstreams, services: SERVICES, timeoutMs: DEADLINE_MS };

  const fastify = await createFastify(options());
  await fastify.listen({ host: '127.0.0.1', port: 0 });
  const fastifyBare = await bareFastify(bareOptions);
  await fastifyBare.listen({ host: '127.0.0.1', port: 0 });
  const nest = async (platform: 'express' | 'fastify', bare: boolean): Promise<App> => {
    const app = bare ? await bareNest({ ...bareOptions, platform }) : await createNest({ ...options(), platform, logger: false });
    await app.listen(0, '127.0.0.1');
    return { url: await listening(nestServer(app)), close: () => app.close() };
  };

  return [
    {
      name: 'Express',
      proxy: 'http-proxy-middleware 3',
      bare: await nodeApp(bareExpress(bareOptions).listen(0, '127.0.0.1')),
      gateway: await nodeApp(createExpress(options()).listen(0, '127.0.0.1')),
    },
    {
      name: 'Fastify',
      proxy: '@fastify/http-proxy',
      bare: { url: await listening(fastifyBare.server), close: () => fastifyBare.close() },
      gateway: { url: await listening(fastify.server), close: () => fastify.close() },
    },
    {
      name: 'Hono',
      proxy: 'hono/proxy',
      bare: await nodeApp(serve({ fetch: bareHono(bareOptions).fetch, hostname: '127.0.0.1', port: 0 }) as Server),
      gateway: await nodeApp(serve({ fetch: createHono(options()).fetch, hostname: '127.0.0.1', port: 0 }) as Server),
    },
    { name: 'NestJS (express)', proxy: '@nestjs/axios', bare: await nest('express', true), gateway: await nest('express', false) },
    { name: 'NestJS (fastify)', proxy: '@nestjs/axios', bare: await nest('fastify', true), gateway: await nest('fastify', false) },
  ];
}

async function send(app: App, scenario: Scenario, id: string | undefined): Promise<Answer> {
  const started = performance.now();
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (id !== undefined) headers['x-request-id'] = id;
  let response: Response;
  try {
    response = await fetch(app.url + scenario.path, {
      method: scenario.method,
      headers,
      body: scenario.method === 'POST' ? '{"quantity":1}' : null,
      signal: AbortSignal.timeout(5000),
    });
  } catch {
    return { status: 0, cut: true, contentType: '', body: '', code: '', proxyError: '', retryAfter: '', requestId: null, upstreamGot: null, ms: Math.round(performance.now() - started) };
  }
  let body = '';
  let cut = false;
  try {
    body = await response.text();
  } catch {
    cut = true;
  }
  const ms = Math.round(performance.now() - started);
  const contentType = response.headers.get('content-type') ?? '';
  const json = parseJson(body);
  const problem = contentType.startsWith('application/problem+json') ? json : undefined;
  const received = json?.['receivedRequestId'];
  return {
    status: response.status,
    cut,
    contentType,
    body,
    code: typeof problem?.['code'] === 'string' ? problem['code'] : '',
    proxyError: /error=([\w-]+)/.exec(response.headers.get('proxy-status') ?? '')?.[1] ?? '',
    retryAfter: response.headers.get('retry-after') ?? '',
    requestId: response.headers.get('x-request-id'),
    upstreamGot: typeof received === 'string' ? received : null,
    ms,
  };
}

function parseJson(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** Why a "with gateway-errors" answer is wrong, or `undefined` when it is what it must be. */
function verdict({ scenario, answer, id, reported }: { scenario: Scenario; answer: Answer; id: string | undefined; reported: ReadonlySet<string> }): string | undefined {
  const { expected } = scenario;
  const wanted = `${expected.status}${expected.code === undefined ? '' : ` ${expected.code}`}${expected.orCut === true ? ' (or a cut-off response)' : ''}`;
  if (answer.cut) {
    if (expected.orCut !== true) return `the response was cut off, expected ${wanted}`;
  } else {
    if (answer.status !== expected.status || (expected.code !== undefined && answer.code !== expected.code)) {
      return `got ${answer.status}${answer.code === '' ? '' : ` ${answer.code}`}, expected ${wanted}`;
    }
    if (expected.retryAfter !== undefined && answer.retryAfter !== expected.retryAfter) return `Retry-After ${answer.retryAfter || 'missing'}, expected ${expected.retryAfter}`;
    const leak = SECRETS.find((secret) => answer.body.includes(secret));
    if (leak !== undefined) return `the body shows "${leak}"`;
  }
  if (answer.status === 0) return undefined;
  if (id !== undefined && answer.requestId !== id) return `request ID ${answer.requestId ?? 'missing'}, expected ${id}`;
  if (answer.requestId === null) return 'no request ID on the answer';
  if (expected.status < 400 && answer.upstreamGot !== answer.requestId) return `the upstream got request ID ${answer.upstreamGot ?? 'none'}, the client ${answer.requestId}`;
  if (!answer.cut && answer.status >= 500 && !reported.has(answer.requestId)) return 'not reported to the logging hook with its request ID';
  return undefined;
}

/** One sample of the Prometheus text format. */
interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

/** The samples of a Prometheus text exposition (comments skipped, label values unescaped). */
function samples(text: string): Sample[] {
  const found: Sample[] = [];
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (match === null) continue;
    const labels: Record<string, string> = {};
    for (const [, name, value] of (match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) {
      labels[name!] = value!.replace(/\\(.)/g, (_, escaped: string) => (escaped === 'n' ? '\n' : escaped));
    }
    found.push({ name: match[1]!, labels, value: Number(match[3]) });
  }
  return found;
}

const FAILURES_TOTAL = 'gateway_errors_upstream_failures_total';
const REQUESTS_TOTAL = 'http_requests_total';

/**
 * Each gateway's /metrics as one table: a row per failure series (code, status, upstream) in the order of
 * the scenarios, a column per gateway, then the 5xx among all answers (http_requests_total): the error
 * ratio the alert rules watch. A counter that does not match the 502/503/504 answers of its gateway is
 * a failure of the demo; an upstream failure after the head went out (the client got a cut response) may
 * be counted or not.
 */
async function counters(stacks: readonly Stack[], answers: readonly (readonly Answer[])[]): Promise<{ table: string; notes: string[]; failures: string[] }> {
  const scraped = await Promise.all(stacks.map(async (stack) => samples(await (await fetch(`${stack.gateway.url}/metrics`)).text())));
  const failuresOf = (list: Sample[]) => list.filter((sample) => sample.name === FAILURES_TOTAL);
  const keyOf = ({ labels }: Sample) => [labels['code'] ?? '', labels['status'] ?? '', labels['upstream'] ?? ''].join(' ');
  const rank = (key: string) => {
    const index = SCENARIOS.findIndex((scenario) => key.startsWith(`${scenario.expected.code} `));
    return index === -1 ? SCENARIOS.length : index;
  };
  const keys = [...new Set(scraped.flatMap((list) => failuresOf(list).map(keyOf)))].sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
  const rows = keys.map((key) => [
    ...key.split(' '),
    ...scraped.map((list) => {
      const count = failuresOf(list).find((sample) => keyOf(sample) === key)?.value ?? 0;
      return count === 0 ? dim('0') : String(count);
    }),
  ]);

  const failures: string[] = [];
  const cutCounted: string[] = [];
  const unfinished: string[] = [];
  const totals = stacks.map((stack, column) => {
    const counted = failuresOf(scraped[column]!).reduce((sum, sample) => sum + sample.value, 0);
    const mine = answers.map((row) => row[column]!);
    const answered = mine.filter((answer) => !answer.cut && [502, 503, 504].includes(answer.status)).length;
    const cut = mine.filter((answer) => answer.cut && answer.status !== 0).length;
    if (counted < answered || counted > answered + cut) {
      failures.push(`${stack.name}: ${FAILURES_TOTAL} counted ${counted}, the gateway answered ${answered} upstream failures`);
    }
    if (counted > answered) cutCounted.push(stack.name);
    const requests = scraped[column]!.filter((sample) => sample.name === REQUESTS_TOTAL);
    const all = requests.reduce((sum, sample) => sum + sample.value, 0);
    const errors = requests.filter((sample) => Number(sample.labels['status']) >= 500).reduce((sum, sample) => sum + sample.value, 0);
    if (all < mine.length) unfinished.push(stack.name);
    return { counted, ratio: `${errors}/${all}` };
  });
  rows.push([bold('total'), '', '', ...totals.map(({ counted }) => bold(String(counted)))]);
  rows.push([REQUESTS_TOTAL, '5xx/all', '', ...totals.map(({ ratio }) => ratio)]);

  const notes = [`Counts of ${FAILURES_TOTAL}{code,status,upstream}; 5xx/all: the 5xx among all answers in ${REQUESTS_TOTAL}{status}, the error ratio the alert rules watch.`];
  if (cutCounted.length > 0) notes.push(`${list(cutCounted)} also counted the upstream failure behind the response cut mid-body (its 200 head had gone out).`);
  if (unfinished.length > 0) notes.push(`${list(unfinished)} count an answer when it finishes: the response cut mid-body is not among them.`);
  return { table: table(rows, ['code', 'status', 'upstream', ...stacks.map((stack) => stack.name)]), notes, failures };
}

function list(names: readonly string[]): string {
  return names.length < 2 ? names.join('') : `${names.slice(0, -1).join(', ')} and ${names.at(-1)}`;
}

/** The request-ID column: kept (the client's came back), made (none sent, one came back), or none. */
function idCell(answer: Answer, id: string | undefined, bare: boolean): string {
  if (answer.requestId === null) return bare ? dim('none') : red('none');
  if (id === undefined) return answer.upstreamGot === answer.requestId ? 'made, fwd' : 'made';
  return answer.requestId === id ? (answer.upstreamGot === id ? 'kept, fwd' : 'kept') : red('changed');
}

/** A content type in a word: `json`, `text`, `html`; the media type itself for any other. */
function shortType(contentType: string): string {
  const type = contentType.split(';')[0]!.trim();
  if (type === '') return 'no type';
  return { 'application/json': 'json', 'text/plain': 'text', 'text/html': 'html' }[type] ?? type;
}

/**
 * A body on one line, at most `max` characters: its start, or when it shows one of the secrets,
 * the stretch around the first of them, so that the cell shows what leaked.
 */
function excerpt(text: string, max = 32): string {
  const line = text.replace(/\s+/g, ' ').trim();
  if (line === '') return '(empty)';
  if (line.length <= max) return line;
  const secret = SECRETS.map((text) => ({ text, at: line.indexOf(text) }))
    .filter(({ at }) => at !== -1)
    .sort((a, b) => a.at - b.at)[0];
  if (secret === undefined || secret.at + secret.text.length < max) return `${line.slice(0, max - 1)}…`;
  const start = secret.at - 12;
  if (line.length - start < max) return `…${line.slice(line.length - max + 1)}`;
  return `…${line.slice(start, start + max - 2)}…`;
}

function bareCell(answer: Answer): string {
  if (answer.status === 0) return red('no answer');
  const head = `${answer.status} ${shortType(answer.contentType)}`;
  if (answer.cut) return `${head}, ${red('cut mid-body')}`;
  const leaks = SECRETS.some((secret) => answer.body.includes(secret));
  const text = `${head} ${dim(excerpt(answer.body))}`;
  return leaks ? `${text} ${red('leak')}` : text;
}

function gatewayCell(answer: Answer, ok: boolean): string {
  const paintStatus = ok ? (answer.status < 400 ? green : yellow) : red;
  if (answer.status === 0) return paintStatus('no answer');
  if (answer.cut) return paintStatus(`${answer.status}, cut mid-body`);
  return `${paintStatus(String(answer.status))} ${answer.code === '' ? dim(shortType(answer.contentType)) : answer.code}`;
}

/** One request through `fetchWithRetry`: the attempts it made, its waits, and why it stopped. */
interface Retried {
  readonly attempts: number;
  readonly waits: readonly string[];
  /** 0 when the last attempt got no answer. */
  readonly status: number;
  readonly cut: boolean;
  readonly stop: RetryReason | undefined;
  /** The last answer's `Retry-After`, in ms. */
  readonly retryAfterMs: number | undefined;
}

async function sendWithRetry(url: string, path: string, method: 'GET' | 'POST'): Promise<Retried> {
  const started = performance.now();
  const waits: string[] = [];
  let attempts = 1;
  const elapsed = () => Math.round(performance.now() - started);
  try {
    const response = await fetchWithRetry(url + path, {
      method,
      headers: { 'content-type': 'application/json' },
      body: method === 'POST' ? '{"quantity":1}' : null,
      signal: AbortSignal.timeout(5000),
      retry: {
        ...RETRY,
        onRetry: ({ attempt, delayMs, response: answer }) => {
          attempts = attempt + 1;
          waits.push(answer?.headers.has('retry-after') === true ? `Retry-After ${inSeconds(delayMs)}` : `${delayMs} ms`);
        },
      },
    });
    const retryAfter = response.headers.get('retry-after');
    const date = response.headers.get('date');
    const asked = retryAfterMs(retryAfter, date);
    if (response.status < 400) {
      const cut = await response.text().then(
        () => false,
        () => true,
      );
      return { attempts, waits, status: response.status, cut, stop: 'success', retryAfterMs: asked };
    }
    // The same decision fetchWithRetry made on its last answer, to tell why it stopped there.
    const problem = await parseProblem(response);
    const { reason } = decideRetry(
      { method, attempt: attempts, status: response.status, problem, retryAfter, date, elapsedMs: elapsed() },
      RETRY,
    );
    return { attempts, waits, status: response.status, cut: false, stop: reason, retryAfterMs: asked };
  } catch {
    return { attempts, waits, status: 0, cut: true, stop: undefined, retryAfterMs: undefined };
  }
}

function inSeconds(ms: number): string {
  return `${ms / 1000} s`;
}

/** Why the client stopped, in a few words; nothing for a success. */
const STOPS: Record<RetryReason, string> = {
  success: '',
  'verdict-not-retryable': 'not retried: verdict',
  'not-idempotent': 'not retried: POST',
  'status-not-retried': 'not retried: status',
  'client-error': 'not retried: 4xx',
  'attempts-spent': 'attempts spent',
  'budget-spent': `budget (${inSeconds(RETRY.budgetMs)}) spent`,
  'retry-after-too-long': 'gave up',
  aborted: 'aborted',
  'verdict-retryable': '',
  'retryable-status': '',
  'network-error': '',
};

function retriedCell(retried: Retried): string {
  const waits = retried.waits.length > 0 ? ` (waits ${retried.waits.join(', ')})` : '';
  const tried = `${retried.attempts}${waits}`;
  if (retried.status === 0) return `${tried} → ${red('no answer')}`;
  const status = retried.status < 400 ? green(String(retried.status)) : yellow(String(retried.status));
  if (retried.cut) return `${tried} → ${status}, cut mid-body`;
  const stop =
    retried.stop === 'retry-after-too-long' && retried.retryAfterMs !== undefined
      ? `gave up: Retry-After ${inSeconds(retried.retryAfterMs)} > ${inSeconds(RETRY.maxRetryAfterMs)}`
      : retried.stop === undefined
        ? ''
        : STOPS[retried.stop];
  return `${tried} → ${status}${stop === '' ? '' : dim(`, ${stop}`)}`;
}

/**
 * Runs `fn` with `console.error` counted instead of printed: Hono's default error handler prints every
 * failure's stack, which would bury the table.
 */
async function quietly<T>(fn: () => Promise<T>): Promise<{ result: T; silenced: number }> {
  const original = console.error;
  let silenced = 0;
  console.error = () => void silenced++;
  try {
    return { result: await fn(), silenced };
  } finally {
    console.error = original;
  }
}

/** The scenario shown up close: the upstream's 500, whose body holds a SQL error, a password and a host. */
const UP_CLOSE = SCENARIOS.findIndex((scenario) => scenario.path === '/orders/500');

/**
 * One failure up close, through the Express stack: the upstream's own answer, what the bare twin passes
 * on, what production and development answer side by side, and the log record of the production answer.
 * Returns what went wrong: a secret in an answer or the log, or no log record.
 */
async function upClose({ stacks, developmentUrl, upstream, bare, reports }: { stacks: readonly Stack[]; developmentUrl: string; upstream: string; bare: Answer; reports: readonly ErrorReport[] }): Promise<string[]> {
  const failures: string[] = [];
  const own = await fetch(`${upstream}/500`);
  const ownBody = await own.text();
  const headers = { 'x-request-id': UP_CLOSE_ID };
  const production = await fetch(`${stacks[0]!.gateway.url}/orders/500`, { headers });
  const productionBody: unknown = await production.json();
  const development = await fetch(`${developmentUrl}/orders/500`, { headers });
  const developmentBody: unknown = await development.json();
  const report = reports.find((candidate) => candidate.requestId === UP_CLOSE_ID);

  const indent = (text: string) => wrap(`  ${text}`).join('\n');
  console.log(heading(`One failure up close: ${SCENARIOS[UP_CLOSE]!.name}, through the ${stacks[0]!.name} stack`));
  console.log(`The upstream answered ${own.status} ${mediaType(own)}:`);
  console.log(indent(ownBody));
  const same = bare.body === ownBody ? ', the same body, as is' : '';
  console.log(`Without gateway-errors, the client gets ${bare.status} ${bare.contentType.split(';')[0] || 'with no content type'}${same}:`);
  console.log(indent(bare.body === '' ? '(empty)' : bare.body));
  console.log(`\nWith gateway-errors, in production and in development mode ${dim('(an Express gateway of its own)')}:\n`);
  console.log(
    sideBySide(JSON.stringify(productionBody, null, 2), JSON.stringify(developmentBody, null, 2), [
      `production: ${production.status} ${mediaType(production)}`,
      `development: ${development.status} ${mediaType(development)}`,
    ]),
  );
  const shown = { production: JSON.stringify(productionBody), development: JSON.stringify(developmentBody), 'log record': report === undefined ? '' : JSON.stringify(toLogEntry(report)) };
  // The development answer and the log show the error's stack and where it came from, never the upstream's secrets.
  for (const [where, text] of Object.entries(shown)) {
    const leak = (where === 'production' ? SECRETS : SECRETS.filter((secret) => secret !== '127.0.0.1')).find((secret) => text.includes(secret));
    if (leak !== undefined) failures.push(`up close: the ${where} shows "${leak}"`);
  }
  console.log(
    dim(
      wrapAll(
        `\nNeither answer holds the upstream's body: the gateway reads only its status, so the SQL error, the password and the host stay out of answers and logs. ` +
          `Development answers and log records show an error's own texts masked; had that body been in an error's message, they would show:`,
      ),
    ),
  );
  console.log(dim(indent(maskSecrets(ownBody))));

  if (report === undefined) {
    failures.push(`up close: no log record for request ID ${UP_CLOSE_ID}`);
    return failures;
  }
  console.log(
    heading(
      'The log record of the production answer',
      "The gateway writes one for every 5xx: by default a JSON line on stderr, or through the framework's logger. Indented here, its stack broken at each \\n.",
    ),
  );
  console.log(wrapAll(readableJson(toLogEntry(report))));
  return failures;
}

/** An answer's media type, without its parameters. */
function mediaType(response: Response): string {
  return response.headers.get('content-type')?.split(';')[0] || 'with no content type';
}

/** The request ID of the failure shown up close, so that its log record can be found among the reports. */
const UP_CLOSE_ID = 'demo-up-close';

async function main(): Promise<number> {
  const started = performance.now();
  console.log(
    wrapAll(
      'Starting on 127.0.0.1 (free ports): a chaos upstream and, for Express, Fastify, Hono and NestJS (on platform-express ' +
        'and on platform-fastify), a gateway with gateway-errors and its bare twin without it. ' +
        (serveMode ? 'They run until Ctrl+C.' : `Every failure goes through each; then all stop (a few seconds, ${RUN_LIMIT_MS / 1000} s at most).`),
    ),
  );
  const chaos = await startChaos(selfSignedCertificate());
  const reports: ErrorReport[] = [];
  const stacks = await startStacks(chaos.upstreams, reports);
  const development = createExpress({
    ...conventionsWithMetrics({ mode: 'development', upstreamTimeoutMs: DEADLINE_MS, onError: false }),
    upstreams: chaos.upstreams,
  }).listen(0, '127.0.0.1');
  const developmentUrl = await listening(development);
  // The retrying client's own Express gateway: its requests stay out of the counts of the table's gateways.
  const retrying = await nodeApp(
    createExpress({ ...conventionsWithMetrics({ mode: 'production', upstreamTimeoutMs: DEADLINE_MS, onError: false }), upstreams: chaos.upstreams }).listen(0, '127.0.0.1'),
  );

  const stop = async () => {
    await Promise.all([...stacks.flatMap((stack) => [stack.gateway.close(), stack.bare.close()]), closeServer(development), retrying.close()]);
    await chaos.close();
  };

  if (serveMode) {
    console.log(bold('\nChaos upstream'));
    console.log(`  orders     ${chaos.upstreams.orders}/{ok,hang,reset,cut,garbage,truncated,500,503,429,slow}`);
    console.log(`  inventory  ${chaos.upstreams.inventory} (refused)`);
    console.log(`  payments   ${chaos.upstreams.payments} (self-signed certificate)`);
    console.log(bold('\nGateways (production)                          with gateway-errors       bare twin'));
    for (const stack of stacks) console.log(`  ${`${stack.name} · ${stack.proxy}`.padEnd(44)} ${stack.gateway.url}    ${stack.bare.url}`);
    console.log(`  ${'Express (development mode)'.padEnd(44)} ${developmentUrl}`);
    console.log(bold('\nTry'));
    console.log(`  curl -i ${stacks[0]!.gateway.url}/orders/500          ${dim(`vs  curl -i ${stacks[0]!.bare.url}/orders/500`)}`);
    console.log(`  curl -i -X POST ${stacks[1]!.gateway.url}/orders/hang`);
    console.log(`  curl -i -H 'accept: text/html' ${stacks[2]!.gateway.url}/inventory/sku-1`);
    console.log(`  curl -i ${developmentUrl}/orders/500`);
    console.log(`  curl ${stacks[0]!.gateway.url}/metrics`);
    console.log(dim('\nCtrl+C stops everything.'));
    await new Promise<void>((resolve) => process.once('SIGINT', resolve));
    await stop();
    return 0;
  }

  // Every app at once for each scenario: the slow one (hang) costs its time once.
  const idOf = (scenario: number, stack: number, twin: 'bare' | 'with') => `demo-${scenario + 1}-${stack + 1}-${twin}`;
  const { result: answers, silenced } = await quietly(async () => {
    const all: { bare: Answer; gateway: Answer }[][] = [];
    for (const [index, scenario] of SCENARIOS.entries()) {
      all.push(
        await Promise.all(
          stacks.map(async (stack, column) => {
            const [bare, gateway] = await Promise.all([
              send(stack.bare, scenario, scenario.sendsId ? idOf(index, column, 'bare') : undefined),
              send(stack.gateway, scenario, scenario.sendsId ? idOf(index, column, 'with') : undefined),
            ]);
            return { bare, gateway };
          }),
        ),
      );
    }
    return all;
  });
  const reported = new Set(reports.map((report) => report.requestId));
  // Every scenario as a GET and as a POST at once: the slowest (hang, retried until the budget is spent) costs its time once.
  const retries = await Promise.all(
    SCENARIOS.map(async (scenario) => Promise.all([sendWithRetry(retrying.url, scenario.path, 'GET'), sendWithRetry(retrying.url, scenario.path, 'POST')])),
  );

  const rows: (string[] | string)[] = [];
  const failures: string[] = [];
  console.log(heading('What a client gets from each stack, without and with gateway-errors'));
  for (const [index, scenario] of SCENARIOS.entries()) {
    rows.push(`${bold(scenario.name)} ${dim(`— ${scenario.what}`)}`);
    for (const [column, stack] of stacks.entries()) {
      const { bare, gateway } = answers[index]![column]!;
      const id = scenario.sendsId ? idOf(index, column, 'with') : undefined;
      const wrong = verdict({ scenario, answer: gateway, id, reported });
      if (wrong !== undefined) failures.push(`${scenario.name} × ${stack.name}: ${wrong}`);
      rows.push([
        `  ${stack.name}`,
        bareCell(bare),
        idCell(bare, scenario.sendsId ? idOf(index, column, 'bare') : undefined, true),
        gatewayCell(gateway, wrong === undefined),
        gateway.proxyError,
        gateway.retryAfter,
        idCell(gateway, id, false),
        `${gateway.ms} ms`,
        wrong === undefined ? green('✓') : red('✗ see below'),
      ]);
    }
  }
  console.log(
    table(rows, ['stack', 'answer', 'ID', 'answer', 'Proxy-Status error', 'Retry-After', 'ID', 'time', 'check'], [
      { title: '', span: 1 },
      { title: 'without gateway-errors', span: 2 },
      { title: 'with gateway-errors', span: 6 },
    ]),
  );
  const proxies = stacks.filter((stack, index) => stacks.findIndex((other) => other.proxy === stack.proxy) === index);
  console.log(
    dim(
      wrapAll(
        `\nProxies: ${proxies.map((stack) => `${stack.name.replace(/ \(.*\)$/, '')} ${stack.proxy}`).join(', ')}. ` +
          `Without gateway-errors: the same library wired as its documentation shows, with the same ${DEADLINE_MS} ms deadline (proxyTimeout, undici timeouts, AbortSignal.timeout, axios timeout), and the framework's own error handling.` +
          `\nanswer: status, content type, and the body's start, or the stretch of it that shows a secret; leak: the body shows the upstream's address, the password or the database host.` +
          `\nID: "kept" the client's request ID came back, "made" the gateway made one, "fwd" the upstream got the same one.` +
          (silenced > 0 ? `\nThe bare Hono app's default error handler printed ${silenced} stack traces to stderr (hidden here).` : ''),
      ),
    ),
  );

  console.log(
    heading(
      'What a client with fetchWithRetry gets',
      '@gateway-errors/client against an Express gateway of its own, as a GET and as a POST: attempts, waits before each retry → last answer.',
    ),
  );
  console.log(
    table(
      SCENARIOS.map((scenario, index) => [`  ${scenario.name.replace(/ \((GET|POST)\)$/, '')}`, ...retries[index]!.map(retriedCell)]),
      ['failure', 'GET', 'POST'],
    ),
  );
  console.log(
    dim(
      wrapAll(
        `\nLimits: ${RETRY.attempts} attempts, backoff with full jitter from ${RETRY.baseDelayMs} ms, a Retry-After up to ${inSeconds(RETRY.maxRetryAfterMs)} waited for, ${inSeconds(RETRY.budgetMs)} budget.` +
          `\nThe gateway's problem says whether a retry is safe (retryable): a POST is retried only when the request never reached the upstream.`,
      ),
    ),
  );

  // Scraped before anything else reaches the gateways: the counts are those of the table's requests.
  const counted = await counters(stacks, answers.map((row) => row.map(({ gateway }) => gateway)));
  console.log(heading('What each gateway counted', 'Scraped from its /metrics after the requests of the first table.'));
  console.log(counted.table);
  console.log(dim(wrapAll(`\n${counted.notes.join('\n')}`)));
  failures.push(...counted.failures);

  failures.push(...(await upClose({ stacks, developmentUrl, upstream: chaos.upstreams.orders, bare: answers[UP_CLOSE]![0]!.bare, reports })));

  await stop();
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  if (failures.length > 0) {
    console.error(red(`\n${failures.length} "with gateway-errors" cell(s) did not get the expected answer:`));
    for (const failure of failures) console.error(red(`  ${failure}`));
    return 1;
  }
  console.log(green(`\nEvery "with gateway-errors" cell as expected: ${SCENARIOS.length} scenarios × ${stacks.length} stacks, with their bare twins, in ${seconds} s.`));
  return 0;
}

if (!serveMode) {
  // A demo that hangs is a failed demo: stop it, and say so.
  setTimeout(() => {
    console.error(red(`The demo did not finish within ${RUN_LIMIT_MS / 1000} s.`));
    process.exit(2);
  }, RUN_LIMIT_MS).unref();
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
