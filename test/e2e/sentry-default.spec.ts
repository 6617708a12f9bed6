import 'reflect-metadata';
import * as Sentry from '@sentry/node';
import { afterAll, expect, it } from 'vitest';
import { SentryEnvelopeServer } from '../fixtures/sentry-envelope-server.js';
import { sentryTestOptions } from '../fixtures/sentry-options.js';

// Sentry's default set-up: its `Http` integration forks an isolation scope per request, which then
// holds the request's transaction ID, also in scopes the application forks from it.
const sentry = await SentryEnvelopeServer.start();
Sentry.init(sentryTestOptions({ dsn: sentry.dsn(1) }));

const { isolationSuite } = await import('./sentry-modes.suite.js');

it('runs with a Sentry client that sends events, with the Http integration', () => {
  expect(Sentry.isEnabled()).toBe(true);
  expect(Sentry.getClient()?.getIntegrationByName('Http')).toBeDefined();
});

isolationSuite({ sentry, sendsEvents: true });

afterAll(async () => {
  await Sentry.close(2_000);
  await sentry.close();
});
