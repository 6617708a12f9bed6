import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import * as Sentry from '@sentry/nestjs';
import { SentryGlobalFilter, SentryModule } from '@sentry/nestjs/setup';
import { afterAll, expect, it } from 'vitest';
import { TransactionModule } from '../../lib/index.js';
import { SentryEnvelopeServer } from '../fixtures/sentry-envelope-server.js';
import { sentryTestOptions } from '../fixtures/sentry-options.js';
import { FailuresController, reportingSuite } from './reporting.suite.js';

// The @sentry/nestjs set-up its docs give (Sentry.init from @sentry/nestjs, SentryModule.forRoot()
// and SentryGlobalFilter), with TransactionModule beside it: Sentry's reporting rules stand, the
// module only tags.
const sentry = await SentryEnvelopeServer.start();
Sentry.init(sentryTestOptions({ dsn: sentry.dsn(1) }));

@Module({
  imports: [SentryModule.forRoot(), TransactionModule.forRoot()],
  controllers: [FailuresController],
  providers: [{ provide: APP_FILTER, useClass: SentryGlobalFilter }],
})
class AppModule {}

it('runs on the one copy of the SDK that the module loads', async () => {
  const node = await import('@sentry/node');
  expect(Sentry.SDK_VERSION).toBe(node.SDK_VERSION);
  expect(node.getClient()).toBe(Sentry.getClient());
});

reportingSuite(sentry, AppModule, {
  mechanism: 'auto.http.nestjs.global_filter',
  reportsHttpException500: false,
  reportsRpcExceptionOverHttp: false,
});

afterAll(async () => {
  await Sentry.close(2_000);
  await sentry.close();
});
