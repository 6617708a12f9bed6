import './instrument.js';
import { NestFactory } from '@nestjs/core';
import { TransactionConsoleLogger, transactionIdCors } from 'nestjs-transaction-id';
import { AppModule } from './app.module.js';

const app = await NestFactory.create(AppModule, {
  // Every line logged while serving a request carries its transaction_id.
  logger: new TransactionConsoleLogger({ prefix: 'Gateway' }),
});
app.enableShutdownHooks();
// Pages on other origins (CORS_ORIGINS, comma-separated) may send and read X-Transaction-ID.
const corsOrigins = process.env.CORS_ORIGINS?.split(',').filter(Boolean) ?? [];
if (corsOrigins.length > 0) app.enableCors(transactionIdCors({ origin: corsOrigins }));
// Loopback only: this sample fails on purpose, and nothing outside this machine needs it.
await app.listen(Number(process.env.PORT ?? 3000), '127.0.0.1');
