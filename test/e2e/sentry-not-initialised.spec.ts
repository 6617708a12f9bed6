import 'reflect-metadata';
import * as Sentry from '@sentry/node';
import { expect, it } from 'vitest';
import { isolationSuite } from './sentry-modes.suite.js';

// `@sentry/node` is installed, so the library loads it, but the application never calls
// `Sentry.init()`: there is no client, and nothing may be sent or break.

it('runs without a Sentry client', () => {
  expect(Sentry.getClient()).toBeUndefined();
});

isolationSuite({ sendsEvents: false });
