import './instrument.js';
import { ConsoleLogger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { transactionIdCors } from 'nestjs-transaction-id';
import { AppModule } from './app.module.js';

const app = await NestFactory.create(AppModule, {
  logger: new ConsoleLogger({ prefix: 'Gateway' }),
});
app.enableShutdownHooks();
// Pages on other origins (CORS_ORIGINS, comma-separated) may send and read X-Transaction-ID.
const corsOrigins = process.env.CORS_ORIGINS?.split(',').filter(Boolean) ?? [];
if (corsOrigins.length > 0) app.enableCors(transactionIdCors({ origin: corsOrigins }));
// Loopback only: this sample fails on purpose, and nothing outside this machine needs it.
await app.listen(Number(process.env.PORT ?? 3000), '127.0.0.1');
