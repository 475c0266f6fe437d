/**
 * @module
 * NestJS adapter of gateway-errors: a global exception filter and a request-ID
 * middleware, on `@nestjs/platform-express` and `@nestjs/platform-fastify`, and
 * `forwardThroughAxios` for `@nestjs/axios`.
 */
import {
  applyProblem,
  defineConventions,
  hopOf,
  renderProblem,
  REQUEST_ID_KEY,
  resolveRequestId,
  ROUTE_NOT_FOUND,
  writeProblem,
} from '@gateway-errors/core';
import type { Conventions, ConventionsOptions, LoggerLike, NodeResponseLike, ProblemSink, RequestIdStash, ResponseState } from '@gateway-errors/core';
import { runWithHop } from '@gateway-errors/core/node';
import { Catch, Global, Inject, Injectable, Logger, Module, Optional, RequestMethod } from '@nestjs/common';
import type {
  ArgumentsHost,
  DynamicModule,
  ExceptionFilter,
  InjectionToken,
  MiddlewareConsumer,
  ModuleMetadata,
  NestMiddleware,
  NestModule,
  OptionalFactoryDependency,
} from '@nestjs/common';
import { APP_FILTER, HttpAdapterHost } from '@nestjs/core';
import { from } from 'rxjs';
import type { Observable } from 'rxjs';
import { mergeMap } from 'rxjs/operators';

export type { Conventions, ConventionsOptions } from '@gateway-errors/core';
export { forwardThroughAxios } from './axios.js';
export type { AxiosInstanceLike, AxiosRequestConfigLike, ForwardThroughAxiosOptions } from './axios.js';

/** Injection token of the conventions the module was given. */
export const GATEWAY_ERRORS_CONVENTIONS: unique symbol = Symbol.for('gateway-errors.nestjs.conventions');

type RawRequest = { headers: Record<string, string | string[] | undefined> } & RequestIdStash;
type FastifyReplyLike = {
  raw: unknown;
  getHeaders(): Record<string, unknown>;
  getHeader?(name: string): unknown;
  removeHeader(name: string): unknown;
};

/**
 * Middleware that resolves the request ID (the incoming header when valid,
 * else a new one) and sets the response header, on both platforms. The
 * filter answers with the same ID. The rest of the request runs with its hop
 * (`runWithHop`), so upstream calls made while handling it (`withUpstream`,
 * `fetchUpstream`, {@link forwardThroughAxios}) pass the request ID and
 * `traceparent` on.
 */
@Injectable()
export class RequestIdMiddleware implements NestMiddleware {
  private readonly conventions: Conventions;

  constructor(@Optional() @Inject(GATEWAY_ERRORS_CONVENTIONS) conventions?: Conventions | ConventionsOptions) {
    this.conventions = defineConventions(conventions);
  }

  use(req: RawRequest, res: { setHeader(name: string, value: string): unknown }, next: (error?: unknown) => void): void {
    const id = resolveRequestId(req.headers, this.conventions);
    req[REQUEST_ID_KEY] = id;
    res.setHeader(this.conventions.requestIdHeader, id);
    if (this.conventions.hopStorage) runWithHop(hopOf(req.headers, id, this.conventions), next);
    else next();
  }
}

/** The conventions of each app, by its `HttpAdapterHost` (one per app): those a filter was given first. */
const APP_CONVENTIONS = new WeakMap<object, Conventions>();

/**
 * The exception filter: answers every HTTP error with the core's problem
 * response through the platform's `HttpAdapterHost`. Contexts that are not
 * HTTP: GraphQL resolvers' failures become field errors with the problem as `extensions`;
 * microservice and WebSocket errors go to Nest's own filters for those contexts.
 *
 * @example
 * ```ts
 * const app = await NestFactory.create(AppModule);
 * app.useGlobalFilters(new GatewayExceptionFilter(app.get(HttpAdapterHost), conventions));
 * ```
 */
@Catch()
export class GatewayExceptionFilter implements ExceptionFilter {
  private resolved: Conventions | undefined;
  /** Nest's Logger: each 5xx once, the core's log record (request ID, code, upstream, the masked error with its causes and stack). */
  private readonly logger: LoggerLike = nestLogger(new Logger('GatewayErrors'));

  constructor(
    @Inject(HttpAdapterHost) private readonly adapterHost: HttpAdapterHost,
    @Optional() @Inject(GATEWAY_ERRORS_CONVENTIONS) conventions?: Conventions | ConventionsOptions,
  ) {
    if (conventions !== undefined) {
      this.resolved = defineConventions(conventions);
      // The app's conventions: a filter Nest makes for `@UseFilters(GatewayExceptionFilter)` without the
      // module finds them here, so a controller's filter never answers with other conventions than the app's.
      if (typeof adapterHost === 'object' && adapterHost !== null && !APP_CONVENTIONS.has(adapterHost)) {
        APP_CONVENTIONS.set(adapterHost, this.resolved);
      }
    }
  }

