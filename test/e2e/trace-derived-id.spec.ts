import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import * as Sentry from '@sentry/node';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SentryEnvelopeServer } from '../fixtures/sentry-envelope-server.js';
import { sentryTestOptions } from '../fixtures/sentry-options.js';

// Option `deriveFromTraceId`: a caller that sent a trace header (Sentry's or W3C's) but no
// X-Transaction-ID gets its trace id as transaction ID. Sentry's default set-up, tracing off, with
// `propagateTraceparent` so that Sentry sends W3C `traceparent` too: the module must leave Sentry's
// own propagation as it is.
const sentry = await SentryEnvelopeServer.start();
const echo = await (await import('../fixtures/header-echo-server.js')).startHeaderEcho();
Sentry.init({
  ...sentryTestOptions({ dsn: sentry.dsn(1) }),
  propagateTraceparent: true,
  // Only the application's calls: the test's own requests to it must carry only what it chose.
  tracePropagationTargets: [echo.url],
});

const { Controller, Get, Inject, Module, Param } = await import('@nestjs/common');
const { firstValueFrom } = await import('rxjs');
const { TransactionHttpService, TransactionId, TransactionModule } =
  await import('../../lib/index.js');
type Options = import('../../lib/index.js').TransactionModuleOptions;
const { ADAPTERS, startApp } = await import('../fixtures/nest-app.js');
const { UUID } = await import('../fixtures/http-client.js');

const ECHO_URL = Symbol('echo-url');

@Controller()
class TraceController {
  constructor(
    private readonly http: InstanceType<typeof TransactionHttpService>,
    @Inject(ECHO_URL) private readonly echoUrl: string,
  ) {}

  /** The request's ID and the headers of a call it makes; `fail` throws after the call. */
  @Get('call/:outcome')
  async call(@TransactionId() id: string, @Param('outcome') outcome: string) {
    const { data } = await firstValueFrom(this.http.get<Record<string, string>>(this.echoUrl));
    if (outcome === 'fail') throw new Error(`failed in ${id}`);
    return { id, sent: data };
  }
}
Reflect.defineMetadata('design:paramtypes', [TransactionHttpService, String], TraceController);

function traceModule(options: Options) {
  @Module({
    imports: [TransactionModule.forRoot(options)],
    controllers: [TraceController],
    providers: [{ provide: ECHO_URL, useValue: echo.url }],
  })
  class TraceModule {}
  return TraceModule;
}

const hex = (bytes: number) => randomBytes(bytes).toString('hex');
type Answer = { status: number; id?: string; echoed: string | null; sent?: Record<string, string> };

afterAll(async () => {
  await Sentry.close(2_000);
  await echo.close();
  await sentry.close();
});

