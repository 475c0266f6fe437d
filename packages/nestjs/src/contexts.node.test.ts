/**
 * The module's global filter in the contexts that are not HTTP, for real: a TCP microservice and a
 * socket.io gateway on 127.0.0.1. Their callers get what Nest's own defaults give them, and nothing
 * escapes as an unhandled rejection.
 */
import 'reflect-metadata';
import type { AddressInfo, Server } from 'node:net';
import { Controller, Get, Module, UseFilters } from '@nestjs/common';
import type { INestApplication, INestMicroservice } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ClientProxyFactory, MessagePattern, RpcException, Transport } from '@nestjs/microservices';
import type { ClientProxy } from '@nestjs/microservices';
import { ExpressAdapter } from '@nestjs/platform-express';
import { IoAdapter } from '@nestjs/platform-socket.io';
import { SubscribeMessage, WebSocketGateway, WsException } from '@nestjs/websockets';
import { lastValueFrom } from 'rxjs';
import { io } from 'socket.io-client';
import type { Socket } from 'socket.io-client';
import request from 'supertest';
import { afterEach, describe, expect, it } from 'vitest';
import { GatewayErrorsModule, GatewayExceptionFilter } from './index.js';

const leak = () => Object.assign(new Error('connect ECONNREFUSED 10.0.0.9:5432 password=hunter2'), { code: 'ECONNREFUSED' });

const closers: Array<() => Promise<unknown>> = [];

afterEach(async () => {
  await Promise.all(closers.splice(0).map((close) => close()));
});

describe('a TCP microservice with the module imported', () => {
  @Controller()
  class OrdersHandler {
    @MessagePattern('unknown')
    unknown(): never {
      throw leak();
    }

    @MessagePattern('rpc')
    rpc(): never {
      throw new RpcException('Order 7 is locked.');
    }
  }

  @Module({ imports: [GatewayErrorsModule.forRoot({ onError: false })], controllers: [OrdersHandler] })
  class MicroserviceModule {}

  async function start(): Promise<ClientProxy> {
    // Port 0: the system picks a free one, which no other test can take in between.
    const microservice: INestMicroservice = await NestFactory.createMicroservice(MicroserviceModule, {
      transport: Transport.TCP,
      options: { host: '127.0.0.1', port: 0 },
      logger: false,
    });
    await microservice.listen();
    const { port } = microservice.unwrap<Server>().address() as AddressInfo;
    const client = ClientProxyFactory.create({ transport: Transport.TCP, options: { host: '127.0.0.1', port } });
    closers.push(async () => {
      await client.close();
      await microservice.close();
    });
    return client;
  }

  it("answers as Nest's own RPC filter does: unknown errors hidden, an RpcException's error kept", async () => {
    const client = await start();
    await expect(lastValueFrom(client.send('unknown', {}))).rejects.toEqual({ status: 'error', message: 'Internal server error' });
    await expect(lastValueFrom(client.send('rpc', {}))).rejects.toEqual({ status: 'error', message: 'Order 7 is locked.' });
  });
});

describe('a socket.io gateway beside HTTP routes', () => {
  // A global filter does not reach gateways; one applied to a gateway does, and must answer as Nest would.
  @WebSocketGateway()
  @UseFilters(GatewayExceptionFilter)
  class OrdersGateway {
    @SubscribeMessage('unknown')
    unknown(): never {
      throw leak();
    }

    @SubscribeMessage('ws')
    ws(): never {
      throw new WsException('Order 7 is locked.');
    }
  }

  @Controller()
  class OrdersController {
    @Get('refused')
    refused(): never {
      throw leak();
    }
  }

  @Module({ imports: [GatewayErrorsModule.forRoot({ onError: false })], controllers: [OrdersController], providers: [OrdersGateway] })
  class AppModule {}

  async function start(): Promise<{ app: INestApplication; socket: Socket; url: string }> {
    const app = await NestFactory.create(AppModule, new ExpressAdapter(), { logger: false });
    app.useWebSocketAdapter(new IoAdapter(app));
    await app.listen(0, '127.0.0.1');
    const url = `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`;
    const socket = io(url, { transports: ['websocket'], reconnection: false });
    closers.push(async () => {
      socket.disconnect();
      await app.close();
    });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('connect_error', reject);
    });
    return { app, socket, url };
  }

  function exceptionAfter(socket: Socket, event: string): Promise<unknown> {
    return new Promise((resolve) => {
      socket.once('exception', resolve);
      socket.emit(event, {});
    });
  }

  it("answers sockets as Nest's own WebSocket filter does, and HTTP with problems", async () => {
    const { socket, url } = await start();
    // Nest adds the event's pattern and data as `cause`: the caller's own input, nothing of the error.
    const unknown = await exceptionAfter(socket, 'unknown');
    expect(unknown).toMatchObject({ status: 'error', message: 'Internal server error' });
    expect(JSON.stringify(unknown)).not.toMatch(/hunter2|10\.0\.0\.9|ECONNREFUSED/);
    expect(await exceptionAfter(socket, 'ws')).toMatchObject({ status: 'error', message: 'Order 7 is locked.' });
    const http = await request(url).get('/refused');
    expect(http.status).toBe(502);
    expect(JSON.parse(http.text)).toMatchObject({ code: 'UPSTREAM_UNREACHABLE' });
    expect(socket.connected).toBe(true);
  });
});
