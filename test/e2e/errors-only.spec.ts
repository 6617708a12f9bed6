import 'reflect-metadata';
import * as Sentry from '@sentry/node';
import { afterAll } from 'vitest';
import { SentryEnvelopeServer } from '../fixtures/sentry-envelope-server.js';
import { sentryTestOptions } from '../fixtures/sentry-options.js';

// The README's errors-only set-up with Sentry's default data collection.
const sentry = await SentryEnvelopeServer.start();
Sentry.init(sentryTestOptions({ dsn: sentry.dsn(1), errorsOnly: true }));

const { errorsOnlySuite } = await import('./errors-only.suite.js');

errorsOnlySuite(sentry, true);

afterAll(async () => {
  await Sentry.close(2_000);
  await sentry.close();
});
