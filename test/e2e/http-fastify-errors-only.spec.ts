import 'reflect-metadata';
import * as Sentry from '@sentry/node';
import { afterAll, expect, it } from 'vitest';
import { SentryEnvelopeServer } from '../fixtures/sentry-envelope-server.js';
import { GATEWAY_PROJECT } from '../fixtures/sentry-events.js';
import { sentryTestOptions } from '../fixtures/sentry-options.js';

// The whole HTTP suite again, with both services in the README's errors-only set-up: Sentry
// without its per-request instrumentation, the module isolating every request itself.
process.env.SENTRY_MODE = 'errors-only'; // the orders child process inherits it
const sentry = await SentryEnvelopeServer.start();
Sentry.init(sentryTestOptions({ dsn: sentry.dsn(GATEWAY_PROJECT), errorsOnly: true }));

const { httpSuite } = await import('./http.suite.js');

it('runs without Sentry per-request instrumentation', () => {
  const client = Sentry.getClient();
  expect(client?.getIntegrationByName('Http')).toBeUndefined();
  expect(client?.getIntegrationByName('Express')).toBeUndefined();
  expect(client?.getIntegrationByName('Fastify')).toBeUndefined();
  expect(client?.getIntegrationByName('NodeFetch')).toBeDefined();
});

httpSuite('fastify', sentry);

afterAll(async () => {
  await Sentry.close(2_000);
  await sentry.close();
});
