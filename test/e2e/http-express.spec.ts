import 'reflect-metadata';
import * as Sentry from '@sentry/node';
import { afterAll } from 'vitest';
import { SentryEnvelopeServer } from '../fixtures/sentry-envelope-server.js';
import { GATEWAY_PROJECT } from '../fixtures/sentry-events.js';
import { sentryTestOptions } from '../fixtures/sentry-options.js';

const sentry = await SentryEnvelopeServer.start();
Sentry.init(sentryTestOptions({ dsn: sentry.dsn(GATEWAY_PROJECT) }));

// Nest, the library and the gateway only once Sentry is initialised, as its set-up guide asks.
const { httpSuite } = await import('./http.suite.js');

httpSuite('express', sentry);

afterAll(async () => {
  await Sentry.close(2_000);
  await sentry.close();
});
