/**
 * What both counters count and how they label it: one definition, so that the OpenTelemetry counter
 * and its Prometheus twin give one series.
 */
import type { Classification } from '@gateway-errors/core';

/** The metric's name in OpenTelemetry; Prometheus shows it as `gateway_errors_upstream_failures_total`. */
export const FAILURES_METRIC = 'gateway_errors.upstream.failures';

/** The value of the `upstream` attribute of a failure whose upstream is not a configured name. */
export const OTHER_UPSTREAM = '_OTHER';

const MAX_UPSTREAMS = 100;
const UPSTREAM_NAME = /^[A-Za-z0-9_.:-]{1,64}$/;

/** The three statuses of a failure behind this service: 502, 503 and 504. */
export function isUpstreamFailure(status: number): boolean {
  return status === 502 || status === 503 || status === 504;
}

/** The attributes (labels) of one failure: its code, its status and its upstream, bounded. */
export interface FailureLabels {
  readonly code: string;
  readonly status: number;
  readonly upstream: string;
}

/**
 * The labels of a classification, when it is a failure of an upstream. `upstream` is one of the
 * configured names, else `_OTHER`: a name the application builds from a request (a host, a tenant)
 * must not make a new series per value.
 */
export function failureLabels(classification: Classification, upstreams: ReadonlySet<string>): FailureLabels | undefined {
  const { status, code, upstream } = classification;
  if (!isUpstreamFailure(status)) return undefined;
  return { code, status, upstream: typeof upstream === 'string' && upstreams.has(upstream) ? upstream : OTHER_UPSTREAM };
}

/** Validates the configured upstream names, once, at start-up. */
export function upstreamNames(option: unknown, owner: string): ReadonlySet<string> {
  if (option === undefined) return new Set();
  // The elements are read once, by one slice: an array that changes under us cannot pass the checks with one list and keep another.
  const list = Array.isArray(option) ? (Array.prototype.slice.call(option, 0, MAX_UPSTREAMS + 1) as unknown[]) : undefined;
  if (list === undefined || list.length > MAX_UPSTREAMS) {
    throw new TypeError(`${owner}: option \`upstreams\` must be an array of at most ${MAX_UPSTREAMS} names.`);
  }
  const names = new Set<string>();
  for (const name of list) {
    if (typeof name !== 'string' || !UPSTREAM_NAME.test(name) || name === OTHER_UPSTREAM) {
      throw new TypeError(
        `${owner}: option \`upstreams\` takes names of 1–64 of \`A-Z a-z 0-9 _ . : -\` (not "${OTHER_UPSTREAM}"); got ${typeof name === 'string' ? JSON.stringify(name.slice(0, 80)) : typeof name}.`,
      );
    }
    names.add(name);
  }
  return names;
}
