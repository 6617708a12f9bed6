import './instrument.js';
import { NestFactory } from '@nestjs/core';
import type { MicroserviceOptions } from '@nestjs/microservices';
import { TransactionConsoleLogger } from 'nestjs-transaction-id';
import { AppModule } from './app.module.js';
import { notificationsTransport } from './transport.js';

// A hybrid application: the events come over TCP or NATS; the HTTP port only answers the
// sample's readiness check (with the X-Transaction-ID echo every service has).
const app = await NestFactory.create(AppModule, {
  // Every line logged while handling an event carries its transaction_id.
  logger: new TransactionConsoleLogger({ prefix: 'Notifications' }),
});
app.connectMicroservice<MicroserviceOptions>(notificationsTransport(), { inheritAppConfig: true });
app.enableShutdownHooks();
await app.startAllMicroservices();
// Loopback only: this sample fails on purpose, and nothing outside this machine needs it.
await app.listen(Number(process.env.PORT ?? 3002), '127.0.0.1');
