import { Body, Controller, Logger, Post } from '@nestjs/common';
import { HttpService } from '@nestjs/axios';
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

  constructor(
    private readonly http: TransactionHttpService,
    private readonly axios: HttpService,
  ) {}

  /**
   * Places the order with the orders service. When orders fails, the call fails with a
   * `TransactionHttpError`; left unhandled here, it answers 500 and is reported to Sentry with
   * the same `transaction_id` tag as the error of orders itself.
   */
  @Post()
  async checkout(@Body() cart: Cart, @TransactionId() transactionId: string) {
    this.logger.log(`Checkout of ${cart.lines.length} line(s) in transaction ${transactionId}`);
    // @nestjs/axios, unchanged: the module adds the ID to its calls too (Node.js 22 and later),
    // so orders logs the same ID for this call.
    const { data: skus } = await firstValueFrom(
      this.axios.get<string[]>(`${ORDERS_URL}/orders/catalog`),
    );
    this.logger.log(`The catalog has ${skus.length} products`);
    // No header to pass by hand: the call carries this request's transaction ID.
    const { data: order } = await firstValueFrom(
      this.http.post<Order>(`${ORDERS_URL}/orders`, cart),
    );
    return { transactionId, order };
  }
}
