// The orders service of the soak: places an order and says which transaction ID each part of it
// saw, or fails as a payment provider would. Environment: PORT, ADAPTER, SENTRY_DSN, SOAK_DEBUG.
import { setImmediate as nextTurn } from 'node:timers/promises';
import { Controller, Headers, Post, Query } from '@nestjs/common';
import { TRANSACTION_ID_HEADER, TransactionContext, TransactionId } from 'nestjs-transaction-id';
import { inject, route, startService } from './service.mjs';

class OrdersController {
  constructor(transaction) {
    this.transaction = transaction;
  }

  async place(order, id, header) {
    await nextTurn();
    return { order: Number(order), id, context: this.transaction.id, header };
  }

  async fail(order) {
    await nextTurn();
    throw new Error(`orders: payment declined for order ${order}`);
  }
}
Controller('orders')(OrdersController);
inject(OrdersController, TransactionContext);
route(
  OrdersController,
  'place',
  [Post()],
  [Query('order'), TransactionId(), Headers(TRANSACTION_ID_HEADER)],
);
route(OrdersController, 'fail', [Post('fail')], [Query('order')]);

await startService({ controllers: [OrdersController], adapter: process.env.ADAPTER ?? 'fastify' });
