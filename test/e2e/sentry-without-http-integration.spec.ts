import 'reflect-metadata';
import * as Sentry from '@sentry/node';
import { afterAll, expect, it } from 'vitest';
import { SentryEnvelopeServer } from '../fixtures/sentry-envelope-server.js';
import { sentryTestOptions } from '../fixtures/sentry-options.js';

// Without its `Http` integration Sentry forks no isolation scope per request: the library must,
// or tags and users set by one request would land on the events of others.
const sentry = await SentryEnvelopeServer.start();
Sentry.init(sentryTestOptions({ dsn: sentry.dsn(1), withoutIntegrations: ['Http'] }));

const { isolationSuite } = await import('./sentry-modes.suite.js');

it('runs with a Sentry client that sends events, without the Http integration', () => {
  expect(Sentry.isEnabled()).toBe(true);
  expect(Sentry.getClient()?.getIntegrationByName('Http')).toBeUndefined();
  expect(Sentry.getClient()?.getIntegrationByName('RequestData')).toBeDefined();
});

isolationSuite({ sentry, sendsEvents: true });

afterAll(async () => {
  await Sentry.close(2_000);
  await sentry.close();
});