describe.each(ADAPTERS)('deriveFromTraceId on %s', (adapter) => {
  let app: Awaited<ReturnType<typeof startApp>> | undefined;
  beforeEach(() => sentry.clear());
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  async function call(options: Options, headers: Record<string, string>, outcome = 'ok') {
    app ??= await startApp(adapter, traceModule(options));
    const response = await fetch(`${app.url}/call/${outcome}`, { headers });
    const body = (await response.json()) as { id?: string; sent?: Record<string, string> };
    return {
      status: response.status,
      id: body.id,
      echoed: response.headers.get('x-transaction-id'),
      sent: body.sent,
    } satisfies Answer;
  }

  it("takes the trace id of a caller's sentry-trace, and Sentry still continues its trace", async () => {
    const traceId = hex(16);
    const answer = await call(
      { deriveFromTraceId: true },
      { 'sentry-trace': `${traceId}-${hex(8)}-0`, baggage: `sentry-trace_id=${traceId}` },
    );

    expect(answer).toMatchObject({ status: 200, id: traceId, echoed: traceId });
    // Forwarded as the ID, and Sentry's own headers go on in the same trace, W3C's included.
    expect(answer.sent?.['x-transaction-id']).toBe(traceId);
    expect(answer.sent?.['sentry-trace']).toMatch(new RegExp(`^${traceId}-[0-9a-f]{16}`));
    expect(answer.sent?.baggage).toContain(`sentry-trace_id=${traceId}`);
    expect(answer.sent?.traceparent).toMatch(new RegExp(`^00-${traceId}-[0-9a-f]{16}-0[01]$`));
  });

  it("takes the trace id of a caller's W3C traceparent", async () => {
    const traceId = hex(16);
    const answer = await call(
      { deriveFromTraceId: true },
      { traceparent: `00-${traceId}-${hex(8)}-01` },
    );

    expect(answer).toMatchObject({ status: 200, id: traceId, echoed: traceId });
    expect(answer.sent?.['x-transaction-id']).toBe(traceId);
    // Sentry does not continue W3C traces: its own headers start a trace of their own.
    expect(answer.sent?.['sentry-trace']).toMatch(/^[0-9a-f]{32}-[0-9a-f]{16}/);
  });

  it('records the trace id next to the transaction ID on each error event', async () => {
    const sentryTraceId = hex(16);
    const w3cTraceId = hex(16);
    const options = { deriveFromTraceId: true };
    const bySentry = await call(options, { 'sentry-trace': `${sentryTraceId}-${hex(8)}` }, 'fail');
    const byW3c = await call(options, { traceparent: `00-${w3cTraceId}-${hex(8)}-01` }, 'fail');
    expect([bySentry.status, byW3c.status]).toEqual([500, 500]);
    await sentry.waitFor(() => sentry.events.length >= 2);

    const [fromSentryTrace] = sentry.eventsFor(sentryTraceId);
    expect(fromSentryTrace?.contexts).toMatchObject({ trace: { trace_id: sentryTraceId } });
    const [fromTraceparent] = sentry.eventsFor(w3cTraceId);
    // Sentry's trace of that request is its own; the caller's is the transaction ID.
    expect(fromTraceparent?.contexts).toMatchObject({
      trace: { trace_id: expect.stringMatching(/^[0-9a-f]{32}$/) },
    });
  });

  it('leaves the trace id alone when the option is off (the default)', async () => {
    const traceId = hex(16);
    const answer = await call({}, { traceparent: `00-${traceId}-${hex(8)}-01` });
    expect(answer.id).toMatch(UUID);
  });

  it('prefers an X-Transaction-ID the caller sent', async () => {
    const answer = await call(
      { deriveFromTraceId: true },
      { 'x-transaction-id': 'order-42', traceparent: `00-${hex(16)}-${hex(8)}-01` },
    );
    expect(answer.id).toBe('order-42');
  });

  it('gives a fresh ID for a malformed trace header', async () => {
    const answer = await call(
      { deriveFromTraceId: true },
      { traceparent: `00-${hex(16).toUpperCase()}-${hex(8)}-01` },
    );
    expect(answer.id).toMatch(UUID);
  });

  it('applies trustIncoming: an untrusted caller gets a fresh ID', async () => {
    const answer = await call(
      { deriveFromTraceId: true, trustIncoming: false },
      { traceparent: `00-${hex(16)}-${hex(8)}-01` },
    );
    expect(answer.id).toMatch(UUID);
  });

  it('applies validate: a trace id it refuses counts as no ID, not as an invalid one', async () => {
    const answer = await call(
      {
        deriveFromTraceId: true,
        validate: (id) => !/^[0-9a-f]{32}$/.test(id),
        invalid: 'reject',
      },
      { traceparent: `00-${hex(16)}-${hex(8)}-01` },
    );
    expect(answer).toMatchObject({ status: 200, id: expect.stringMatching(UUID) });
  });

  it('lets a trace header satisfy require', async () => {
    const traceId = hex(16);
    const options = { deriveFromTraceId: true, require: true };
    expect(await call(options, { traceparent: `00-${traceId}-${hex(8)}-01` })).toMatchObject({
      status: 200,
      id: traceId,
    });
    expect((await call(options, {})).status).toBe(400);
  });
});
