/**
 * @module
 * The Prometheus twin of the OpenTelemetry counter, for services that expose `/metrics` with
 * prom-client and no OpenTelemetry: the same series, `gateway_errors_upstream_failures_total{code,status,upstream}`.
 */
import type { ProblemObservation, ProblemObserver } from '@gateway-errors/core';
import { Counter } from 'prom-client';
import type { Registry, RegistryContentType } from 'prom-client';
import { failureLabels, upstreamNames } from './failures.js';

/** The counter's name in Prometheus: the OpenTelemetry counter's, as its exporter names it. */
export const FAILURES_TOTAL = 'gateway_errors_upstream_failures_total';

const LABELS = ['code', 'status', 'upstream'] as const;
const OPTIONS: ReadonlySet<string> = new Set(['registry', 'upstreams']);
const OWNER = '@gateway-errors/otel/prometheus';
/**
 * Marks the counter this module registered, with its configuration. A brand on the metric rather than
 * a table of this module's own: a second copy of the package (its ESM and CJS builds, or a duplicate
 * install) recognises the counter too, and a registry that was cleared holds no stale entry.
 */
const BRAND = Symbol.for('gateway-errors.otel.prometheus');

type FailuresCounter = Counter<(typeof LABELS)[number]>;

/** Options of {@link prometheus}. */
export interface PrometheusOptions {
  /** The registry the counter is registered in (Prometheus or OpenMetrics); never the global one unless it is passed. */
  readonly registry: Registry<RegistryContentType>;
  /** The upstream names the `upstream` label takes as they are; any other becomes `_OTHER`. Default: none. */
  readonly upstreams?: readonly string[] | undefined;
}

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
  if (isRegistry(options)) throw new TypeError(`${OWNER}: pass the registry as an option: prometheus({ registry }).`);
  // Own properties only, each read once: a polluted Object.prototype must not choose the registry or the names.
  const given: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
  for (const key of Object.keys(options)) {
    if (!OPTIONS.has(key)) throw new TypeError(`${OWNER}: unknown option \`${key}\`. Known options: ${[...OPTIONS].join(', ')}.`);
    given[key] = (options as unknown as Record<string, unknown>)[key];
  }
  const registry = given['registry'];
  if (!isRegistry(registry)) throw new TypeError(`${OWNER}: option \`registry\` must be a prom-client Registry (\`new Registry()\`).`);
  const upstreams = upstreamNames(given['upstreams'], OWNER);
  const counter = counterIn(registry, [...upstreams].sort().join(','));

  return function observeWithPrometheus({ classification }: ProblemObservation): void {
    const labels = failureLabels(classification, upstreams);
    if (labels !== undefined) counter.inc({ code: labels.code, status: labels.status, upstream: labels.upstream });
  };
}

function isRegistry(value: unknown): value is Registry<RegistryContentType> {
  const registry = value as Partial<Registry<RegistryContentType>> | null | undefined;
  return typeof registry?.getSingleMetric === 'function' && typeof registry.registerMetric === 'function' && typeof registry.metrics === 'function';
}

/** The counter of this configuration in the registry: the one installed before, else a new one. */
function counterIn(registry: Registry<RegistryContentType>, key: string): FailuresCounter {
  const existing: unknown = registry.getSingleMetric(FAILURES_TOTAL);
  if (existing !== undefined) {
    const installed = Object.getOwnPropertyDescriptor(existing, BRAND)?.value as unknown;
    if (typeof installed !== 'string') {
      throw new Error(`${OWNER}: this registry already has a metric named ${FAILURES_TOTAL}, registered by something else.`);
    }
    if (installed !== key) {
      throw new Error(
        `${OWNER}: ${FAILURES_TOTAL} is already installed in this registry with upstreams [${installed}]; install it once per registry, with one configuration (got [${key}]).`,
      );
    }
    return existing as FailuresCounter;
  }
  const counter = new Counter({
    name: FAILURES_TOTAL,
    help: 'Failures of upstreams answered by this service: its 502, 503 and 504 problems.',
    labelNames: LABELS,
    registers: [registry],
  });
  Object.defineProperty(counter, BRAND, { value: key });
  return counter;
}
