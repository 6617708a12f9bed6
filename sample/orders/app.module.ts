import { Module, type OnApplicationShutdown } from '@nestjs/common';
import * as Sentry from '@sentry/node';
import { ClientsModule } from '@nestjs/microservices';
import { TransactionModule } from 'nestjs-transaction-id';
import { notificationsTransport } from '../notifications/transport.js';
import { OrdersController } from './orders.controller.js';
import { OrdersService } from './orders.service.js';

@Module({
  imports: [
    TransactionModule.forRoot(),
    // A stock client: the library makes it forward the transaction ID, with no code here.
    ClientsModule.register([{ name: 'NOTIFICATIONS', ...notificationsTransport() }]),
  ],
  controllers: [OrdersController],
  providers: [OrdersService],
})
export class AppModule implements OnApplicationShutdown {
  /** Sends the events Sentry still holds before the process exits. */
  async onApplicationShutdown(): Promise<void> {
    await Sentry.flush(2000);
  }
}
