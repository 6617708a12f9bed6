import './instrument.js';
import { ConsoleLogger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { AppModule } from './app.module.js';

const app = await NestFactory.create(AppModule, {
  logger: new ConsoleLogger({ prefix: 'Orders' }),
});
app.enableShutdownHooks();
// Loopback only: this sample fails on purpose, and nothing outside this machine needs it.
await app.listen(Number(process.env.PORT ?? 3001), '127.0.0.1');
