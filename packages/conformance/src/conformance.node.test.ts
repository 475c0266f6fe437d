import { defineConventions, toLogEntry } from '@gateway-errors/core';
import type { ErrorHook, ErrorReport, LogEntry, Mode } from '@gateway-errors/core';
import { fetchUpstream } from '@gateway-errors/core/upstream';
import { startFaults } from '@gateway-errors/fault-servers';
import type { Faults } from '@gateway-errors/fault-servers';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ABANDONED_HEADERS, hostileMapper, KEPT_HEADERS, scenarios, shutdownScenarios } from './scenarios.js';
import type { Scenario } from './scenarios.js';
import { EDGE_SCENARIOS, edgeApp } from './edge.js';
import { problemSchemaErrors } from './problem-schema.js';
import type { RunningTarget, Target } from './target.js';
import { targets } from './targets.js';
import { captureServer, TRACEPARENT } from './upstreams.js';

interface Answer {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly text: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const VOLATILE = ['date', 'connection', 'keep-alive', 'content-length', 'transfer-encoding', 'etag'];
const SECRETS = ['buried-SECRET', 'admin', 'tok-SECRET', 'auth-SECRET', '127.0.0.1', 'ECONNREFUSED', 'ECONNRESET', 'fetch failed', 'node:', '.js:', '.ts:'];
const MODES: readonly Mode[] = ['production', 'development'];

/** Answers by scenario, mode and target, for the cross-adapter comparison at the end. */
const answers = new Map<string, Map<string, Answer>>();
/** The log record of each answer's report (`toLogEntry`), keyed like {@link answers}. */
const logEntries = new Map<string, Map<string, LogEntry>>();

/** Logging hooks that fail: neither may change an answer, and the app goes on serving. */
const FAILING_HOOKS: ReadonlyArray<readonly [string, ErrorHook]> = [
  [
    'throws',
    () => {
      throw new Error('log sink down');
    },
  ],
  ['rejects', () => Promise.reject(new Error('log sink down'))],
];

let faults: Faults;

beforeAll(async () => {
  faults = await startFaults();
});

afterAll(async () => {
  shutdownScenarios();
  await faults.close();
});

async function send(url: string, scenario: Scenario): Promise<Answer> {
  const { method, path = `/s/${scenario.name}`, headers = {}, body } = scenario.request;
  const agent = request(url);
  let call = method === 'HEAD' ? agent.head(path) : method === 'POST' ? agent.post(path) : agent.get(path);
  for (const [name, value] of Object.entries(headers)) call = call.set(name, value);
  // Keep the raw text of every content type, problem+json included.
  call = call.buffer(true).parse((res, callback) => {
    let text = '';
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => (text += chunk));
    res.on('end', () => callback(null, text));
  });
  const response = await (body === undefined ? call : call.send(body));
  const text: unknown = response.body;
  return { status: response.status, headers: response.headers, text: typeof text === 'string' ? text : '' };
}

