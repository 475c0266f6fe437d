/**
 * The prom-client twin with the real prom-client, behind an Express gateway on 127.0.0.1 whose
 * upstreams fail for real: what `registry.metrics()` shows, series by series, and what it never shows.
 */
import { execFile } from 'node:child_process';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { defineConventions } from '@gateway-errors/core';
import type { ProblemObserver } from '@gateway-errors/core';
import { fetchUpstream } from '@gateway-errors/core/upstream';
import { gatewayErrors, notFound, requestId } from '@gateway-errors/express';
import { startFaults } from '@gateway-errors/fault-servers';
import type { Faults } from '@gateway-errors/fault-servers';
import express from 'express';
import { Counter, Registry, register } from 'prom-client';
import type { OpenMetricsContentType } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { FAILURES_TOTAL, prometheus } from './prometheus.js';
import type { PrometheusOptions } from './prometheus.js';

/** Upstream names an application might build from a request: none may make a series of its own. */
const HOSTILE = ['x'.repeat(1024 * 1024), '__proto__', 'constructor', 'pay"ments\n} 1\nevil_total 9', 'payments\\', 'PAYMENTS', ' payments'] as const;

let faults: Faults;
const servers: Server[] = [];

beforeAll(async () => {
  faults = await startFaults();
});

afterAll(async () => {
  for (const server of servers) {
    server.closeAllConnections();
    server.close();
  }
  await faults.close();
});

