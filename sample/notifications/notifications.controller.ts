import { setTimeout as sleep } from 'node:timers/promises';
import { Controller, Logger } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { TransactionContext } from 'nestjs-transaction-id';

/** What orders emits when it could not place an order. */
export interface OrderFailed {
  skus: string[];
  reason: string;
}

@Controller()
export class NotificationsController {
  private readonly logger = new Logger(NotificationsController.name);

  constructor(private readonly transaction: TransactionContext) {}

  /** Tells the shop's staff about a failed order; fails itself, on purpose, after an await. */
  @EventPattern('order.failed')
  async orderFailed(@Payload() event: OrderFailed): Promise<void> {
    // The checkout's ID, carried by the message from orders: no code for it in either service.
    this.logger.log(`Order failed in transaction ${this.transaction.id}: ${event.reason}`);
    await sleep(10);
    throw new Error(`Mail relay refused the alert for ${event.skus.join(', ')}`);
  }
}
