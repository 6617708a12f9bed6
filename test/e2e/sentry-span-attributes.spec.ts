import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SentryEnvelopeServer } from '../fixtures/sentry-envelope-server.js';
import { ADAPTERS } from '../fixtures/nest-app.js';
import { spawnService, TRACED_SERVICE } from '../fixtures/spawn-service.js';
import { SDK_VERSION } from '@sentry/node';

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

/** A request to `GET /job/:jobId`, which runs a unit of work of its own with ID `jobId`. */
interface JobRequest {
  id: string;
  traceId: string;
  jobId: string;
}

async function sendAll(
  adapter: string,
  env: Record<string, string>,
  requests: ReturnType<typeof tracedRequests>,
  job?: JobRequest,
): Promise<void> {
  const service = await spawnService(TRACED_SERVICE, {
    ADAPTER: adapter,
    SENTRY_DSN: sentry.dsn(1),
    WITH_MODULE: '1',
    ...env,
  });
  try {
    const send = async (path: string, id: string, traceId: string) => {
      const response = await fetch(`${service.url}${path}`, {
        headers: {
          'x-transaction-id': id,
          'sentry-trace': `${traceId}-${randomBytes(8).toString('hex')}-1`,
        },
      });
      return (await response.json()) as { id: string };
    };
    const answers = await Promise.all([
      ...requests.map(({ id, traceId }) => send('/id', id, traceId)),
      ...(job === undefined ? [] : [send(`/job/${job.jobId}`, job.id, job.traceId)]),
    ]);
    expect(answers).toEqual([
      ...requests.map(({ id }) => ({ id })),
      ...(job === undefined ? [] : [{ id: job.jobId }]),
    ]);
  } finally {
    await service.stop(); // flushes Sentry
  }
}

/** Sentry 11 streams spans one by one; Sentry 10 sends them in transaction events (next test). */
const STREAMS_SPANS = Number(SDK_VERSION.split('.')[0]) >= 11;

describe.each(ADAPTERS)('span attributes on %s', (adapter) => {
  it.runIf(STREAMS_SPANS)(
    "puts the request's ID on each of its streamed spans, and no other's",
    async () => {
      const requests = tracedRequests();
      // And a request that runs a job (`TransactionContext.run()`): a trace and an ID of its own.
      const [job] = tracedRequests().map((request) => ({
        ...request,
        jobId: `job-${randomUUID()}`,
      }));
      await sendAll(adapter, {}, requests, job);
      await sentry.waitFor(
        () => sentry.spans.filter((span) => span.is_segment).length >= CONCURRENT + 2,
      );

      for (const { id, traceId } of [...requests, job!]) {
        const spans = sentry.spans.filter((span) => span.trace_id === traceId);
        // The request span and Sentry's spans of routing, middleware or hooks.
        expect(spans.length).toBeGreaterThan(2);
        expect(spans.map((span) => [span.name, span.attributes?.transaction_id?.value])).toEqual(
          spans.map((span) => [span.name, id]),
        );
      }
      const jobSpans = sentry.spans.filter((span) => span.name.startsWith('job'));
      expect(jobSpans.map((span) => [span.name, span.attributes?.transaction_id?.value])).toEqual(
        expect.arrayContaining([
          ['job', job!.jobId],
          ['job step', job!.jobId],
        ]),
      );
      expect(jobSpans).toHaveLength(2);
    },
  );

  it.runIf(STREAMS_SPANS)(
    'a job run in a request that started its own trace is a trace of its own too',
    async () => {
      const id = randomUUID();
      const jobId = `job-${randomUUID()}`;
      const service = await spawnService(TRACED_SERVICE, {
        ADAPTER: adapter,
        SENTRY_DSN: sentry.dsn(1),
        WITH_MODULE: '1',
      });
      try {
        // No `sentry-trace`: the request's span is the root of a trace the request started.
        const response = await fetch(`${service.url}/job/${jobId}`, {
          headers: { 'x-transaction-id': id },
        });
        expect(await response.json()).toEqual({ id: jobId });
      } finally {
        await service.stop(); // flushes Sentry
      }
      await sentry.waitFor(() => sentry.spans.filter((span) => span.is_segment).length >= 2);
      const idOf = (span: (typeof sentry.spans)[number]) => span.attributes?.transaction_id?.value;
      const requestTrace = sentry.spans.find((span) => span.is_segment && idOf(span) === id);
      const jobSpans = sentry.spans.filter((span) => span.name.startsWith('job'));
      expect(requestTrace).toBeDefined();
      expect(jobSpans.map((span) => [span.name, idOf(span)])).toEqual(
        expect.arrayContaining([
          ['job', jobId],
          ['job step', jobId],
        ]),
      );
      // Not children of the request's span: the job's spans start a trace of their own.
      for (const span of jobSpans) expect(span.trace_id).not.toBe(requestTrace!.trace_id);
    },
  );

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
