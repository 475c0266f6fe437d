/**
 * The alert rules as shipped, in a real Prometheus server. It scrapes two instances of the Express
 * example gateway (examples/express-gateway) on 127.0.0.1 every second and evaluates
 * `gateway-errors.rules.yml` (loaded from this folder, unchanged) every second: the `failing`
 * gateway's upstreams refuse connections or answer 503, the `healthy` one's answer. The failing
 * gateway's alerts must turn pending in `/api/v1/alerts`; the healthy one's must stay quiet.
 *
 * Pending, not firing: the rules keep their `for: 5m`. Pending proves that each expression holds on the
 * series a gateway really exposes (names, label values, rates of a live counter), and that a run of
 * seconds does not fire them; the waits themselves are proved by promtool's unit tests
 * (`gateway-errors.rules.test.yml`).
 *
 * Needs the `prometheus` binary on the PATH (Debian: `apt-get install -y prometheus`). Without it the
 * suite is skipped, except in CI (`CI=true`), where `.ci/run` installs it and its absence fails. It takes
 * about 7 seconds, most of them Prometheus's own start (it hands new targets to its scrapers after 5
 * seconds): cheap enough to run with every Node.js version `pnpm check` tests.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { RequestListener, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { refusedPort, statusServer } from '@gateway-errors/fault-servers';
import type { FaultServer } from '@gateway-errors/fault-servers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const RULES = fileURLToPath(new URL('./gateway-errors.rules.yml', import.meta.url));
const EXAMPLES = new URL('../../../examples/', import.meta.url);
const PROMETHEUS = onPath('prometheus');
const REQUIRED = process.env['CI'] === 'true';

/** How long the alerts may take to turn pending: a few seconds are enough (two scrapes, one evaluation). */
const ALERT_DEADLINE_MS = 25_000;
const READY_DEADLINE_MS = 10_000;

interface Alert {
  readonly labels: Record<string, string>;
  readonly state: string;
  readonly value: string;
}

interface Sample {
  readonly metric: Record<string, string>;
  readonly value: [number, string];
}

interface Gateway {
  readonly url: string;
  close(): Promise<void>;
}

let upstream: FaultServer;
let failing: Gateway;
let healthy: Gateway;
let server: ChildProcess | undefined;
let serverLog = '';
let api = '';
let dir: string | undefined;
const stopOnExit = (): void => void server?.kill('SIGKILL');

