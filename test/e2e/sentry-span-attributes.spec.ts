import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SentryEnvelopeServer } from '../fixtures/sentry-envelope-server.js';
import { ADAPTERS } from '../fixtures/nest-app.js';
import { spawnService, TRACED_SERVICE } from '../fixtures/spawn-service.js';

// Sentry with tracing on (`tracesSampleRate: 1`), in a child process: the spans of a request carry
// `transaction_id` as an attribute — streamed spans (v11's default) read it from the request's
// isolation scope, spans of transaction events (`traceLifecycle: 'static'`) get it when they start.
let sentry: SentryEnvelopeServer;
beforeAll(async () => {
  sentry = await SentryEnvelopeServer.start();
});
afterAll(() => sentry.close());
beforeEach(() => sentry.clear());

const CONCURRENT = 4;

/** Requests with a trace of their own each (a caller's `sentry-trace`), to tell their spans apart. */
function tracedRequests() {
  return Array.from({ length: CONCURRENT }, () => ({
    id: randomUUID(),
    traceId: randomBytes(16).toString('hex'),
  }));
}

async function sendAll(
  adapter: string,
  env: Record<string, string>,
  requests: ReturnType<typeof tracedRequests>,
): Promise<void> {
  const service = await spawnService(TRACED_SERVICE, {
    ADAPTER: adapter,
    SENTRY_DSN: sentry.dsn(1),
    WITH_MODULE: '1',
    ...env,
  });
  try {
    await Promise.all(
      requests.map(async ({ id, traceId }) => {
        const response = await fetch(`${service.url}/id`, {
          headers: {
            'x-transaction-id': id,
            'sentry-trace': `${traceId}-${randomBytes(8).toString('hex')}-1`,
          },
        });
        expect(await response.json()).toEqual({ id });
      }),
    );
  } finally {
    await service.stop(); // flushes Sentry
  }
}

describe.each(ADAPTERS)('span attributes on %s', (adapter) => {
  it("puts the request's ID on each of its streamed spans, and no other's", async () => {
    const requests = tracedRequests();
    await sendAll(adapter, {}, requests);
    await sentry.waitFor(() => sentry.spans.filter((span) => span.is_segment).length >= CONCURRENT);

    for (const { id, traceId } of requests) {
      const spans = sentry.spans.filter((span) => span.trace_id === traceId);
      // The request span and Sentry's spans of routing, middleware or hooks.
      expect(spans.length).toBeGreaterThan(2);
      expect(spans.map((span) => [span.name, span.attributes?.transaction_id?.value])).toEqual(
        spans.map((span) => [span.name, id]),
      );
    }
  });

  it('puts the ID of a unit of work started with run() on its own spans', async () => {
    const service = await spawnService(TRACED_SERVICE, {
      ADAPTER: adapter,
      SENTRY_DSN: sentry.dsn(1),
      WITH_MODULE: '1',
    });
    const requestId = randomUUID();
    const jobId = `job-${randomUUID()}`;
    try {
      const response = await fetch(`${service.url}/job/${jobId}`, {
        headers: { 'x-transaction-id': requestId },
      });
      expect(await response.json()).toEqual({ id: jobId });
    } finally {
      await service.stop();
    }
    await sentry.waitFor(() => sentry.spans.filter((span) => span.is_segment).length >= 2);

    const idOf = (name: string) =>
      sentry.spans
        .filter((span) => span.name === name)
        .map((span) => span.attributes?.transaction_id?.value);
    expect(idOf('job')).toEqual([jobId]);
    expect(idOf('job step')).toEqual([jobId]);
    // The job is a trace of its own; the request's spans keep the request's ID.
    const [job] = sentry.spans.filter((span) => span.name === 'job');
    const requestSpans = sentry.spans.filter((span) => span.trace_id !== job!.trace_id);
    expect(requestSpans.length).toBeGreaterThan(2);
    expect(new Set(requestSpans.map((span) => span.attributes?.transaction_id?.value))).toEqual(
      new Set([requestId]),
    );
  });

  it("puts the request's ID on the spans of its transaction event (traceLifecycle 'static')", async () => {
    const requests = tracedRequests();
    await sendAll(adapter, { TRACE_LIFECYCLE: 'static' }, requests);
    await sentry.waitFor(() => sentry.transactions.length >= CONCURRENT);

    for (const { id, traceId } of requests) {
      const [transaction] = sentry.transactions.filter(
        (event) =>
          (event.contexts as { trace?: { trace_id?: string } })?.trace?.trace_id === traceId,
      );
      expect(transaction?.tags?.transaction_id).toBe(id);
      const spans = transaction!.spans ?? [];
      expect(spans.length).toBeGreaterThan(0);
      expect(spans.map((span) => [span.description, span.data?.transaction_id])).toEqual(
        spans.map((span) => [span.description, id]),
      );
    }
  });
});
