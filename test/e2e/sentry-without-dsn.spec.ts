import 'reflect-metadata';
import * as Sentry from '@sentry/node';
import { expect, it } from 'vitest';
import { sentryTestOptions } from '../fixtures/sentry-options.js';

// The SDK would take a DSN from the environment.
delete process.env.SENTRY_DSN;
Sentry.init(sentryTestOptions());

const { isolationSuite } = await import('./sentry-modes.suite.js');

it('runs with a Sentry client that has no DSN', () => {
  expect(Sentry.getClient()).toBeDefined();
  expect(Sentry.getClient()?.getDsn()).toBeUndefined();
});

isolationSuite({ sendsEvents: false });
