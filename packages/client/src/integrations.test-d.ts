import type { IAxiosRetryConfig } from 'axios-retry';
import type { ExtendOptions } from 'got';
import type { ExtendOptions as Got16ExtendOptions } from 'got16';
import type { Options as KyOptions } from 'ky';
import type { Options as Ky2Options } from 'ky2';
import type { Dispatcher, RetryHandler } from 'undici';
import { expectTypeOf, test } from 'vitest';
import type { RetryOptions } from './decision.js';
import { axiosRetryOptions, gotRetry, kyRetry, undiciRetry } from './integrations.js';

test('each integration returns what its client takes as retry options', () => {
  expectTypeOf(kyRetry()).toExtend<NonNullable<KyOptions['retry']>>();
  expectTypeOf(kyRetry()).toExtend<NonNullable<Ky2Options['retry']>>();
  expectTypeOf(gotRetry()).toExtend<NonNullable<ExtendOptions['retry']>>();
  expectTypeOf(gotRetry()).toExtend<NonNullable<Got16ExtendOptions['retry']>>();
  expectTypeOf(axiosRetryOptions()).toExtend<IAxiosRetryConfig>();
  expectTypeOf(undiciRetry()).toExtend<RetryHandler.RetryOptions>();
  expectTypeOf(undiciRetry().readProblem).toExtend<Dispatcher.DispatcherComposeInterceptor>();
});

test('each integration takes the decision’s options', () => {
  expectTypeOf(kyRetry).parameter(0).toEqualTypeOf<RetryOptions | undefined>();
  // @ts-expect-error attempts is a number
  kyRetry({ attempts: '3' });
});
