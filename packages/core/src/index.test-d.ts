/**
 * The public types of the core, checked by the compiler (`pnpm typecheck`, and
 * vitest's typecheck mode): a wrong type fails the build, not a user's.
 */
import { describe, expectTypeOf, test } from 'vitest';
import { defineConventions, describeForLog, problemResponse, renderProblem, toLogEntry } from './index.js';
import type {
  ClassificationOverride,
  ClassifyRequest,
  Conventions,
  ConventionsOptions,
  ErrorHook,
  ErrorMapper,
  ErrorReport,
  InstanceMapper,
  LogEntry,
  LoggedCause,
  LoggedError,
  LoggerLike,
  Problem,
  ProblemBody,
  ProblemFieldError,
} from './index.js';

describe('defineConventions', () => {
  test('takes the options, or nothing, and returns the frozen conventions', () => {
    expectTypeOf(defineConventions).parameters.toEqualTypeOf<[input?: ConventionsOptions]>();
    expectTypeOf(defineConventions).returns.toEqualTypeOf<Conventions>();
    expectTypeOf(defineConventions).toBeCallableWith();
    expectTypeOf(defineConventions).toBeCallableWith({ mode: 'production', typeBase: 'https://errors.example.com/', instance: false });
  });

  test('rejects unknown options and wrong values at compile time', () => {
    // @ts-expect-error a misspelt option is a compile error, not only a TypeError at start-up
    defineConventions({ mdoe: 'production' });
    // @ts-expect-error no such mode
    defineConventions({ mode: 'staging' });
    // @ts-expect-error a logging hook is a function or false
    defineConventions({ onError: true });
    // @ts-expect-error seconds are numbers
    defineConventions({ defaultRetryAfter: '5' });
    // @ts-expect-error a mapper is a function
    defineConventions({ mappers: [{ status: 503 }] });
  });

  test('every option is optional, and the conventions have every one filled in', () => {
    expectTypeOf<Required<ConventionsOptions>>().toExtend<{ [K in keyof Conventions]: unknown }>();
    expectTypeOf<keyof ConventionsOptions>().toEqualTypeOf<keyof Conventions>();
    expectTypeOf<Conventions['mode']>().toEqualTypeOf<'production' | 'development'>();
    expectTypeOf<Conventions['instance']>().toEqualTypeOf<boolean | InstanceMapper>();
    expectTypeOf<Conventions['onError']>().toEqualTypeOf<ErrorHook | false | undefined>();
  });
});

describe('hooks and mappers', () => {
  test('ErrorMapper: the thrown value and the request in, an override or nothing out', () => {
    expectTypeOf<ErrorMapper>().toEqualTypeOf<(error: unknown, request: ClassifyRequest | undefined) => ClassificationOverride | undefined>();
    const mapper: ErrorMapper = (error) => (error instanceof TypeError ? { status: 503, retryable: true, retryAfter: 30 } : undefined);
    expectTypeOf(defineConventions).toBeCallableWith({ mappers: [mapper] });
    // @ts-expect-error a status is a number
    const wrong: ErrorMapper = () => ({ status: '503' });
    void wrong;
  });

  test('ErrorHook: a report in, nothing or a promise out', () => {
    expectTypeOf<ErrorHook>().parameters.toEqualTypeOf<[report: ErrorReport]>();
    expectTypeOf<ErrorHook>().returns.toEqualTypeOf<void | Promise<void>>();
    expectTypeOf<ErrorReport>().toEqualTypeOf<{
      readonly error: unknown;
      readonly classification: ErrorReport['classification'];
      readonly requestId: string;
      readonly method: string;
      readonly path: string;
    }>();
    expectTypeOf(toLogEntry).returns.toEqualTypeOf<LogEntry>();
  });

  test("LogEntry.err: pino's err shape, stack and message as strings", () => {
    expectTypeOf(describeForLog).returns.toEqualTypeOf<LoggedError>();
    expectTypeOf<LogEntry['err']>().toEqualTypeOf<LoggedError>();
    expectTypeOf<LoggedError['stack']>().toEqualTypeOf<string>();
    expectTypeOf<LoggedError['message']>().toEqualTypeOf<string>();
    expectTypeOf<LoggedError['type']>().toEqualTypeOf<string>();
    expectTypeOf<NonNullable<LoggedError['causes']>[number]>().toEqualTypeOf<LoggedCause>();
    expectTypeOf<LoggedCause>().not.toHaveProperty('stack');
  });

  test('LoggerLike: an error method, and pino-style bindings when there are', () => {
    expectTypeOf({ error: (_fields: object, _message?: string) => {} }).toExtend<LoggerLike>();
    expectTypeOf({ error: (_fields: object) => {}, bindings: () => ({ reqId: 'r-1' }) }).toExtend<LoggerLike>();
    expectTypeOf({ error: (_fields: object) => {}, bindings: 'r-1' }).not.toExtend<LoggerLike>();
  });
});

describe('Problem and ProblemBody', () => {
  test('renderProblem returns a Problem; problemResponse a Response', () => {
    expectTypeOf(renderProblem).returns.toEqualTypeOf<Problem>();
    expectTypeOf(problemResponse).returns.toEqualTypeOf<Response>();
  });

  test('a Problem is what an adapter copies onto its response', () => {
    expectTypeOf<Problem['status']>().toEqualTypeOf<number>();
    expectTypeOf<Problem['headers']>().toEqualTypeOf<Readonly<Record<string, string>>>();
    expectTypeOf<Problem['body']>().toEqualTypeOf<string | null>();
    expectTypeOf<Problem['members']>().toEqualTypeOf<Readonly<ProblemBody>>();
    expectTypeOf<Problem['requestId']>().toEqualTypeOf<string>();
  });

  test('a ProblemBody has the RFC 9457 members and ours', () => {
    expectTypeOf<Pick<ProblemBody, 'type' | 'title' | 'status' | 'code' | 'requestId' | 'retryable'>>().toEqualTypeOf<{
      type: string;
      title: string;
      status: number;
      code: string;
      requestId: string;
      retryable: boolean;
    }>();
    expectTypeOf<ProblemBody['detail']>().toEqualTypeOf<string | undefined>();
    expectTypeOf<ProblemBody['instance']>().toEqualTypeOf<string | undefined>();
    expectTypeOf<ProblemBody['retryAfter']>().toEqualTypeOf<number | undefined>();
    expectTypeOf<ProblemBody['errors']>().toEqualTypeOf<readonly ProblemFieldError[] | undefined>();
  });
});
