/**
 * The retry decision ({@link decideRetry}) plugged into the retry machinery of ky, got, axios-retry
 * and undici: each function returns that client's own retry options, with the client's rules opened
 * wide so that it asks the decision about every failure and waits the delay the decision chose.
 * The clients are never imported: the options are plain objects of the shapes they accept.
 */
import { decideRetry, resolveRetryOptions } from './decision.js';
import type { RetryDecision, RetryInput, RetryOptions } from './decision.js';
import { isProblemType, MAX_PROBLEM_BYTES, parseProblem, problemFromBody } from './problem.js';
import type { Problem } from './problem.js';

/** Every method a client may send; the decision, not the client, tells which may be sent again. */
const ALL_METHODS = ['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE', 'POST', 'PATCH'] as const;
/** Every status the decision may retry: 408, 425, 429, and any 5xx a problem may call retryable. */
const RETRY_STATUSES: readonly number[] = [408, 425, 429, 500, 501, 502, 503, 504, 505, 506, 507, 508, 510, 511];

/** Time since a request started, in ms; `start` when the client says when its first attempt began. */
type Elapsed = (key: object | undefined, start?: number) => number;

/**
 * Remembers when each request started, keyed on the object the client hands back on every failure
 * of that request: its own timing of the first attempt when it has one, else the first failure seen.
 * The budget (`budgetMs`) counts from there.
 */
function clock(): Elapsed {
  const started = new WeakMap<object, number>();
  return function elapsed(key, start) {
    if (key === undefined) return 0;
    let first = started.get(key);
    if (first === undefined) {
      first = typeof start === 'number' && Number.isFinite(start) ? start : Date.now();
      started.set(key, first);
    }
    return Math.max(0, Date.now() - first);
  };
}

/** A header of a `Headers`, an `AxiosHeaders`, a plain record (any case) or undici's flat array. */
function headerOf(headers: unknown, name: string): string | undefined {
  if (typeof headers !== 'object' || headers === null) return undefined;
  if (Array.isArray(headers)) {
    for (let index = 0; index + 1 < headers.length; index += 2) {
      if (String(headers[index]).toLowerCase() === name) return String(headers[index + 1]);
    }
    return undefined;
  }
  const get = (headers as { get?: unknown }).get;
  if (typeof get === 'function') {
    const value: unknown = (get as (key: string) => unknown).call(headers, name);
    return value === null || value === undefined || value === false ? undefined : String(value);
  }
  for (const key of Object.keys(headers)) {
    if (key.toLowerCase() !== name) continue;
    const value: unknown = (headers as Record<string, unknown>)[key];
    if (Array.isArray(value)) return value.length > 0 ? String(value[0]) : undefined;
    return value === undefined || value === null ? undefined : String(value);
  }
  return undefined;
}

// No reason fits a decision that could not be made; it never leaves the integration.
const UNREADABLE: RetryDecision = Object.freeze({ retry: false, delayMs: 0, reason: 'status-not-retried' });

/**
 * The decision, or none when what the client handed back cannot be read (a getter that throws):
 * a retry the integration cannot justify is not made, and the client's own error stands.
 */
async function guarded(decide: () => Promise<RetryDecision>): Promise<RetryDecision> {
  try {
    return await decide();
  } catch {
    return UNREADABLE;
  }
}

function guardedSync(decide: () => RetryDecision): RetryDecision {
  try {
    return decide();
  } catch {
    return UNREADABLE;
  }
}

function field(value: unknown, name: string): unknown {
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[name] : undefined;
}

function objectOrUndefined(value: unknown): object | undefined {
  return typeof value === 'object' && value !== null ? value : undefined;
}

function signalOf(value: unknown): AbortSignal | undefined {
  return typeof value === 'object' && value !== null && typeof (value as { aborted?: unknown }).aborted === 'boolean' ? (value as AbortSignal) : undefined;
}

// ─── ky ────────────────────────────────────────────────────────────────────────────────────────

