import 'reflect-metadata';
import * as Sentry from '@sentry/node';
import { afterAll, expect, it } from 'vitest';
import { SentryEnvelopeServer } from '../fixtures/sentry-envelope-server.js';
import { sentryTestOptions } from '../fixtures/sentry-options.js';

const sentry = await SentryEnvelopeServer.start();
Sentry.init(sentryTestOptions({ dsn: sentry.dsn(1), enabled: false }));

const { isolationSuite } = await import('./sentry-modes.suite.js');

it('runs with a Sentry client that is disabled', () => {
  expect(Sentry.getClient()).toBeDefined();
  expect(Sentry.isEnabled()).toBe(false);
});

// A DSN that points at a live endpoint, so that anything sent despite `enabled: false` shows.
isolationSuite({ sentry, sendsEvents: false });

afterAll(async () => {
  await Sentry.close(2_000);
  await sentry.close();
});