describe.skipIf(PROMETHEUS === undefined && !REQUIRED)('the shipped alert rules in Prometheus', () => {
  beforeAll(async () => {
    if (PROMETHEUS === undefined) throw new Error('CI=true and no `prometheus` on the PATH: install it (apt-get install -y prometheus).');
    upstream = await statusServer();
    const refused = `http://127.0.0.1:${await refusedPort()}`;
    failing = await startGateway({ orders: refused, inventory: upstream.url, payments: refused });
    healthy = await startGateway({ orders: upstream.url, inventory: upstream.url, payments: upstream.url });
    dir = await mkdtemp(join(tmpdir(), 'gateway-errors-prometheus-'));
    const port = await refusedPort();
    api = `http://127.0.0.1:${port}`;
    await writeFile(join(dir, 'prometheus.yml'), config({ failing, healthy }));
    server = spawn(
      PROMETHEUS,
      [
        `--config.file=${join(dir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
        '--log.level=warn',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    process.once('exit', stopOnExit);
    server.on('error', (error) => void (serverLog += `\n${error.message}`));
    server.stderr?.setEncoding('utf8').on('data', (chunk: string) => void (serverLog = (serverLog + chunk).slice(-8_000)));
    await ready();
  }, READY_DEADLINE_MS + 5_000);

  afterAll(async () => {
    await stopServer();
    process.off('exit', stopOnExit);
    await Promise.all([failing?.close(), healthy?.close(), upstream?.close()]);
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  it(
    "turns the failing gateway's alerts pending, and leaves the healthy one's quiet",
    async () => {
      const expected = [
        { alertname: 'GatewayErrorsHigh5xxRatio', job: 'failing', severity: 'critical' },
        { alertname: 'GatewayErrorsUpstreamFailureSpike', job: 'failing', upstream: 'orders', severity: 'warning' },
        { alertname: 'GatewayErrorsUpstreamUnavailable', job: 'failing', upstream: 'inventory', severity: 'warning' },
      ];
      // Until the failing gateway's alerts are all pending and the healthy gateway's request rate is
      // recorded: the two are scraped at different instants, and its quiet must be an evaluated one.
      const deadline = Date.now() + ALERT_DEADLINE_MS;
      let healthyRates: Sample[] = [];
      let alerts: Alert[] = [];
      for (let round = 0; round < 200 && Date.now() < deadline; round++) {
        await drive();
        // The rate first, then the alerts: the alerts are then of the same evaluation or a later one.
        healthyRates = await query('job:http_requests:rate3m{job="healthy"}');
        alerts = await getAlerts();
        if (healthyRates.length > 0 && expected.every((labels) => alerts.some((alert) => matches(alert.labels, labels)))) break;
        await sleep(250);
      }
      const seen: Array<Record<string, string>> = alerts.map((alert) => ({ ...alert.labels, state: alert.state }));
      const context = `alerts: ${JSON.stringify(seen)}\nPrometheus' log:\n${serverLog}`;
      for (const labels of expected) expect(seen, context).toContainEqual({ ...labels, state: 'pending' });
      // Every alert waits 5 minutes: none fires within a run of seconds.
      expect(seen.filter((alert) => alert['state'] !== 'pending')).toEqual([]);
      // A 502 is not a 503: the refused upstream is failing, not unavailable.
      expect(seen.filter((alert) => alert['alertname'] === 'GatewayErrorsUpstreamUnavailable' && alert['upstream'] === 'orders')).toEqual([]);
      expect(healthyRates.map((sample) => Number(sample.value[1])), context).toEqual([expect.any(Number)]);
      expect(Number(healthyRates[0]?.value[1])).toBeGreaterThan(0);
      expect(seen.filter((alert) => alert['job'] === 'healthy')).toEqual([]);
    },
    ALERT_DEADLINE_MS + 5_000,
  );
});

/** The example gateway's two modules, as far as this test uses them (they are JavaScript, typed by JSDoc). */
interface ExampleModules {
  createApp(options: { conventions: unknown; registry: unknown; upstreams: Record<string, string> }): RequestListener;
  conventionsWithMetrics(overrides: { onError: false }): { conventions: unknown; registry: unknown };
}

/**
 * The Express example gateway (examples/express-gateway) with a conventions-and-registry pair of its own,
 * on 127.0.0.1: it proxies `/<service>/…` and serves both counters at `/metrics`. Its logging is off:
 * hundreds of 5xx would fill the test's output.
 */
async function startGateway(upstreams: Record<'orders' | 'inventory' | 'payments', string>): Promise<Gateway> {
  const { createApp } = (await import(fileURLToPath(new URL('express-gateway/app.js', EXAMPLES)))) as Pick<ExampleModules, 'createApp'>;
  const { conventionsWithMetrics } = (await import(fileURLToPath(new URL('conventions/index.js', EXAMPLES)))) as Pick<
    ExampleModules,
    'conventionsWithMetrics'
  >;
  const listening: Server = createServer(createApp({ ...conventionsWithMetrics({ onError: false }), upstreams }));
  await new Promise<void>((resolve) => listening.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(listening.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        listening.closeAllConnections();
        listening.close(() => resolve());
      }),
  };
}

/** One round of traffic: the failing gateway's upstreams refuse (502) or answer 503; the healthy one's answer 200. */
async function drive(): Promise<void> {
  const paths: Array<[Gateway, string, number]> = [
    ...repeat(10, [failing, '/orders/1', 502] as [Gateway, string, number]),
    ...repeat(4, [failing, '/inventory/status/503', 503] as [Gateway, string, number]),
    ...repeat(5, [failing, '/health', 200] as [Gateway, string, number]),
    ...repeat(10, [healthy, '/orders/1', 200] as [Gateway, string, number]),
    ...repeat(2, [healthy, '/nowhere', 404] as [Gateway, string, number]),
  ];
  const statuses = await Promise.all(
    paths.map(async ([gateway, path]) => {
      const response = await fetch(`${gateway.url}${path}`, { signal: AbortSignal.timeout(5_000) });
      await response.arrayBuffer();
      return response.status;
    }),
  );
  expect(statuses).toEqual(paths.map(([, , status]) => status));
}

function repeat<T>(count: number, item: T): T[] {
  return Array.from({ length: count }, () => item);
}

function config(targets: { failing: Gateway; healthy: Gateway }): string {
  const jobs = Object.entries(targets).map(
    ([job, gateway]) => `  - job_name: ${job}\n    static_configs:\n      - targets: ['${new URL(gateway.url).host}']\n`,
  );
  return [
    'global:',
    '  scrape_interval: 1s',
    '  evaluation_interval: 1s',
    'rule_files:',
    `  - ${JSON.stringify(RULES)}`,
    'scrape_configs:',
    ...jobs,
  ].join('\n');
}

async function ready(): Promise<void> {
  const deadline = Date.now() + READY_DEADLINE_MS;
  for (let tries = 0; tries < 100 && Date.now() < deadline; tries++) {
    if (server?.exitCode !== null) break;
    const status = await fetch(`${api}/-/ready`, { signal: AbortSignal.timeout(1_000) }).then(
      (response) => response.status,
      () => 0,
    );
    if (status === 200) return;
    await sleep(100);
  }
  throw new Error(`Prometheus did not become ready (exit code ${String(server?.exitCode)}):\n${serverLog}`);
}

async function getAlerts(): Promise<Alert[]> {
  const body = (await (await fetch(`${api}/api/v1/alerts`, { signal: AbortSignal.timeout(2_000) })).json()) as { data: { alerts: Alert[] } };
  return body.data.alerts;
}

async function query(promql: string): Promise<Sample[]> {
  const url = `${api}/api/v1/query?query=${encodeURIComponent(promql)}`;
  const body = (await (await fetch(url, { signal: AbortSignal.timeout(2_000) })).json()) as { data: { result: Sample[] } };
  return body.data.result;
}

function matches(labels: Record<string, string>, expected: Record<string, string>): boolean {
  return Object.entries(expected).every(([name, value]) => labels[name] === value);
}

/** SIGTERM, then SIGKILL after 5 seconds: the test never leaves a Prometheus behind. */
async function stopServer(): Promise<void> {
  const child = server;
  if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function onPath(name: string): string | undefined {
  for (const folder of (process.env['PATH'] ?? '').split(delimiter)) {
    if (folder === '') continue;
    const candidate = join(folder, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // Not in this folder.
    }
  }
  return undefined;
}
