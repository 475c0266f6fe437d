import 'reflect-metadata';
import type { AddressInfo } from 'node:net';
import type { Server, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import type { Conventions } from '@gateway-errors/core';
import { GatewayErrorsModule } from '@gateway-errors/nestjs';
import type { Faults } from '@gateway-errors/fault-servers';
import {
  All,
  Body,
  Controller,
  Get,
  Headers,
  Inject,
  Module,
  NotFoundException,
  Param,
  Post,
  Res,
  StreamableFile,
  UnsupportedMediaTypeException,
  ValidationPipe,
} from '@nestjs/common';
import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { IsString } from 'class-validator';
import { connectionsOf } from './connections.js';
import { actions, failingBody, HEADERS_BEFORE_FAILURE, ORDER_BODY_LIMIT } from './scenarios.js';
import { writeBody } from './target.js';
import type { StartOptions, Target } from './target.js';

const FAULTS = Symbol('faults');
const OPTIONS = Symbol('options');
const validation = new ValidationPipe();

class OrderDto {
  @IsString()
  name!: string;
}

@Controller()
class ScenarioController {
  private readonly body: NonNullable<StartOptions['body']>;

  constructor(
    @Inject(FAULTS) private readonly faults: Faults,
    @Inject(OPTIONS) private readonly options: StartOptions,
  ) {
    this.body = options.body ?? failingBody;
  }

  @Post('orders')
  async create(@Headers('content-type') type: string | undefined, @Body() body: unknown): Promise<OrderDto> {
    if (!(type ?? '').startsWith('application/json')) throw new UnsupportedMediaTypeException('Send the order as application/json.');
    return (await validation.transform(body, { type: 'body', metatype: OrderDto })) as OrderDto;
  }

  @All('s/:name')
  async scenario(@Param('name') name: string): Promise<{ ok: true }> {
    const action = this.options.actions?.get(name) ?? actions.get(name);
    if (action === undefined) throw new NotFoundException();
    await action(this.faults);
    return { ok: true };
  }

  @All('stale/:name')
  async stale(
    @Param('name') name: string,
    // Express's response and Fastify's reply both have `header(name, value)`.
    @Res({ passthrough: true }) res: { header(name: string, value: string): unknown },
  ): Promise<{ ok: true }> {
    for (const [header, value] of Object.entries(HEADERS_BEFORE_FAILURE)) res.header(header, value);
    return this.scenario(name);
  }

  @Get('health')
  health(): { ok: true } {
    return { ok: true };
  }

  @Get('stream')
  stream(): StreamableFile {
    return new StreamableFile(Readable.from(this.body(this.faults)), { type: 'text/plain; charset=utf-8' });
  }

  @Get('started')
  async started(@Res() res: ServerResponse | { raw: ServerResponse }): Promise<void> {
    await writeBody('raw' in res ? res.raw : res, this.body(this.faults));
  }
}

function nestTarget(platform: 'express' | 'fastify'): Target {
  return {
    name: `nestjs@12 (platform-${platform})`,
    ownHeaders: platform === 'express' ? ['x-powered-by'] : [],
    async start(conventions: Conventions, faults: Faults, options: StartOptions = {}) {
      @Module({
        imports: [GatewayErrorsModule.forRoot(conventions)],
        controllers: [ScenarioController],
        providers: [
          { provide: FAULTS, useValue: faults },
          { provide: OPTIONS, useValue: options },
        ],
      })
      class AppModule {}

      // With logs, Nest's default: its ConsoleLogger, writing onto process.stdout and process.stderr.
      const logger = options.logs === true ? {} : { logger: false as const };
      let app: INestApplication;
      if (platform === 'express') {
        const express = await NestFactory.create<NestExpressApplication>(AppModule, new ExpressAdapter(), { ...logger, bodyParser: false });
        express.useBodyParser('json', { limit: ORDER_BODY_LIMIT });
        app = express;
      } else {
        app = await NestFactory.create(AppModule, new FastifyAdapter({ bodyLimit: ORDER_BODY_LIMIT }), logger);
      }
      await app.listen(0, '127.0.0.1');
      const server = app.getHttpServer() as Server;
      const { port } = server.address() as AddressInfo;
      return { url: `http://127.0.0.1:${port}`, connections: connectionsOf(server), close: () => app.close() };
    },
  };
}

export const nestTargets: readonly Target[] = [nestTarget('express'), nestTarget('fastify')];
