import 'reflect-metadata';
import * as Sentry from '@sentry/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SentryEnvelopeServer } from '../fixtures/sentry-envelope-server.js';
import { sentryTestOptions } from '../fixtures/sentry-options.js';
import type { LocalServer as Server } from '../http-client/support/local-server.js';

// Sentry instruments the same channels to add `sentry-trace` and `baggage`: with both on, every
// call carries both Sentry's headers and the transaction ID, each exactly once.
const sentry = await SentryEnvelopeServer.start();
Sentry.init(
  sentryTestOptions({
    dsn: sentry.dsn(1),
    tracesSampleRate: 1,
    tracePropagationTargets: [/^http:\/\/127\.0\.0\.1:/],
  }),
);

const { LocalServer } = await import('../http-client/support/local-server.js');
const { callThrough, startForwardingApp } = await import('./support/forwarding-app.js');
const { CLIENT_NAMES, NODE_HTTP_CLIENTS, NODE_HTTP_FORWARDS } =
  await import('./support/http-clients.js');

let downstream: Server;
let app: Awaited<ReturnType<typeof startForwardingApp>>;

beforeAll(async () => {
  downstream = await LocalServer.start();
  app = await startForwardingApp();
});

afterAll(async () => {
  await app?.close();
  await downstream?.close();
  await Sentry.close(2_000);
  await sentry.close();
});

describe.each(CLIENT_NAMES)('%s with @sentry/node tracing', (client) => {
  it.runIf(!NODE_HTTP_CLIENTS.has(client) || NODE_HTTP_FORWARDS)(
    'carries sentry-trace and x-transaction-id, each once',
    async () => {
      const id = `sentry-${client.replace(/[^A-Za-z0-9.]+/g, '-')}`;

      await callThrough(app, client, downstream.url('/'), id);

      expect(downstream.headerLines('x-transaction-id')).toEqual([id]);
      const trace = downstream.headerLines('sentry-trace');
      expect(trace).toHaveLength(1);
      expect(trace[0]).toMatch(/^[0-9a-f]{32}-[0-9a-f]{16}-1$/);
    },
  );
});

it('runs with a Sentry client that traces', () => {
  expect(Sentry.getClient()?.getOptions().tracesSampleRate).toBe(1);
});
