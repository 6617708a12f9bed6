import './instrument.js';
import { NestFactory } from '@nestjs/core';
import { TransactionConsoleLogger } from 'nestjs-transaction-id';
import { AppModule } from './app.module.js';

const app = await NestFactory.create(AppModule, {
  // Every line logged while serving a request carries its transaction_id.
  logger: new TransactionConsoleLogger({ prefix: 'Orders' }),
});
app.enableShutdownHooks();
// Loopback only: this sample fails on purpose, and nothing outside this machine needs it.
await app.listen(Number(process.env.PORT ?? 3001), '127.0.0.1');