/** The `retry` options {@link kyRetry} returns: ky 1 and ky 2 accept them. */
export interface KyRetry {
  readonly limit: number;
  readonly methods: string[];
  readonly statusCodes: number[];
  readonly afterStatusCodes: number[];
  readonly maxRetryAfter: number;
  readonly backoffLimit: number;
  readonly jitter: boolean;
  readonly retryOnTimeout: boolean;
  readonly shouldRetry: (state: { error: Error; retryCount: number }) => Promise<boolean>;
  readonly delay: (attemptCount: number) => number;
}

/**
 * ky's `retry` options that follow {@link decideRetry}: every method is let through ky's `methods`
 * check, `shouldRetry` decides (ky then skips its own status and `Retry-After` rules), and `delay`
 * returns the wait that decision chose, without ky's jitter or backoff limit.
 *
 * ky 1 does not say which request a network error belongs to: such an error is then retried only
 * with ky 2. The budget counts from a request's first failure.
 *
 * @example
 * ```ts
 * import ky from 'ky';
 * const api = ky.create({ retry: kyRetry({ attempts: 3 }) });
 * ```
 */
export function kyRetry(options: RetryOptions = {}): KyRetry {
  const limits = resolveRetryOptions(options);
  const elapsed = clock();
  // ky calls `delay` with the retry count only, in the microtasks that follow a `shouldRetry` that
  // resolved `true`: the delays wait here in the order the decisions were made, which is the order
  // ky reads them. One that ky never read (ky 2's total timeout won the race) is gone by the next task.
  const delays: number[] = [];
  let clearing = false;
  function keep(delayMs: number): void {
    delays.push(delayMs);
    if (clearing) return;
    clearing = true;
    setTimeout(function kyForgetDelays() {
      delays.length = 0;
      clearing = false;
    }, 0);
  }
  return {
    limit: limits.attempts - 1,
    methods: ALL_METHODS.map((method) => method.toLowerCase()),
    statusCodes: [...RETRY_STATUSES],
    afterStatusCodes: [],
    maxRetryAfter: limits.maxRetryAfterMs,
    backoffLimit: Number.POSITIVE_INFINITY,
    jitter: false,
    retryOnTimeout: true,
    shouldRetry: async function kyShouldRetry({ error, retryCount }) {
      const decision = await guarded(async () => decideRetry(await kyInput(error, retryCount, elapsed), limits));
      if (decision.retry) keep(decision.delayMs);
      return decision.retry;
    },
    delay: function kyDelay() {
      return delays.shift() ?? 0;
    },
  };
}


/** What ky's error says about the attempt. */
async function kyInput(error: unknown, retryCount: number, elapsed: Elapsed): Promise<RetryInput> {
  const request = field(error, 'request');
  const response = field(error, 'response');
  const headers = field(response, 'headers');
  const status = field(response, 'status');
  const hasStatus = typeof status === 'number';
  const method = field(request, 'method');
  return {
    // Without its request (a network error of ky 1) the method is unknown: nothing is assumed safe.
    method: typeof method === 'string' ? method : '',
    attempt: retryCount,
    status: hasStatus ? status : undefined,
    problem: hasStatus ? await parseProblem(error) : undefined,
    retryAfter: headerOf(headers, 'retry-after'),
    date: headerOf(headers, 'date'),
    error: hasStatus ? undefined : error,
    idempotencyKey: headerOf(field(request, 'headers'), 'idempotency-key') !== undefined,
    signal: signalOf(field(request, 'signal')),
    elapsedMs: elapsed(objectOrUndefined(request)),
  };
}

// ─── got ───────────────────────────────────────────────────────────────────────────────────────

/** What got passes to `calculateDelay`, as far as the decision reads it. */
export interface GotRetryObject {
  readonly attemptCount: number;
  readonly error: Error;
  readonly computedValue: number;
}

/** The `retry` options {@link gotRetry} returns: got 14 and 16 accept them. */
export interface GotRetry {
  readonly limit: number;
  readonly methods: (typeof ALL_METHODS)[number][];
  readonly statusCodes: number[];
  readonly calculateDelay: (retryObject: GotRetryObject) => Promise<number>;
}

/**
 * got's `retry` options that follow {@link decideRetry}: `limit`, `methods` and `statusCodes` let
 * every failure through, and `calculateDelay` returns 0 (stop) or the decision's delay. got's own
 * `Retry-After` handling (its `computedValue`) is ignored.
 *
 * @example
 * ```ts
 * import got from 'got';
 * const api = got.extend({ prefixUrl: 'https://api.example.com', retry: gotRetry({ attempts: 3 }) });
 * ```
 */