function check(answer: Answer, scenario: Scenario, mode: Mode): void {
  const { expected } = scenario;
  expect(answer.status).toBe(expected.status);
  expect(answer.headers['content-type']).toBe(expected.contentType);
  expect(answer.headers['cache-control']).toBe('no-store');
  expect(answer.headers['x-content-type-options']).toBe('nosniff');
  // The form was negotiated on Accept (RFC 9110 §12.5.5), once.
  if (expected.headersBeforeFailure !== true) expect(answer.headers['vary']).toBe('Accept');
  const id = answer.headers['x-request-id'];
  if (expected.requestId === 'generated') expect(id).toMatch(UUID);
  else expect(id).toBe(expected.requestId);
  if (expected.retryAfter !== undefined) expect(answer.headers['retry-after']).toBe(expected.retryAfter);
  if (expected.status === 503) expect(answer.headers['retry-after']).toMatch(/^\d+$/);
  if (expected.proxyStatus !== undefined) {
    if (mode === 'production') expect(answer.headers['proxy-status']).toBe(expected.proxyStatus);
    else expect(answer.headers['proxy-status']?.startsWith(expected.proxyStatus)).toBe(true);
  }
  if (expected.status < 500) expect(answer.headers['proxy-status']).toBeUndefined();
  if (expected.headersBeforeFailure === true) {
    // What described the abandoned body is gone (content-length and transfer-encoding are the problem's own, if any).
    for (const [name, value] of Object.entries(ABANDONED_HEADERS)) expect(answer.headers[name], name).not.toBe(value);
    // Kept as set; the problem's own `Vary` field is added to the response's.
    for (const [name, value] of Object.entries(KEPT_HEADERS)) expect(answer.headers[name], name).toBe(name === 'vary' ? `${value}, Accept` : value);
  }
  if (mode === 'production' && expected.status >= 500) {
    // Nothing of the error in any content type, header or body; and no body beyond its caps.
    const everything = `${answer.text} ${JSON.stringify(answer.headers)}`;
    for (const secret of [...SECRETS, ...Object.values(ports())]) expect(everything).not.toContain(secret);
  }
  expect(answer.text.length).toBeLessThan(200_000);

  if (scenario.request.method === 'HEAD') {
    expect(answer.text).toBe('');
    return;
  }
  if (expected.contentType !== 'application/problem+json; charset=utf-8') {
    expect(answer.text).toContain(String(expected.status));
    expect(answer.text).toContain(id);
    return;
  }
  const body = JSON.parse(answer.text) as Record<string, unknown>;
  expect(problemSchemaErrors(body), answer.text).toBeUndefined();
  expect(body).toMatchObject({ status: expected.status, code: expected.code, requestId: id });
  expect(body['type']).toEqual(expect.any(String));
  expect(body['title']).toEqual(expect.any(String));
  expect(body['instance']).toBe((scenario.request.path ?? `/s/${scenario.name}`).split('?')[0]);
  if (expected.retryable !== undefined) expect(body['retryable']).toBe(expected.retryable);
  if (expected.retryAfter !== undefined) expect(body['retryAfter']).toBe(Number(expected.retryAfter));
  if (expected.detail !== undefined) expect(body['detail']).toBe(expected.detail);
  if (expected.errors === true) expect(body['errors']).toEqual(expect.arrayContaining([expect.objectContaining({ detail: expect.any(String) })]));
  if (mode === 'production') {
    expect(body['debug']).toBeUndefined();
  } else if (expected.status >= 500) {
    expect(body['debug']).toMatchObject({ name: expect.any(String) });
    expect(answer.text).not.toMatch(/tok-SECRET|auth-SECRET/);
  }
}

/** Port numbers of the fault servers: none may appear in a production 5xx. */
function ports(): Record<string, string> {
  const found: Record<string, string> = {};
  for (const [name, url] of Object.entries(faults)) {
    if (typeof url === 'string') found[name] = `:${new URL(url).port}`;
  }
  return found;
}

function record(scenario: Scenario, mode: Mode, target: Target, answer: Answer): void {
  put(answers, `${scenario.name} (${mode})`, target, answer);
}

function put<T>(table: Map<string, Map<string, T>>, key: string, target: Target, value: T): void {
  let byTarget = table.get(key);
  if (byTarget === undefined) table.set(key, (byTarget = new Map()));
  byTarget.set(target.name, value);
}

/** An answer as compared between targets: without what differs by nature (dates, framing, generated IDs, debug details). */
function normalise(answer: Answer, target: Target): Answer {
  const headers: Record<string, string> = {};
  const generated = answer.headers['x-request-id'];
  for (const [name, value] of Object.entries(answer.headers)) {
    if (VOLATILE.includes(name) || target.ownHeaders.includes(name)) continue;
    // Like the body's debug member, development's details name what the framework passed on.
    headers[name] = name === 'proxy-status' ? value.replace(/; details=.*$/, '') : value;
  }
  const text = generated !== undefined && UUID.test(generated) ? answer.text.replaceAll(generated, '<generated>') : answer.text;
  if (generated !== undefined && UUID.test(generated)) headers['x-request-id'] = '<generated>';
  return { status: answer.status, headers, text: stripDebug(text) };
}

