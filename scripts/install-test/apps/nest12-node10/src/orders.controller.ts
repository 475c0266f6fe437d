import { Controller, Get, Param } from '@nestjs/common';
import { withUpstream } from '@gateway-errors/core/upstream';

const ORDERS_URL = process.env.ORDERS_URL ?? 'http://127.0.0.1:4010';

@Controller('orders')
export class OrdersController {
  @Get(':id')
  order(@Param('id') id: string) {
    return withUpstream(
      'orders',
      async (signal, { headers }) => {
        const res = await fetch(`${ORDERS_URL}/orders/${id}`, { signal, headers });
        return res.json();
      },
      { timeoutMs: 2000 },
    );
  }
}