export function gotRetry(options: RetryOptions = {}): GotRetry {
  const limits = resolveRetryOptions(options);
  const elapsed = clock();
  return {
    limit: limits.attempts - 1,
    methods: [...ALL_METHODS],
    statusCodes: [...RETRY_STATUSES],
    calculateDelay: async function gotCalculateDelay({ attemptCount, error, computedValue }) {
      // A retry asked for by a hook (`RetryError`) is the caller's: got's own value stands.
      if (error.name === 'RetryError') return computedValue;
      const decision = await guarded(async () => decideRetry(await gotInput(error, attemptCount, elapsed), limits));
      // 0 stops got; an immediate retry waits the shortest timer instead.
      return decision.retry ? Math.max(1, decision.delayMs) : 0;
    },
  };
}

/** What got's error says about the attempt. */
async function gotInput(error: Error, attemptCount: number, elapsed: Elapsed): Promise<RetryInput> {
  const requestOptions = field(error, 'options');
  const response = field(error, 'response');
  const headers = field(response, 'headers');
  const status = field(response, 'statusCode');
  const hasStatus = typeof status === 'number';
  const method = field(requestOptions, 'method');
  const start = field(field(error, 'timings'), 'start');
  return {
    method: typeof method === 'string' ? method : 'GET',
    attempt: attemptCount,
    status: hasStatus ? status : undefined,
    problem: hasStatus ? await parseProblem(error) : undefined,
    retryAfter: headerOf(headers, 'retry-after'),
    date: headerOf(headers, 'date'),
    error: hasStatus ? undefined : error,
    idempotencyKey: headerOf(field(requestOptions, 'headers'), 'idempotency-key') !== undefined,
    signal: signalOf(field(requestOptions, 'signal')),
    // got hands back the same options on every failure of a request; its timings say when the first attempt started.
    elapsedMs: elapsed(objectOrUndefined(requestOptions), typeof start === 'number' ? start : undefined),
  };
}

// ─── axios-retry ───────────────────────────────────────────────────────────────────────────────

/** The options {@link axiosRetryOptions} returns, for `axiosRetry(instance, options)` (axios-retry 4). */
export interface AxiosRetry {
  readonly retries: number;
  readonly retryCondition: (error: unknown) => Promise<boolean>;
  readonly retryDelay: (retryCount: number, error: unknown) => number;
}

/** Where the start of a request's first attempt is kept in its axios config, which axios copies to each retry. */
const AXIOS_STARTED = 'gatewayErrorsStartedAt';

/**
 * axios-retry 4 options that follow {@link decideRetry}: `retryCondition` decides (reading the
 * problem from `error.response.data`), `retryDelay` returns the delay of that same decision.
 *
 * @example
 * ```ts
 * import axios from 'axios';
 * import axiosRetry from 'axios-retry';
 * const api = axios.create({ baseURL: 'https://api.example.com' });
 * axiosRetry(api, axiosRetryOptions({ attempts: 3 }));
 * ```
 */
export function axiosRetryOptions(options: RetryOptions = {}): AxiosRetry {
  const limits = resolveRetryOptions(options);
  const decisions = new WeakMap<object, RetryDecision>();
  return {
    retries: limits.attempts - 1,
    retryCondition: async function axiosRetryCondition(error) {
      if (typeof error !== 'object' || error === null) return false;
      const decision = await guarded(async () => decideRetry(await axiosInput(error), limits));
      decisions.set(error, decision);
      return decision.retry;
    },
    retryDelay: function axiosRetryDelay(_retryCount, error) {
      return typeof error === 'object' && error !== null ? (decisions.get(error)?.delayMs ?? 0) : 0;
    },
  };
}