  /** Given, else the app's (the module's, or those of the filter made with them), else the defaults. Read when the first error comes. */
  private get conventions(): Conventions {
    return (this.resolved ??= APP_CONVENTIONS.get(this.adapterHost) ?? defineConventions(undefined));
  }

  catch(exception: unknown, host: ArgumentsHost): void | Error | Observable<never> {
    const type = host.getType<string>();
    if (type === 'rpc') return handOnRpc(exception, host);
    if (type === 'ws') return handOnWs(exception, host);
    if (type === 'graphql') return this.graphqlError(exception, host);
    if (type !== 'http') throw exception;

    const http = host.switchToHttp();
    const request = http.getRequest<Record<string, unknown>>();
    const response = http.getResponse<unknown>();
    const raw = ((request['raw'] as RawRequest | undefined) ?? request) as RawRequest;
    const adapter = this.adapterHost.httpAdapter;
    const method = adapter.getRequestMethod(request) as string;
    const url = adapter.getRequestUrl(request) as string;
    const problem = renderProblem(
      isRouteNotFound(exception, method, url) ? ROUTE_NOT_FOUND : exception,
      { method, url, headers: raw.headers, id: raw[REQUEST_ID_KEY], logger: this.logger },
      this.conventions,
    );
    if (isFastifyReply(response)) applyProblem(this.replySink(response), problem);
    else writeProblem(response as NodeResponseLike, problem);
  }

  /** A Fastify reply written through the adapter, so Fastify's reply lifecycle (hooks, logging) sees the response. */
  private replySink(reply: FastifyReplyLike): ProblemSink {
    return new ReplySink(this.adapterHost.httpAdapter, reply);
  }

  /**
   * A resolver's failure as the field error the GraphQL server answers with: the problem's `detail`
   * (or `title`) as message, its other members as `extensions`. A query is classified as a GET and a
   * mutation as a POST, so retry guidance knows whether a retry is safe. An error built for GraphQL
   * on purpose (a `GraphQLError`) is returned as it is.
   */
  private graphqlError(exception: unknown, host: ArgumentsHost): Error {
    if (isGraphQLError(exception)) return exception;
    const { raw, url, response } = graphqlHttp(host.getArgByIndex<GraphQLContext | undefined>(2));
    const info = host.getArgByIndex<{ operation?: { operation?: unknown } } | undefined>(3);
    const problem = renderProblem(
      exception,
      {
        method: info?.operation?.operation === 'mutation' ? 'POST' : 'GET',
        url,
        headers: raw?.headers,
        id: raw?.[REQUEST_ID_KEY],
        logger: this.logger,
      },
      this.conventions,
    );
    if (raw !== undefined) raw[REQUEST_ID_KEY] = problem.requestId;
    markResponse(response, this.conventions.requestIdHeader, problem.requestId);
    // The members but `detail`, which is the message, and `instance`, the GraphQL endpoint's path.
    const extensions: Record<string, unknown> = {};
    for (const [name, value] of Object.entries(problem.members)) {
      if (value !== undefined && name !== 'detail' && name !== 'instance') extensions[name] = value;
    }
    const error = Object.assign(new Error(problem.members.detail ?? problem.members.title), { extensions });
    // Its stack would only show this filter: the cause is in `extensions.debug` in development.
    error.stack = `Error: ${error.message}`;
    return error;
  }
}

/**
 * The core's `(fields, message)` as one argument for Nest's `Logger.error(message, ...params)`: the
 * message inside the record. Given as two, Nest takes the string after an object for a stack and
 * prints it on a line of its own, or, in JSON mode, as `stack`. As one object, `ConsoleLogger` prints
 * the record whole: through `util.inspect` in text mode (its default depth, 5, reaches each cause's
 * `upstream`; the error's message and stack hold the whole chain at any depth), as JSON under
 * `message` in JSON mode.
 */
function nestLogger(logger: Logger): LoggerLike {
  return {
    error(fields, message) {
      logger.error({ msg: message, ...fields });
    },
  };
}

/*
 * The global filter (APP_FILTER) also catches what microservice handlers throw, and one applied to a
 * WebSocket gateway with @UseFilters() what the gateway throws. As it catches everything, Nest's own
 * default for those contexts never runs: hand the exception to that default, loaded only where the
 * context exists (its package is then installed). An RPC caller gets `{ status: 'error', message }` and a
 * socket an `exception` event, as without this filter. Rethrowing instead would reject inside Nest's
 * WebSocket proxy, where nothing awaits it.
 */