/** An Express gateway whose routes call failing upstreams through the core's `fetchUpstream`. */
async function gateway(observers: readonly ProblemObserver[]): Promise<(path: string) => Promise<number>> {
  const conventions = defineConventions({ mode: 'production', onError: false, observers });
  const app = express();
  app.use(requestId(conventions));
  app.get('/refused', async (_req, res) => {
    res.json(await (await fetchUpstream('payments', `${faults.refused}/charges`)).json());
  });
  app.get('/timeout', async (_req, res) => {
    res.json(await (await fetchUpstream('payments', `${faults.hang}/slow`, { timeoutMs: 50 })).json());
  });
  app.get('/status/:code', async (req, res) => {
    res.json(await (await fetchUpstream('search', `${faults.status}/status/${req.params['code']}`)).json());
  });
  app.get('/tenant', async () => {
    await fetchUpstream('search-tenant-42', `${faults.refused}/q`);
  });
  app.get('/hostile/:index', async (req) => {
    await fetchUpstream(HOSTILE[Number(req.params['index'])]!, `${faults.refused}/q`);
  });
  app.get('/broken', () => {
    throw new Error('query failed');
  });
  app.use(notFound(conventions));
  app.use(gatewayErrors(conventions));
  const server = app.listen(0, '127.0.0.1');
  servers.push(server);
  await new Promise((resolve) => server.once('listening', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return async (path) => {
    const response = await fetch(url + path);
    await response.arrayBuffer();
    return response.status;
  };
}

/** The sample lines of the failures counter, sorted: `name{labels} value`. */
async function series(registry: Registry): Promise<string[]> {
  const text = await registry.metrics();
  return text
    .split('\n')
    .filter((line) => line.startsWith(FAILURES_TOTAL))
    .sort();
}

const line = (code: string, status: number, upstream: string, value: number) =>
  `${FAILURES_TOTAL}{code="${code}",status="${status}",upstream="${upstream}"} ${value}`;

/**
 * The text exposition format, line by line (https://prometheus.io/docs/instrumenting/exposition_formats/):
 * comments, then samples whose label values escape only `\\`, `\"` and `\n`.
 */
const LABEL = String.raw`[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*"`;
const SAMPLE = new RegExp(String.raw`^[a-zA-Z_:][a-zA-Z0-9_:]*(?:\{${LABEL}(?:,${LABEL})*\})? -?(?:\d+(?:\.\d+)?(?:e[+-]?\d+)?|NaN|[+-]Inf)$`);
const COMMENT = /^# (?:HELP [a-zA-Z_:][a-zA-Z0-9_:]* .*|TYPE [a-zA-Z_:][a-zA-Z0-9_:]* (?:counter|gauge|histogram|summary|untyped))$/;

function expectValidText(text: string): void {
  expect(text.endsWith('\n')).toBe(true);
  const invalid = text
    .slice(0, -1)
    .split('\n')
    .filter((entry) => entry !== '' && !COMMENT.test(entry) && !SAMPLE.test(entry));
  expect(invalid.map((entry) => entry.slice(0, 200))).toEqual([]);
}

/** `promtool check metrics`, where Prometheus' own tool is installed: its parser and linter on the text. */
function promtool(text: string): Promise<{ ok: boolean; output: string } | undefined> {
  return new Promise((resolve) => {
    const child = execFile('promtool', ['check', 'metrics'], (error, stdout, stderr) => {
      if ((error as NodeJS.ErrnoException | null)?.code === 'ENOENT') resolve(undefined);
      else resolve({ ok: error === null, output: `${stdout}${stderr}` });
    });
    child.stdin?.on('error', () => {});
    child.stdin?.end(text);
  });
}

describe('prometheus(): what registry.metrics() shows', () => {
  it('counts refused, timed-out and 5xx upstreams by code, status and upstream, exactly', async () => {
    const registry = new Registry();
    const call = await gateway([prometheus({ registry, upstreams: ['payments', 'search'] })]);
    expect(await call('/refused')).toBe(502);
    expect(await call('/refused')).toBe(502);
    expect(await call('/timeout')).toBe(504);
    expect(await call('/status/500')).toBe(502);
    expect(await call('/status/503')).toBe(503);
    expect(await call('/status/429')).toBe(503);
    expect(await call('/status/504')).toBe(504);
    expect(await series(registry)).toEqual(
      [
        line('UPSTREAM_UNREACHABLE', 502, 'payments', 2),
        line('UPSTREAM_TIMEOUT', 504, 'payments', 1),
        line('UPSTREAM_ERROR_STATUS', 502, 'search', 1),
        line('UPSTREAM_UNAVAILABLE', 503, 'search', 2),
        line('UPSTREAM_TIMEOUT', 504, 'search', 1),
      ].sort(),
    );
    const text = await registry.metrics();
    expect(text).toContain(`# TYPE ${FAILURES_TOTAL} counter\n`);
    expectValidText(text);
  });

  it('a 500 and a 404 are not failures of an upstream: no series at all', async () => {
    const registry = new Registry();
    const call = await gateway([prometheus({ registry, upstreams: ['payments'] })]);
    expect(await call('/broken')).toBe(500);
    expect(await call('/nowhere')).toBe(404);
    // An upstream's 404 is its answer, passed on: no problem, nothing counted.
    expect(await call('/status/404')).toBe(200);
    expect(await series(registry)).toEqual([]);
    // The counter is there, with no sample yet.
    expect(await registry.metrics()).toBe(
      `# HELP ${FAILURES_TOTAL} Failures of upstreams answered by this service: its 502, 503 and 504 problems.\n# TYPE ${FAILURES_TOTAL} counter\n`,
    );
  });

  it('an upstream name that is not configured is _OTHER', async () => {
    const registry = new Registry();
    const call = await gateway([prometheus({ registry, upstreams: ['payments'] })]);
    await call('/tenant');
    await call('/status/500');
    await call('/refused');
    expect(await series(registry)).toEqual(
      [line('UPSTREAM_UNREACHABLE', 502, '_OTHER', 1), line('UPSTREAM_ERROR_STATUS', 502, '_OTHER', 1), line('UPSTREAM_UNREACHABLE', 502, 'payments', 1)].sort(),
    );
  });

  it('without upstreams, every name is _OTHER', async () => {
    const registry = new Registry();
    const call = await gateway([prometheus({ registry })]);
    await call('/refused');
    await call('/tenant');
    expect(await series(registry)).toEqual([line('UPSTREAM_UNREACHABLE', 502, '_OTHER', 2)]);
  });

  it('hostile upstream names (1 MB, __proto__, quotes and newlines, near misses) make no series: all _OTHER, the text stays valid', async () => {
    const registry = new Registry();
    const call = await gateway([prometheus({ registry, upstreams: ['payments'] })]);
    for (const index of HOSTILE.keys()) expect(await call(`/hostile/${index}`)).toBe(502);
    expect(await series(registry)).toEqual([line('UPSTREAM_UNREACHABLE', 502, '_OTHER', HOSTILE.length)]);
    const text = await registry.metrics();
    expect(text.length).toBeLessThan(1000);
    expect(text).not.toContain('evil');
    expectValidText(text);
    const checked = await promtool(text);
    if (checked !== undefined) expect(checked).toEqual({ ok: true, output: '' });
  });

  it("prom-client's global register gets nothing", async () => {
    const registry = new Registry();
    const call = await gateway([prometheus({ registry, upstreams: ['payments'] })]);
    await call('/refused');
    expect(register.getSingleMetric(FAILURES_TOTAL)).toBeUndefined();
    expect(await register.metrics()).not.toContain('gateway_errors');
    expect(await series(registry)).toEqual([line('UPSTREAM_UNREACHABLE', 502, 'payments', 1)]);
  });

  it('an OpenMetrics registry shows the same series', async () => {
    const registry = new Registry<OpenMetricsContentType>();
    registry.setContentType(Registry.OPENMETRICS_CONTENT_TYPE);
    const call = await gateway([prometheus({ registry, upstreams: ['payments'] })]);
    await call('/refused');
    const text = await registry.metrics();
    expect(text).toContain(`${line('UPSTREAM_UNREACHABLE', 502, 'payments', 1)}\n`);
    expect(text.endsWith('# EOF\n')).toBe(true);
    // prom-client renames the counter when it writes OpenMetrics; installing again still finds it.
    expect(() => prometheus({ registry, upstreams: ['payments'] })).not.toThrow();
  });

  it('the series sits beside the application’s own metrics in one registry', async () => {
    const registry = new Registry();
    const requests = new Counter({ name: 'http_requests_total', help: 'Answers, by status.', labelNames: ['status'], registers: [registry] });
    const call = await gateway([prometheus({ registry, upstreams: ['payments'] })]);
    requests.inc({ status: await call('/refused') });
    requests.inc({ status: await call('/nowhere') });
    const text = await registry.metrics();
    expect(text).toContain('http_requests_total{status="502"} 1\n');
    expect(text).toContain('http_requests_total{status="404"} 1\n');
    expect(await series(registry)).toEqual([line('UPSTREAM_UNREACHABLE', 502, 'payments', 1)]);
    expectValidText(text);
  });
});

describe('installing in a registry', () => {
  it('twice with the same upstreams, in any order: one counter, both gateways count in it', async () => {
    const registry = new Registry();
    const first = await gateway([prometheus({ registry, upstreams: ['payments', 'search'] })]);
    const second = await gateway([prometheus({ registry, upstreams: ['search', 'payments', 'search'] })]);
    await first('/refused');
    await second('/refused');
    await second('/status/503');
    expect(registry.getMetricsAsArray()).toHaveLength(1);
    expect(await series(registry)).toEqual([line('UPSTREAM_UNAVAILABLE', 503, 'search', 1), line('UPSTREAM_UNREACHABLE', 502, 'payments', 2)]);
  });

  it('again with other upstreams throws, naming both configurations', () => {
    const registry = new Registry();
    prometheus({ registry, upstreams: ['payments'] });
    expect(() => prometheus({ registry, upstreams: ['payments', 'search'] })).toThrow(
      new Error(
        `@gateway-errors/otel/prometheus: ${FAILURES_TOTAL} is already installed in this registry with upstreams [payments]; install it once per registry, with one configuration (got [payments,search]).`,
      ),
    );
    expect(() => prometheus({ registry })).toThrow(/already installed in this registry with upstreams \[payments\].*\(got \[\]\)/);
  });

  it('over a metric of that name registered by something else throws, and leaves it alone', async () => {
    const registry = new Registry();
    const foreign = new Counter({ name: FAILURES_TOTAL, help: 'mine', registers: [registry] });
    expect(() => prometheus({ registry, upstreams: ['payments'] })).toThrow(
      new Error(`@gateway-errors/otel/prometheus: this registry already has a metric named ${FAILURES_TOTAL}, registered by something else.`),
    );
    expect(registry.getSingleMetric(FAILURES_TOTAL)).toBe(foreign);
    expect(await registry.metrics()).toContain(`# HELP ${FAILURES_TOTAL} mine\n`);
  });

  it('each registry its own counter', async () => {
    const one = new Registry();
    const two = new Registry();
    const call = await gateway([prometheus({ registry: one, upstreams: ['payments'] })]);
    prometheus({ registry: two, upstreams: ['search'] });
    await call('/refused');
    expect(await series(one)).toEqual([line('UPSTREAM_UNREACHABLE', 502, 'payments', 1)]);
    expect(await series(two)).toEqual([]);
  });

  it('after registry.clear(), a new install counts in the registry again', async () => {
    const registry = new Registry();
    prometheus({ registry, upstreams: ['payments'] });
    registry.clear();
    const call = await gateway([prometheus({ registry, upstreams: ['payments'] })]);
    await call('/refused');
    expect(await series(registry)).toEqual([line('UPSTREAM_UNREACHABLE', 502, 'payments', 1)]);
  });

  it('a second copy of the module (ESM and CJS builds, a duplicate install) reuses the counter too', async () => {
    const registry = new Registry();
    const call = await gateway([prometheus({ registry, upstreams: ['payments'] })]);
    vi.resetModules();
    const copy = await import('./prometheus.js');
    expect(copy.prometheus).not.toBe(prometheus);
    const other = await gateway([copy.prometheus({ registry, upstreams: ['payments'] })]);
    await call('/refused');
    await other('/refused');
    expect(await series(registry)).toEqual([line('UPSTREAM_UNREACHABLE', 502, 'payments', 2)]);
    expect(() => copy.prometheus({ registry, upstreams: ['search'] })).toThrow(/already installed/);
  });
});

describe('options', () => {
  const registry = new Registry();
  const bad = (options: unknown) => () => prometheus(options as PrometheusOptions);

  it('a registry is required, and must be one', () => {
    expect(bad(undefined)).toThrow(new TypeError('@gateway-errors/otel/prometheus: options must be an object with a `registry`.'));
    expect(bad(null)).toThrow(TypeError);
    expect(bad('registry')).toThrow(TypeError);
    expect(bad({})).toThrow(new TypeError('@gateway-errors/otel/prometheus: option `registry` must be a prom-client Registry (`new Registry()`).'));
    expect(bad({ registry: undefined })).toThrow(/option `registry`/);
    expect(bad({ registry: {} })).toThrow(/option `registry`/);
    expect(bad({ registry: { getSingleMetric: () => undefined } })).toThrow(/option `registry`/);
    expect(bad({ registry: 'default' })).toThrow(/option `registry`/);
    expect(bad(registry)).toThrow(new TypeError('@gateway-errors/otel/prometheus: pass the registry as an option: prometheus({ registry }).'));
  });

  it('upstreams: an array of short names, not _OTHER', () => {
    expect(bad({ registry, upstreams: 'payments' })).toThrow(TypeError);
    expect(bad({ registry, upstreams: 'payments' })).toThrow(/option `upstreams`/);
    expect(bad({ registry, upstreams: [42] })).toThrow(/option `upstreams`.*got number/);
    expect(bad({ registry, upstreams: ['_OTHER'] })).toThrow(/option `upstreams`.*"_OTHER"/);
    expect(bad({ registry, upstreams: ['a"b'] })).toThrow(/option `upstreams`/);
    expect(bad({ registry, upstreams: ['a\nb'] })).toThrow(/option `upstreams`/);
    expect(bad({ registry, upstreams: [''] })).toThrow(/option `upstreams`/);
    expect(bad({ registry, upstreams: ['x'.repeat(1024 * 1024)] })).toThrow(/option `upstreams`/);
    expect(bad({ registry, upstreams: Array.from({ length: 101 }, (_, index) => `u${index}`) })).toThrow(/at most 100/);
    // Nothing was registered by the calls that threw.
    expect(registry.getSingleMetric(FAILURES_TOTAL)).toBeUndefined();
  });

  it('an unknown option is named', () => {
    expect(bad({ registry, registers: [registry] })).toThrow(
      new TypeError('@gateway-errors/otel/prometheus: unknown option `registers`. Known options: registry, upstreams.'),
    );
    expect(bad({ registry, upstream: ['payments'] })).toThrow(/unknown option `upstream`/);
  });

  it('reads own options only, each once: a polluted Object.prototype chooses nothing', () => {
    const prototype = Object.prototype as Record<string, unknown>;
    try {
      prototype['registry'] = registry;
      prototype['upstreams'] = 'not an array';
      expect(bad({})).toThrow(/option `registry`/);
      expect(() => prometheus({ registry: new Registry() })).not.toThrow();
    } finally {
      delete prototype['registry'];
      delete prototype['upstreams'];
    }
    let reads = 0;
    const fickle = new Registry();
    const options = {
      registry: fickle,
      get upstreams() {
        reads++;
        return reads === 1 ? ['payments'] : 42;
      },
    };
    expect(() => prometheus(options as unknown as PrometheusOptions)).not.toThrow();
    expect(reads).toBe(1);
  });
});
