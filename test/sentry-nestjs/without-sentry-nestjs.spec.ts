import 'reflect-metadata';
import { Module } from '@nestjs/common';
import * as Sentry from '@sentry/node';
import { afterAll } from 'vitest';
import { TransactionModule } from '../../lib/index.js';
import { SentryEnvelopeServer } from '../fixtures/sentry-envelope-server.js';
import { sentryTestOptions } from '../fixtures/sentry-options.js';
import { FailuresController, reportingSuite } from './reporting.suite.js';

// The plain @sentry/node set-up, the same application as with-sentry-nestjs.spec.ts without
// @sentry/nestjs: the module reports unhandled exceptions itself, HttpExceptions from 500 on;
// an RpcException is an answer wherever it is thrown, as for @sentry/nestjs.
const sentry = await SentryEnvelopeServer.start();
Sentry.init(sentryTestOptions({ dsn: sentry.dsn(1) }));

@Module({ imports: [TransactionModule.forRoot()], controllers: [FailuresController] })
class AppModule {}

reportingSuite(sentry, AppModule, {
  mechanism: 'auto.function.nestjs.transaction_id',
  reportsHttpException500: true,
  reportsRpcExceptionOverHttp: false,
});

afterAll(async () => {
  await Sentry.close(2_000);
  await sentry.close();
});
