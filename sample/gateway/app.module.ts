import { Module, type OnApplicationShutdown } from '@nestjs/common';
import { HttpModule } from '@nestjs/axios';
import * as Sentry from '@sentry/node';
import { TransactionModule } from 'nestjs-transaction-id';
import { CheckoutController } from './checkout.controller.js';
import { WebController } from './web.controller.js';

@Module({
  imports: [TransactionModule.forRoot(), HttpModule],
  controllers: [CheckoutController, WebController],
})
export class AppModule implements OnApplicationShutdown {
  /** Sends the events Sentry still holds before the process exits. */
  async onApplicationShutdown(): Promise<void> {
    await Sentry.flush(2000);
  }
}
