// The gateway of the soak: takes a checkout, places the order with the orders service through
// `TransactionHttpService`, and lets the orders service's failures escape as 500s.
// Environment: PORT, ADAPTER, SENTRY_DSN, SOAK_DEBUG, ORDERS_URL.
import { Controller, Post, Query } from '@nestjs/common';
import { firstValueFrom } from 'rxjs';
import { TransactionContext, TransactionHttpService, TransactionId } from 'nestjs-transaction-id';
import { inject, route, startService } from './service.mjs';

const ORDERS_URL = process.env.ORDERS_URL;
if (!ORDERS_URL) throw new Error('ORDERS_URL is required');

class CheckoutController {
  constructor(http, transaction) {
    this.http = http;
    this.transaction = transaction;
  }

  async checkout(order, fail, id) {
    const path = fail === '1' ? '/orders/fail' : '/orders';
    const { data } = await firstValueFrom(
      this.http.post(`${ORDERS_URL}${path}`, { order }, { params: { order } }),
    );
    return { id, context: this.transaction.id, orders: data };
  }
}
Controller('checkout')(CheckoutController);
inject(CheckoutController, TransactionHttpService, TransactionContext);
route(CheckoutController, 'checkout', [Post()], [Query('order'), Query('fail'), TransactionId()]);

await startService({
  controllers: [CheckoutController],
  adapter: process.env.ADAPTER ?? 'express',
});