/** What axios's error and axios-retry's state in its config say about the attempt. */
async function axiosInput(error: object): Promise<RetryInput> {
  const config = field(error, 'config');
  // Without its config, nothing says what the request was: `guarded` turns this into no retry.
  if (typeof config !== 'object' || config === null) throw new TypeError('axios error without config');
  const state = field(config, 'axios-retry');
  const retryCount = field(state, 'retryCount');
  const attempt = (typeof retryCount === 'number' ? retryCount : 0) + 1;
  // axios-retry stamps each attempt's start; the first one's is kept for the budget.
  const record = config as Record<string, unknown>;
  if (attempt === 1 || typeof record[AXIOS_STARTED] !== 'number') {
    const first = field(state, 'lastRequestTime');
    record[AXIOS_STARTED] = typeof first === 'number' ? first : Date.now();
  }
  const response = field(error, 'response');
  const headers = field(response, 'headers');
  const status = field(response, 'status');
  const hasStatus = typeof status === 'number';
  const method = field(config, 'method');
  return {
    method: typeof method === 'string' ? method : 'GET',
    attempt,
    status: hasStatus ? status : undefined,
    problem: hasStatus ? await parseProblem(error) : undefined,
    retryAfter: headerOf(headers, 'retry-after'),
    date: headerOf(headers, 'date'),
    // axios names a cancelled request `CanceledError`: the decision knows it as an abort.
    error: hasStatus ? undefined : field(error, 'code') === 'ERR_CANCELED' ? { name: 'AbortError' } : error,
    idempotencyKey: headerOf(field(config, 'headers'), 'idempotency-key') !== undefined,
    signal: signalOf(field(config, 'signal')),
    elapsedMs: Date.now() - (record[AXIOS_STARTED] as number),
  };
}

// ─── undici ────────────────────────────────────────────────────────────────────────────────────

/** The headers undici hands to a handler: lower-case names. */
type UndiciHeaders = Record<string, string | string[] | undefined>;

/** undici's dispatch controller (undici 7), as far as the problem reader uses it. */
export interface UndiciDispatchController {
  readonly aborted: boolean;
  readonly paused: boolean;
  readonly reason: Error | null;
  abort(reason: Error): void;
  pause(): void;
  resume(): void;
}

/** undici's dispatch handler (undici 7), as far as the problem reader uses it. */
export interface UndiciDispatchHandler {
  onRequestStart?(controller: UndiciDispatchController, context: unknown): void;
  onRequestUpgrade?(controller: UndiciDispatchController, statusCode: number, headers: UndiciHeaders, socket: unknown): void;
  onResponseStart?(controller: UndiciDispatchController, statusCode: number, headers: UndiciHeaders, statusMessage?: string): void;
  onResponseData?(controller: UndiciDispatchController, chunk: Uint8Array): void;
  onResponseEnd?(controller: UndiciDispatchController, trailers: UndiciHeaders): void;
  onResponseError?(controller: UndiciDispatchController, error: Error): void;
}

/** undici's `dispatch(options, handler)`. */
export type UndiciDispatch<TOptions extends object = object> = (options: TOptions, handler: UndiciDispatchHandler) => boolean;

/** undici's `retry` callback context, as far as the decision reads it. */
export interface UndiciRetryContext {
  readonly state: { readonly counter: number };
  readonly opts: { readonly method?: string; readonly headers?: unknown; readonly signal?: unknown; readonly retryOptions?: unknown };
}

/** The options {@link undiciRetry} returns, for `new RetryAgent(dispatcher, options)` or `interceptors.retry(options)`. */
export interface UndiciRetry {
  readonly throwOnError: boolean;
  readonly methods: (typeof ALL_METHODS)[number][];
  readonly statusCodes: number[];
  readonly retry: (err: Error, context: UndiciRetryContext, callback: (err?: Error | null) => void) => void;
  /**
   * An interceptor for `dispatcher.compose(...)`, placed under the retry: it reads the problem of
   * each failed answer for `retry`, and hands the answer on with its body intact.
   */
  readonly readProblem: <TOptions extends object>(dispatch: UndiciDispatch<TOptions>) => UndiciDispatch<TOptions>;
}

