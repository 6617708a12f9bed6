import 'reflect-metadata';
import * as Sentry from '@sentry/node';
import { afterAll } from 'vitest';
import { SentryEnvelopeServer } from '../fixtures/sentry-envelope-server.js';
import { sentryTestOptions } from '../fixtures/sentry-options.js';

// The errors-only set-up with user data and headers turned off: the request data the module
// attaches must obey the SDK's settings as the http integration's does.
const sentry = await SentryEnvelopeServer.start();
Sentry.init(
  sentryTestOptions({
    dsn: sentry.dsn(1),
    errorsOnly: true,
    dataCollection: { userInfo: false, httpHeaders: false },
  }),
);

const { errorsOnlySuite } = await import('./errors-only.suite.js');

errorsOnlySuite(sentry, false);

afterAll(async () => {
  await Sentry.close(2_000);
  await sentry.close();
});
