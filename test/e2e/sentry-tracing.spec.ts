import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SentryEnvelopeServer } from '../fixtures/sentry-envelope-server.js';
import { ADAPTERS } from '../fixtures/nest-app.js';
import { spawnService, TRACED_SERVICE } from '../fixtures/spawn-service.js';

// Sentry with performance tracing: each request is a trace whose spans show what ran. The module
// adds no span of its own — Sentry's Fastify integration wraps every instance hook in a span, paid
// on every request, so the module's hook for inject() is a route hook, which it leaves alone.
let sentry: SentryEnvelopeServer;
beforeAll(async () => {
  sentry = await SentryEnvelopeServer.start();
});
afterAll(() => sentry.close());

const ID = '6f1c2b7a-3d4e-4f5a-8b6c-7d8e9f0a1b2c';

/** The names of the spans of one `GET /id` with our ID, sent to a fresh traced service. */
async function spansOfOneRequest(adapter: string, withModule: boolean): Promise<string[]> {
  sentry.clear();
  const service = await spawnService(TRACED_SERVICE, {
    ADAPTER: adapter,
    SENTRY_DSN: sentry.dsn(1),
    WITH_MODULE: withModule ? '1' : '0',
  });
  try {
    const response = await fetch(`${service.url}/id`, { headers: { 'x-transaction-id': ID } });
    expect(await response.json()).toEqual({ id: withModule ? ID : null });
  } finally {
    // Closing flushes Sentry's queue.
    await service.stop();
  }
  await sentry.waitFor(() => sentry.spans.some((span) => span.is_segment));
  const segments = sentry.spans.filter((span) => span.is_segment);
  expect(segments.map((span) => span.name)).toEqual(['GET /id']);
  return sentry.spans
    .filter((span) => span.trace_id === segments[0]!.trace_id)
    .map((span) => span.name)
    .toSorted();
}

describe.each(ADAPTERS)('Sentry tracing on %s', (adapter) => {
  it('gets the same spans for a request with the module as without it', async () => {
    const plain = await spansOfOneRequest(adapter, false);
    const withModule = await spansOfOneRequest(adapter, true);

    // Sentry traced the request's steps (the request, route, middleware or hooks)…
    expect(plain.length).toBeGreaterThan(2);
    // …and the module added none.
    expect(withModule).toEqual(plain);
  });
});