/**
 * undici `RetryAgent` / `interceptors.retry` options that follow {@link decideRetry}. undici's
 * retry drops the body of an answer before asking, so the problem is read beneath it, by the
 * `readProblem` interceptor of the same options: compose it into the dispatcher the retry sends
 * through. Without it the decision sees the status and headers only. With `throwOnError: false`
 * the last answer reaches the caller as an answer, body included, whatever its status.
 *
 * @example
 * ```ts
 * import { Agent, RetryAgent, request } from 'undici';
 * const retry = undiciRetry({ attempts: 3 });
 * const dispatcher = new RetryAgent(new Agent().compose(retry.readProblem), retry);
 * const { statusCode, body } = await request('https://api.example.com/orders', { dispatcher });
 * ```
 */
export function undiciRetry(options: RetryOptions = {}): UndiciRetry {
  const limits = resolveRetryOptions(options);
  const elapsed = clock();
  // undici hands the same headers object to the handler beneath the retry and, on the error, to `retry`.
  const problems = new WeakMap<object, Problem>();
  return {
    throwOnError: false,
    methods: [...ALL_METHODS],
    statusCodes: [...RETRY_STATUSES],
    retry: function undiciRetryDecision(err, { state, opts }, callback) {
      const signal = signalOf(opts.signal);
      const decision = guardedSync(() => decideRetry(undiciInput(err, { state, opts }, { elapsed, problems }), limits));
      if (!decision.retry) {
        callback(err);
        return;
      }
      const timer = setTimeout(function undiciRetryNow() {
        signal?.removeEventListener('abort', aborted);
        callback(null);
      }, decision.delayMs);
      function aborted(): void {
        clearTimeout(timer);
        callback(err);
      }
      signal?.addEventListener('abort', aborted, { once: true });
    },
    readProblem: function undiciReadProblem(dispatch) {
      return function undiciProblemDispatch(dispatchOptions, handler) {
        return dispatch(dispatchOptions, new ProblemReader(handler, problems));
      };
    },
  };
}

/** What undici's error and dispatch options say about the attempt, with the problem `readProblem` read. */
function undiciInput(err: Error, { state, opts }: UndiciRetryContext, { elapsed, problems }: { elapsed: Elapsed; problems: WeakMap<object, Problem> }): RetryInput {
  const status = field(err, 'statusCode');
  const hasStatus = typeof status === 'number';
  const headers = field(err, 'headers');
  const headersObject = objectOrUndefined(headers);
  return {
    method: typeof opts.method === 'string' ? opts.method : 'GET',
    attempt: state.counter,
    status: hasStatus ? status : undefined,
    problem: hasStatus && headersObject !== undefined ? problems.get(headersObject) : undefined,
    retryAfter: headerOf(headers, 'retry-after'),
    date: headerOf(headers, 'date'),
    error: hasStatus ? undefined : field(err, 'code') === 'UND_ERR_ABORTED' ? { name: 'AbortError' } : err,
    idempotencyKey: headerOf(opts.headers, 'idempotency-key') !== undefined,
    signal: signalOf(opts.signal),
    // undici makes one retry options object per request: the request's key.
    elapsedMs: elapsed(objectOrUndefined(opts.retryOptions)),
  };
}

/** The head of an answer held back while its body is read. */
interface HeldHead {
  readonly controller: UndiciDispatchController;
  readonly statusCode: number;
  readonly headers: UndiciHeaders;
  readonly statusMessage: string | undefined;
}

/**
 * One attempt's handler beneath undici's retry. An answer of status 400 or more that says it is a
 * problem is held back until its body is read (at most {@link MAX_PROBLEM_BYTES}; a longer one is
 * handed on unread), its problem noted against its headers, then head, body and end are handed on,
 * as fast as the handler above lets them through (it pauses while it decides). Any other answer
 * passes straight through.
 */
class ProblemReader implements UndiciDispatchHandler, UndiciDispatchController {
  readonly #handler: UndiciDispatchHandler;
  readonly #problems: WeakMap<object, Problem>;
  #held: HeldHead | undefined;
  #chunks: Uint8Array[] = [];
  #size = 0;
  #started = false;
  #trailers: UndiciHeaders | undefined;
  #ended = false;
  #paused = false;
  #aborted: Error | undefined;

  constructor(handler: UndiciDispatchHandler, problems: WeakMap<object, Problem>) {
    this.#handler = handler;
    this.#problems = problems;
  }

