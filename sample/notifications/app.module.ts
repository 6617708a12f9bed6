import { Module, type OnApplicationShutdown } from '@nestjs/common';
import * as Sentry from '@sentry/node';
import { TransactionModule } from 'nestjs-transaction-id';
import { NotificationsController } from './notifications.controller.js';

@Module({
  imports: [TransactionModule.forRoot()],
  controllers: [NotificationsController],
})
export class AppModule implements OnApplicationShutdown {
  /** Sends the events Sentry still holds before the process exits. */
  async onApplicationShutdown(): Promise<void> {
    await Sentry.flush(2000);
  }
}
