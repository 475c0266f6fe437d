import { Module } from '@nestjs/common';
import { GatewayErrorsModule } from '@gateway-errors/nestjs';
import { conventions } from './conventions.js';
import { OrdersController } from './orders.controller.js';

@Module({ imports: [GatewayErrorsModule.forRoot(conventions)], controllers: [OrdersController] })
export class AppModule {}