function handOnRpc(exception: unknown, host: ArgumentsHost): Observable<never> {
  return from(import('@nestjs/microservices')).pipe(
    mergeMap(({ BaseRpcExceptionFilter }) => new BaseRpcExceptionFilter().catch(exception, host) as Observable<never>),
  );
}

function handOnWs(exception: unknown, host: ArgumentsHost): void {
  import('@nestjs/websockets')
    .then(({ BaseWsExceptionFilter }) => new BaseWsExceptionFilter().catch(exception, host))
    .catch(() => undefined);
}

/** The request and response as GraphQL drivers put them in the context: Apollo and Mercurius, on either platform. */
type GraphQLContext = { req?: unknown; request?: unknown; res?: unknown; reply?: unknown };
type GraphQLRequest = RawRequest & { raw?: RawRequest; url?: unknown; originalUrl?: unknown; res?: unknown };

/** The Node.js request, its URL and the HTTP response (when reachable) behind a GraphQL context. */
function graphqlHttp(context: GraphQLContext | undefined): { raw: RawRequest | undefined; url: string | undefined; response: unknown } {
  const found = context?.req ?? context?.request ?? (context?.reply as { request?: unknown } | undefined)?.request;
  const request = typeof found === 'object' && found !== null ? (found as GraphQLRequest) : undefined;
  const raw = (request?.raw ?? request) as (RawRequest & { url?: unknown }) | undefined;
  // Express rewrites `url` under the GraphQL server's mount path; `originalUrl` keeps it.
  const url = request?.originalUrl ?? raw?.url;
  // Nest's Apollo driver puts only `req` in the context; Express links the response from it.
  const response = (context?.res ?? context?.reply ?? request?.res) as { raw?: unknown } | undefined;
  return { raw, url: typeof url === 'string' ? url : undefined, response: response?.raw ?? response };
}

function isGraphQLError(exception: unknown): exception is Error {
  return exception instanceof Error && exception.name === 'GraphQLError' && 'extensions' in exception;
}

/** The request ID, and no caching, on the HTTP response that carries a failed GraphQL field, while its head is unsent. */
function markResponse(response: unknown, requestIdHeader: string, requestId: string): void {
  const target = response as { headersSent?: unknown; setHeader?: unknown } | undefined;
  if (typeof target?.setHeader !== 'function' || target.headersSent !== false) return;
  const { setHeader } = target as { setHeader(name: string, value: string): unknown };
  setHeader.call(target, requestIdHeader, requestId);
  setHeader.call(target, 'cache-control', 'no-store');
}

/** Nest's router answers unmatched routes with `NotFoundException('Cannot GET /path')`, echoing the request. */
function isRouteNotFound(exception: unknown, method: string, url: string): boolean {
  if (typeof exception !== 'object' || exception === null) return false;
  const candidate = exception as { getStatus?: unknown; message?: unknown };
  return (
    typeof candidate.getStatus === 'function' &&
    (candidate.getStatus as () => unknown).call(exception) === 404 &&
    candidate.message === `Cannot ${method} ${url}`
  );
}

/** What a Fastify reply offers to end it. */
interface SendingReply {
  code(status: number): SendingReply;
  serializer(serialize: (payload: string) => string): SendingReply;
  send(payload?: string): unknown;
}

/** The serializer of an answer the core serialized. */
const asIs = (payload: string): string => payload;

/** A Fastify reply as the core writes onto it, through Nest's adapter. A class: a failure makes no closures. */
class ReplySink implements ProblemSink {
  private readonly raw: NodeResponseLike;

  constructor(
    private readonly adapter: HttpAdapterHost['httpAdapter'],
    private readonly reply: FastifyReplyLike,
  ) {
    this.raw = reply.raw as NodeResponseLike;
  }

  state(): ResponseState {
    const { raw } = this;
    if (raw.writableEnded === true || raw.destroyed === true) return 'gone';
    // NestJS 11's `isHeadersSent` reads only `reply.sent`, which misses headers flushed through `reply.raw`.
    return this.adapter.isHeadersSent(this.reply) || raw.headersSent ? 'started' : 'open';
  }

  headerNames(): string[] {
    return Object.keys(this.reply.getHeaders());
  }

  removeHeader(name: string): void {
    this.reply.removeHeader(name);
  }

  setHeader(name: string, value: string): void {
    this.adapter.setHeader(this.reply, name, value);
  }

  getHeader(name: string): unknown {
    return this.reply.getHeader?.(name);
  }