  // The controller handed to the handler above while a held answer is handed on.
  get aborted(): boolean {
    return this.#aborted !== undefined || (this.#held?.controller.aborted ?? false);
  }

  get paused(): boolean {
    return this.#paused;
  }

  get reason(): Error | null {
    return this.#aborted ?? this.#held?.controller.reason ?? null;
  }

  abort(reason: Error): void {
    if (this.#trailers === undefined) {
      this.#held?.controller.abort(reason);
      return;
    }
    // The answer was read to its end already: only what is left to hand on stops.
    if (this.#aborted !== undefined || this.#ended) return;
    this.#aborted = reason;
    this.#chunks = [];
    this.#ended = true;
    this.#handler.onResponseError?.(this, reason);
  }

  pause(): void {
    this.#paused = true;
    if (this.#trailers === undefined) this.#held?.controller.pause();
  }

  resume(): void {
    this.#paused = false;
    this.#flush();
    if (this.#trailers === undefined && !this.#paused) this.#held?.controller.resume();
  }

  onRequestStart(controller: UndiciDispatchController, context: unknown): void {
    this.#handler.onRequestStart?.(controller, context);
  }

  // eslint-disable-next-line max-params -- undici's handler API fixes the signature
  onRequestUpgrade(controller: UndiciDispatchController, statusCode: number, headers: UndiciHeaders, socket: unknown): void {
    this.#handler.onRequestUpgrade?.(controller, statusCode, headers, socket);
  }

  // eslint-disable-next-line max-params -- undici's handler API fixes the signature
  onResponseStart(controller: UndiciDispatchController, statusCode: number, headers: UndiciHeaders, statusMessage?: string): void {
    if (statusCode >= 400 && isProblemType(headerOf(headers, 'content-type'))) {
      this.#held = { controller, statusCode, headers, statusMessage };
      return;
    }
    this.#handler.onResponseStart?.(controller, statusCode, headers, statusMessage);
  }

  onResponseData(controller: UndiciDispatchController, chunk: Uint8Array): void {
    if (this.#held === undefined) {
      this.#handler.onResponseData?.(controller, chunk);
      return;
    }
    this.#chunks.push(chunk);
    this.#size += chunk.length;
    if (this.#started) this.#flush();
    else if (this.#size > MAX_PROBLEM_BYTES) this.#start(undefined);
  }

  onResponseEnd(controller: UndiciDispatchController, trailers: UndiciHeaders): void {
    if (this.#held === undefined) {
      this.#handler.onResponseEnd?.(controller, trailers);
      return;
    }
    this.#trailers = trailers;
    if (this.#started) this.#flush();
    else this.#start(problemFromBody(headerOf(this.#held.headers, 'content-type'), concat(this.#chunks, this.#size)));
  }

  onResponseError(controller: UndiciDispatchController, error: Error): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#chunks = [];
    this.#handler.onResponseError?.(this.#held === undefined ? controller : this, error);
  }

  /** Hands the held head on, with the problem its body holds, then as much of the body as is let through. */
  #start(problem: Problem | undefined): void {
    const held = this.#held;
    if (held === undefined) return;
    if (problem !== undefined) this.#problems.set(held.headers, problem);
    this.#started = true;
    this.#handler.onResponseStart?.(this, held.statusCode, held.headers, held.statusMessage);
    this.#flush();
  }

  #flush(): void {
    try {
      while (!this.#paused && !this.#ended) {
        const chunk = this.#chunks.shift();
        if (chunk !== undefined) {
          this.#handler.onResponseData?.(this, chunk);
        } else {
          const trailers = this.#trailers;
          if (trailers === undefined) return;
          this.#ended = true;
          this.#handler.onResponseEnd?.(this, trailers);
        }
      }
    } catch (error) {
      // A throw of the handler above once the answer was read has no caller to reach: it ends the request.
      if (this.#trailers === undefined) throw error;
      if (!this.#ended) {
        this.#ended = true;
        this.#handler.onResponseError?.(this, error instanceof Error ? error : new Error(String(error)));
      }
    }
  }
}

function concat(chunks: readonly Uint8Array[], size: number): Uint8Array {
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.length;
  }
  return bytes;
}
