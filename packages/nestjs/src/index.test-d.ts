/** The public types of the NestJS adapter, checked by the compiler (`pnpm typecheck`, and vitest's typecheck mode). */
import type { Conventions, ConventionsOptions } from '@gateway-errors/core';
import type { DynamicModule, ExceptionFilter, NestMiddleware, NestModule } from '@nestjs/common';
import type { HttpAdapterHost } from '@nestjs/core';
import { describe, expectTypeOf, test } from 'vitest';
import { GATEWAY_ERRORS_CONVENTIONS, GatewayErrorsModule, GatewayExceptionFilter, RequestIdMiddleware } from './index.js';
import type { GatewayErrorsAsyncOptions } from './index.js';

describe('@gateway-errors/nestjs', () => {
  test('the module: forRoot with the conventions, forRootAsync with a factory', () => {
    expectTypeOf<GatewayErrorsModule>().toExtend<NestModule>();
    expectTypeOf(GatewayErrorsModule.forRoot).parameters.toEqualTypeOf<[conventions?: Conventions | ConventionsOptions]>();
    expectTypeOf(GatewayErrorsModule.forRoot).returns.toEqualTypeOf<DynamicModule>();
    expectTypeOf(GatewayErrorsModule.forRootAsync).parameters.toEqualTypeOf<[options: GatewayErrorsAsyncOptions]>();
    expectTypeOf(GatewayErrorsModule.forRootAsync).returns.toEqualTypeOf<DynamicModule>();
    GatewayErrorsModule.forRootAsync({
      inject: ['CONFIG'],
      useFactory: (config: { typeBase: string }) => ({ typeBase: config.typeBase }),
    });
    GatewayErrorsModule.forRootAsync({ useFactory: async () => ({ mode: 'production' as const }) });
    // @ts-expect-error a misspelt option
    GatewayErrorsModule.forRoot({ mdoe: 'production' });
    // @ts-expect-error the factory is required
    GatewayErrorsModule.forRootAsync({ inject: [] });
  });

  test('the filter: an ExceptionFilter built from the HttpAdapterHost and the conventions', () => {
    expectTypeOf<GatewayExceptionFilter>().toExtend<ExceptionFilter>();
    expectTypeOf(GatewayExceptionFilter).constructorParameters.toEqualTypeOf<
      [adapterHost: HttpAdapterHost, conventions?: Conventions | ConventionsOptions]
    >();
  });

  test('the middleware and the injection token', () => {
    expectTypeOf<RequestIdMiddleware>().toExtend<NestMiddleware>();
    expectTypeOf(RequestIdMiddleware).constructorParameters.toEqualTypeOf<[conventions?: Conventions | ConventionsOptions]>();
    expectTypeOf(GATEWAY_ERRORS_CONVENTIONS).toExtend<symbol>();
  });
});