  end(status: number, body: string | null): void {
    // Fastify's own reply, as the adapter's `reply` ends in, without its checks for bodies of other kinds:
    // the body is a string serialized already, so a route's `reply.serializer()` must not encode it again.
    const reply = this.reply as FastifyReplyLike & SendingReply;
    if (body === null) reply.code(status).send();
    else reply.code(status).serializer(asIs).send(body);
  }

  abort(): void {
    this.raw.destroy?.();
  }
}

function isFastifyReply(response: unknown): response is FastifyReplyLike {
  // In Nest middleware on platform-fastify the response is the raw ServerResponse (nestjs/nest#8712).
  return typeof response === 'object' && response !== null && 'raw' in response && typeof (response as FastifyReplyLike).getHeaders === 'function';
}

/** Options of {@link GatewayErrorsModule.forRootAsync}. */
export interface GatewayErrorsAsyncOptions extends Pick<ModuleMetadata, 'imports'> {
  useFactory: (...args: never[]) => Conventions | ConventionsOptions | Promise<Conventions | ConventionsOptions>;
  inject?: Array<InjectionToken | OptionalFactoryDependency>;
}

/**
 * Registers {@link GatewayExceptionFilter} as the global filter (`APP_FILTER`)
 * and {@link RequestIdMiddleware} for every route.
 *
 * @example
 * ```ts
 * @Module({ imports: [GatewayErrorsModule.forRoot(conventions)] })
 * export class AppModule {}
 * ```
 */
@Global()
@Module({})
export class GatewayErrorsModule implements NestModule {
  static forRoot(conventions?: Conventions | ConventionsOptions): DynamicModule {
    return GatewayErrorsModule.build([{ provide: GATEWAY_ERRORS_CONVENTIONS, useValue: defineConventions(conventions) }], []);
  }

  /**
   * @example
   * ```ts
   * GatewayErrorsModule.forRootAsync({
   *   imports: [ConfigModule],
   *   inject: [ConfigService],
   *   useFactory: (config: ConfigService) => ({ typeBase: config.get('ERROR_TYPE_BASE') }),
   * })
   * ```
   */
  static forRootAsync(options: GatewayErrorsAsyncOptions): DynamicModule {
    return GatewayErrorsModule.build(
      [
        {
          provide: GATEWAY_ERRORS_CONVENTIONS,
          inject: options.inject ?? [],
          useFactory: async (...args: never[]) => defineConventions(await options.useFactory(...args)),
        },
      ],
      options.imports ?? [],
    );
  }

  private static build(providers: DynamicModule['providers'] & object, imports: NonNullable<ModuleMetadata['imports']>): DynamicModule {
    return {
      module: GatewayErrorsModule,
      global: true,
      imports,
      providers: [...providers, RequestIdMiddleware, { provide: APP_FILTER, useClass: GatewayExceptionFilter }],
      exports: [GATEWAY_ERRORS_CONVENTIONS],
    };
  }

  constructor(
    @Optional() @Inject(HttpAdapterHost) private readonly adapterHost?: HttpAdapterHost | undefined,
    @Optional() @Inject(RequestIdMiddleware) private readonly requestIds?: RequestIdMiddleware | undefined,
  ) {}

  configure(consumer: MiddlewareConsumer): void {
    // On platform-fastify, a Fastify `onRequest` hook: what Nest middleware runs in there too, without
    // the middleware layer's cost on every request. Elsewhere, Nest middleware.
    const fastify = fastifyInstance(this.adapterHost);
    if (fastify !== undefined && this.requestIds !== undefined) {
      const requestIds = this.requestIds;
      fastify.addHook('onRequest', (request, reply, done) => requestIds.use(request.raw, reply.raw, done));
      return;
    }
    consumer.apply(RequestIdMiddleware).forRoutes({ path: '*path', method: RequestMethod.ALL });
  }
}

/** The parts of a Fastify instance the request-ID hook uses. */
interface FastifyLike {
  addHook(
    name: 'onRequest',
    hook: (request: { raw: RawRequest }, reply: { raw: { setHeader(name: string, value: string): unknown } }, done: (error?: unknown) => void) => void,
  ): unknown;
}

/** The Fastify instance under Nest's FastifyAdapter, before it is ready; `undefined` on other platforms. */
function fastifyInstance(host: HttpAdapterHost | undefined): FastifyLike | undefined {
  const adapter = host?.httpAdapter;
  if (adapter === undefined || adapter.getType() !== 'fastify') return undefined;
  const instance: unknown = adapter.getInstance();
  return typeof instance === 'object' && instance !== null && typeof (instance as Partial<FastifyLike>).addHook === 'function'
    ? (instance as FastifyLike)
    : undefined;
}
