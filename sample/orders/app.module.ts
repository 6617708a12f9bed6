import { Module, type OnApplicationShutdown } from '@nestjs/common';
import * as Sentry from '@sentry/node';
import { TransactionModule } from 'nestjs-transaction-id';
import { OrdersController } from './orders.controller.js';
import { OrdersService } from './orders.service.js';

@Module({
  imports: [TransactionModule.forRoot()],
  controllers: [OrdersController],
  providers: [OrdersService],
})
export class AppModule implements OnApplicationShutdown {
  /** Sends the events Sentry still holds before the process exits. */
  async onApplicationShutdown(): Promise<void> {
    await Sentry.flush(2000);
  }
}
