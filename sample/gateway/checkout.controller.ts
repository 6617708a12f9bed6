import { Body, Controller, Logger, Post } from '@nestjs/common';
import { firstValueFrom } from 'rxjs';
import { TransactionHttpService, TransactionId } from 'nestjs-transaction-id';

const ORDERS_URL = process.env.ORDERS_URL ?? 'http://127.0.0.1:3001';

export interface Cart {
  lines: Array<{ sku: string; quantity: number }>;
}

export interface Order {
  id: string;
  total: number;
}

@Controller('checkout')
export class CheckoutController {
  private readonly logger = new Logger(CheckoutController.name);

  constructor(private readonly http: TransactionHttpService) {}

  /**
   * Places the order with the orders service. When orders fails, the call fails with a
   * `TransactionHttpError`; left unhandled here, it answers 500 and is reported to Sentry with
   * the same `transaction_id` tag as the error of orders itself.
   */
  @Post()
  async checkout(@Body() cart: Cart, @TransactionId() transactionId: string) {
    this.logger.log(`Checkout of ${cart.lines.length} line(s) in transaction ${transactionId}`);
    // No header to pass by hand: the call carries this request's transaction ID.
    const { data: order } = await firstValueFrom(
      this.http.post<Order>(`${ORDERS_URL}/orders`, cart),
    );
    return { transactionId, order };
  }
}
