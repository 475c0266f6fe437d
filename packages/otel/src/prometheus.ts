/**
 * The Prometheus twin of the OpenTelemetry counter, for services that expose `/metrics` with
 * prom-client and no OpenTelemetry: the same series, `gateway_errors_upstream_failures_total{code,status,upstream}`.
 */
import type { ProblemObservation, ProblemObserver } from '@gateway-errors/core';
import { Counter } from 'prom-client';
import type { Registry } from 'prom-client';
import { failureLabels, upstreamNames } from './failures.js';

/** The counter's name in Prometheus: the OpenTelemetry counter's, as its exporter names it. */
export const FAILURES_TOTAL = 'gateway_errors_upstream_failures_total';

const LABELS = ['code', 'status', 'upstream'] as const;
const OWNER = '@gateway-errors/otel/prometheus';

/** Options of {@link prometheus}. */
export interface PrometheusOptions {
  /** The registry the counter is registered in; never the global one unless it is passed. */
  readonly registry: Registry;
  /** The upstream names the `upstream` label takes as they are; any other becomes `_OTHER`. Default: none. */
  readonly upstreams?: readonly string[] | undefined;
}

/** What is registered in a registry, by whom: installing twice alike reuses the counter. */
const installed = new WeakMap<Registry, { readonly counter: Counter<(typeof LABELS)[number]>; readonly key: string }>();

/**
 * A problem observer that counts each failure of an upstream (a 502, 503 or 504 answered) in
 * `gateway_errors_upstream_failures_total`, in the registry given. Installing it twice in a registry
 * with the same upstreams reuses the counter; with others, or over a metric of that name registered
 * by something else, it throws.
 *
 * @example
 * ```ts
 * const registry = new Registry();
 * const conventions = defineConventions({ observers: [prometheus({ registry, upstreams: ['payments'] })] });
 * app.get('/metrics', async (_req, res) => res.type(registry.contentType).send(await registry.metrics()));
 * ```
 */
export function prometheus(options: PrometheusOptions): ProblemObserver {
  if (typeof options !== 'object' || options === null) throw new TypeError(`${OWNER}: options must be an object with a \`registry\`.`);
  const { registry, upstreams: names, ...rest } = options;
  const unknown = Object.keys(rest);
  if (unknown.length > 0) throw new TypeError(`${OWNER}: unknown option \`${unknown[0]}\`. Known options: registry, upstreams.`);
  if (typeof registry?.getSingleMetric !== 'function' || typeof registry.registerMetric !== 'function') {
    throw new TypeError(`${OWNER}: option \`registry\` must be a prom-client Registry (\`new Registry()\`).`);
  }
  const upstreams = upstreamNames(names, OWNER);
  const key = [...upstreams].sort().join(',');
  const counter = counterIn(registry, key);

  return function observeWithPrometheus({ classification }: ProblemObservation): void {
    const labels = failureLabels(classification, upstreams);
    if (labels !== undefined) counter.inc({ code: labels.code, status: labels.status, upstream: labels.upstream });
  };
}

function counterIn(registry: Registry, key: string): Counter<(typeof LABELS)[number]> {
  const existing = installed.get(registry);
  if (existing !== undefined) {
    if (existing.key === key) return existing.counter;
    throw new Error(
      `${OWNER}: ${FAILURES_TOTAL} is already installed in this registry with upstreams [${existing.key}]; install it once per registry, with one configuration (got [${key}]).`,
    );
  }
  if (registry.getSingleMetric(FAILURES_TOTAL) !== undefined) {
    throw new Error(`${OWNER}: this registry already has a metric named ${FAILURES_TOTAL}, registered by something else.`);
  }
  const counter = new Counter({
    name: FAILURES_TOTAL,
    help: 'Failures of upstreams answered by this service: its 502, 503 and 504 problems.',
    labelNames: LABELS,
    registers: [registry],
  });
  installed.set(registry, { counter, key });
  return counter;
}
