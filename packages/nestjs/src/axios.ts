/**
 * Forwarding through `@nestjs/axios`: an axios request interceptor that puts the handled request's ID
 * and trace context on every call, and a deadline on calls that have none. It reads the hop the
 * request-ID middleware set (`currentHop()`), so it needs no request-scoped provider.
 */
import { currentHop, forwardHeaders } from '@gateway-errors/core';

/** The default deadline when no conventions are at hand: the core's default `upstreamTimeoutMs`. */
const DEFAULT_TIMEOUT_MS = 10_000;
/** The longest delay a timer takes (2^31 - 1 ms). */
const MAX_TIMER_MS = 2_147_483_647;

/** The members of an axios request config the interceptor reads and writes. */
export interface AxiosRequestConfigLike {
  headers?: unknown;
  timeout?: number | undefined;
}

/** What {@link forwardThroughAxios} needs of an axios instance: `HttpService.axiosRef`, `axios` or any `axios.create()`. */
export interface AxiosInstanceLike {
  readonly interceptors: {
    readonly request: {
      use(onFulfilled: <TConfig extends AxiosRequestConfigLike>(config: TConfig) => TConfig): unknown;
    };
  };
}

/** Options of {@link forwardThroughAxios}. */
export interface ForwardThroughAxiosOptions {
  /**
   * Deadline, in milliseconds, of calls made without a `timeout` of their own (axios' `0`, none).
   * Default: the `upstreamTimeoutMs` of the conventions of the request being handled, else 10,000.
   */
  readonly timeoutMs?: number | undefined;
}

/** Instances that already forward: a second call adds no second interceptor. */
const forwarding = new WeakSet<object>();

/**
 * Makes an axios instance forward, on every call made while a request is handled, that request's ID
 * (under the conventions' request-ID header) and its `traceparent` (a child of the active
 * OpenTelemetry span, else the one received), and gives calls without a `timeout` the conventions'
 * `upstreamTimeoutMs`. Headers a call sets itself are kept. A timed-out call fails with axios'
 * `ECONNABORTED`, which `GatewayExceptionFilter` answers with a 504. Calling it again on the same
 * instance changes nothing.
 *
 * @example
 * ```ts
 * @Injectable()
 * export class OrdersClient {
 *   constructor(@Inject(HttpService) private readonly http: HttpService) {
 *     forwardThroughAxios(http.axiosRef);
 *   }
 * }
 * ```
 */
export function forwardThroughAxios(instance: AxiosInstanceLike, options: ForwardThroughAxiosOptions = {}): void {
  const { timeoutMs } = options;
  if (timeoutMs !== undefined && !isDeadline(timeoutMs)) {
    throw new TypeError(`forwardThroughAxios: timeoutMs must be a number of milliseconds above 0, at most ${MAX_TIMER_MS}`);
  }
  if (forwarding.has(instance)) return;
  forwarding.add(instance);
  instance.interceptors.request.use(function forwardHop<TConfig extends AxiosRequestConfigLike>(config: TConfig): TConfig {
    const target: AxiosRequestConfigLike = config;
    const hop = currentHop();
    for (const [name, value] of Object.entries(forwardHeaders(hop))) setUnlessPresent(target, name, value);
    if (!isDeadline(target.timeout)) target.timeout = timeoutMs ?? conventionsTimeout(hop);
    return config;
  });
}

function isDeadline(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value) && value > 0 && value <= MAX_TIMER_MS;
}

function conventionsTimeout(hop: ReturnType<typeof currentHop>): number {
  try {
    const timeout: unknown = hop?.conventions?.upstreamTimeoutMs;
    return isDeadline(timeout) ? timeout : DEFAULT_TIMEOUT_MS;
  } catch {
    return DEFAULT_TIMEOUT_MS;
  }
}

interface HeadersMethods {
  has(name: string): unknown;
  set(name: string, value: string): unknown;
}

/** Sets a header the call did not set itself: on axios' `AxiosHeaders` (case-insensitive), else on a plain record. */
function setUnlessPresent(config: AxiosRequestConfigLike, name: string, value: string): void {
  const headers = config.headers;
  if (typeof headers === 'object' && headers !== null && typeof (headers as Partial<HeadersMethods>).has === 'function' && typeof (headers as Partial<HeadersMethods>).set === 'function') {
    const methods = headers as HeadersMethods;
    if (methods.has(name) !== true) methods.set(name, value);
    return;
  }
  const record: Record<string, unknown> = typeof headers === 'object' && headers !== null ? (headers as Record<string, unknown>) : {};
  const present = Object.keys(record).some((key) => key.toLowerCase() === name);
  if (!present) record[name] = value;
  config.headers = record;
}
