import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Inject, Injectable, Logger } from '@nestjs/common';
import type { ClientProxy } from '@nestjs/microservices';
import { TransactionContext } from 'nestjs-transaction-id';

export interface OrderLine {
  sku: string;
  quantity: number;
}

export interface Order {
  id: string;
  lines: OrderLine[];
  total: number;
}

interface Product {
  name: string;
  /** In cents. */
  price: number;
}

const CATALOG = new Map<string, Product>([
  ['mug', { name: 'Mug', price: 1200 }],
  ['tea', { name: 'Green tea, 100 g', price: 850 }],
]);

@Injectable()
export class OrdersService {
  private readonly logger = new Logger(OrdersService.name);

  constructor(
    private readonly transaction: TransactionContext,
    @Inject('NOTIFICATIONS') private readonly notifications: ClientProxy,
  ) {}

  /** The SKUs on sale. */
  skus(): string[] {
    this.logger.log(`Reading the catalog in transaction ${this.transaction.id}`);
    return [...CATALOG.keys()];
  }

  async place(lines: OrderLine[]): Promise<Order> {
    // The ID of the checkout that called us, without passing it through every method.
    this.logger.log(`Placing an order in transaction ${this.transaction.id}`);
    let total = 0;
    try {
      for (const line of lines) {
        const product = await this.findProduct(line.sku);
        // The bug this sample is about: a SKU missing from the catalog throws a TypeError here.
        total += product!.price * line.quantity;
      }
    } catch (error) {
      // Tells the notifications service, which gets this checkout's ID with the event.
      const reason = error instanceof Error ? error.message : String(error);
      this.notifications.emit('order.failed', { skus: lines.map((l) => l.sku), reason });
      throw error;
    }
    return { id: randomUUID(), lines, total };
  }

  /** Stands in for a database query. */
  private async findProduct(sku: string): Promise<Product | undefined> {
    await sleep(10);
    return CATALOG.get(sku);
  }
}