/** Stack lines and messages in `debug` name framework files; everything else must match. */
function stripDebug(text: string): string {
  // HTML shows debug in its Details section, plain text as indented JSON after the request ID.
  if (!text.startsWith('{')) {
    return text.replace(/<section class="debug">[\s\S]*<\/section>/, '<section class="debug"/>').replace(/\n\n\{\n[\s\S]*$/, '\n\n<debug>\n');
  }
  const body = JSON.parse(text) as Record<string, unknown>;
  if (body['debug'] !== undefined) body['debug'] = '<debug>';
  return JSON.stringify(body);
}

/** A log record as compared between targets: stack frames name framework files, and a generated ID is anyone's. */
function comparableEntry(entry: LogEntry): Omit<LogEntry, 'err'> & { err: object } {
  const { stack, ...err } = entry.err;
  const requestId = UUID.test(entry.requestId) ? '<generated>' : entry.requestId;
  // The first line of each error's stack is its own; the rest is where it went through (axios also
  // appends its cause's stack there, within the lines shown or past them).
  const heads = stack.split('\ncaused by: ').map((part) => part.split('\n', 1)[0]);
  return { ...entry, requestId, err: { ...err, stack: heads } };
}

describe.each(targets)('$name', (target) => {
  describe.each(MODES)('%s', (mode) => {
    let app: RunningTarget;
    const reports: ErrorReport[] = [];

    beforeAll(async () => {
      app = await target.start(defineConventions({ mode, onError: (report) => void reports.push(report), mappers: [hostileMapper] }), faults);
    });

    afterAll(async () => {
      await app.close();
    });

    it.each(scenarios)('$name', async (scenario) => {
      const before = reports.length;
      const answer = await send(app.url, scenario);
      check(answer, scenario, mode);
      record(scenario, mode, target, answer);
      // The full error reaches the logging hook once, with the request ID the client saw.
      const mine = reports.slice(before);
      expect(mine).toHaveLength(1);
      expect(mine[0]?.requestId).toBe(answer.headers['x-request-id']);
      expect(mine[0]?.classification.status).toBe(scenario.expected.status);
      put(logEntries, `${scenario.name} (${mode})`, target, toLogEntry(mine[0]!));
    });
  });

  // The request's hop: kept for upstream calls that are not handed one, unless the conventions say not to.
  describe.each([
    { storage: 'kept', hopStorage: true },
    { storage: 'not kept', hopStorage: false },
  ])('production, hop storage $storage', ({ hopStorage }) => {
    let app: RunningTarget;
    let upstream: Awaited<ReturnType<typeof captureServer>>;

    beforeAll(async () => {
      upstream = await captureServer();
      const actions = new Map([['hop', () => fetchUpstream('ledger', `${upstream.url}/fail`)]]);
      app = await target.start(defineConventions({ mode: 'production', onError: false, hopStorage }), faults, { actions });
    });

    afterAll(async () => {
      await Promise.all([app.close(), upstream.close()]);
    });

    it(`forwards ${hopStorage ? "the request's ID and traceparent" : 'neither the ID nor the traceparent'} to a fetchUpstream call, and answers alike`, async () => {
      const id = `hop-${String(hopStorage)}`;
      const answer = await request(app.url).get('/s/hop').set('x-request-id', id).set('traceparent', TRACEPARENT);
      expect(answer.status).toBe(502);
      expect(answer.headers['x-request-id']).toBe(id);
      expect(answer.body).toMatchObject({ code: 'UPSTREAM_ERROR_STATUS', requestId: id });
      expect(upstream.seen).toHaveLength(1);
      const [seen] = upstream.seen;
      if (hopStorage) expect(seen).toMatchObject({ 'x-request-id': id, traceparent: TRACEPARENT });
      else {
        expect(seen).not.toHaveProperty('x-request-id');
        expect(seen).not.toHaveProperty('traceparent');
      }
    });
  });

  // After the production answers above: a hook that fails is swallowed, and the answer is the same.
  describe.each(FAILING_HOOKS)('production, with an onError hook that %s', (_kind, hook) => {
    let app: RunningTarget;
    let calls = 0;

    beforeAll(async () => {
      const onError: ErrorHook = (report) => {
        calls += 1;
        return hook(report);
      };
      app = await target.start(defineConventions({ mode: 'production', onError, mappers: [hostileMapper] }), faults);
    });

    afterAll(async () => {
      await app.close();
    });

    it.each(scenarios)('$name: the same answer', async (scenario) => {
      const before = calls;
      const answer = await send(app.url, scenario);
      expect(calls - before).toBe(1);
      const reference = answers.get(`${scenario.name} (production)`)?.get(target.name);
      expect(reference).toBeDefined();
      expect(normalise(answer, target)).toEqual(normalise(reference!, target));
    });

    it('goes on serving', async () => {
      const health = await request(app.url).get('/health');
      expect(health.status).toBe(200);
    });
  });
});

/** Hono again, in the Edge Runtime (a Web-standard VM with no Node.js globals), through app.request(), with the runtime's own fetch. */
describe('hono@4 (edge-runtime)', () => {
  const edge: Target = { name: 'hono@4 (edge-runtime)', ownHeaders: [], start: () => Promise.reject(new Error('not a server')) };
  let call: Awaited<ReturnType<typeof edgeApp>>;

  beforeAll(async () => {
    call = await edgeApp(faults);
  });

  describe.each(MODES)('%s', (mode) => {
    it.each(scenarios.filter((scenario) => EDGE_SCENARIOS.has(scenario.name)))('$name', async (scenario) => {
      const { method, path = `/s/${scenario.name}`, headers = {} } = scenario.request;
      const answer = await call(mode, { method, path, headers });
      check(answer, scenario, mode);
      record(scenario, mode, edge, answer);
    });
  });
});

describe('every adapter gives the same answer', () => {
  const identical = scenarios.filter((scenario) => scenario.identical);
  it.each(identical.flatMap((scenario) => MODES.map((mode) => ({ name: `${scenario.name} (${mode})`, mode }))))('$name', ({ name, mode }) => {
    const byTarget = answers.get(name);
    expect(byTarget?.size).toBeGreaterThanOrEqual(targets.length);
    const [first] = targets;
    const reference = normalise(byTarget!.get(first!.name)!, first!);
    for (const [name, answer] of byTarget!) {
      const target = targets.find((candidate) => candidate.name === name) ?? { name, ownHeaders: [] };
      expect({ target: name, ...normalise(answer, target as Target) }).toEqual({ target: name, ...reference });
    }
    if (mode === 'development') {
      // Development adds debug details and nothing else, on every target.
      for (const [target, dev] of byTarget!) {
        const production = answers.get(name.replace('(development)', '(production)'))?.get(target);
        expect(production, target).toBeDefined();
        expect(dev.status).toBe(production!.status);
        const devHeaders = withoutDetails(dev.headers, production!.headers);
        expect({ target, headers: devHeaders }).toEqual({ target, headers: comparable(production!.headers, production!.headers) });
        if (production!.text.startsWith('{')) {
          const { debug: _debug, upstream: _upstream, ...rest } = JSON.parse(dev.text) as Record<string, unknown>;
          const prod = JSON.parse(production!.text) as Record<string, unknown>;
          expect({ target, ...rest, requestId: prod['requestId'] }).toEqual({ target, ...prod });
        }
      }
    }
  });

  // The same failure gives the same record to a custom hook (the core's toLogEntry), in every adapter.
  it.each(identical.flatMap((scenario) => MODES.map((mode) => ({ name: `${scenario.name} (${mode})`, scenario }))))(
    '$name: the same log record',
    ({ name, scenario }) => {
      const byTarget = logEntries.get(name);
      expect(byTarget?.size).toBe(targets.length);
      // Where a framework replaced what was thrown, its err is the replacement's; everything else is alike.
      const view = (entry: LogEntry): object => {
        const { err, ...rest } = comparableEntry(entry);
        return scenario.replacedBy === undefined ? { ...rest, err } : rest;
      };
      const [first] = targets;
      const reference = view(byTarget!.get(first!.name)!);
      for (const [target, entry] of byTarget!) expect({ target, ...view(entry) }).toEqual({ target, ...reference });
    },
  );

  // Framework-parsed input (JSON syntax, schema validation, media type, size): the frameworks word the
  // detail themselves, but status, headers and every other member are the same.
  const framed = scenarios.filter((scenario) => !scenario.identical);
  it.each(framed.flatMap((scenario) => MODES.map((mode) => ({ name: `${scenario.name} (${mode})` }))))('$name: all but the detail', ({ name }) => {
    const byTarget = answers.get(name);
    expect(byTarget?.size).toBe(targets.length);
    const shape = (answer: Answer, target: Target) => {
      const { headers, status, text } = normalise(answer, target);
      const { detail, errors, ...rest } = JSON.parse(text) as Record<string, unknown>;
      return { status, headers, body: { ...rest, detail: typeof detail, errors: Array.isArray(errors) ? 'array' : typeof errors } };
    };
    const [first] = targets;
    const reference = shape(byTarget!.get(first!.name)!, first!);
    for (const target of targets) expect(shape(byTarget!.get(target.name)!, target), target.name).toEqual(reference);
  });
});

/** Headers as compared between modes: the request ID may be generated, and development adds Proxy-Status details. */
function comparable(headers: Record<string, string>, production: Record<string, string>): Record<string, string> {
  const kept: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (VOLATILE.includes(name)) continue;
    kept[name] = name === 'x-request-id' && UUID.test(value) && UUID.test(production[name] ?? '') ? '<generated>' : value;
  }
  return kept;
}

function withoutDetails(headers: Record<string, string>, production: Record<string, string>): Record<string, string> {
  const kept = comparable(headers, production);
  if (kept['proxy-status'] !== undefined) kept['proxy-status'] = kept['proxy-status'].replace(/; details=.*$/, '');
  return kept;
}
