import { Module } from '@nestjs/common';
import { GatewayErrorsModule } from '@gateway-errors/nestjs';
import { conventions } from './conventions';
import { OrdersController } from './orders.controller';

@Module({ imports: [GatewayErrorsModule.forRoot(conventions)], controllers: [OrdersController] })
export class AppModule {}
