import { request as httpRequest, type IncomingMessage } from 'node:http';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Controller, Get, HttpCode, Module, Post, Req } from '@nestjs/common';
import * as Sentry from '@sentry/node';
import { firstValueFrom } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TransactionHttpService, TransactionModule } from '../../lib/index.js';
import { startHeaderEcho, type HeaderEchoServer } from '../fixtures/header-echo-server.js';
import { call } from '../fixtures/http-client.js';
import { ADAPTERS, type RunningApp, startApp } from '../fixtures/nest-app.js';
import type { SentryEnvelopeServer } from '../fixtures/sentry-envelope-server.js';

let echo: HeaderEchoServer;

/** What the `kept` route leaves behind: its isolation scope, and its request held weakly. */
let kept:
  { scope: ReturnType<typeof Sentry.getIsolationScope>; request: WeakRef<object> } | undefined;

@Controller()
class ErrorsOnlyController {
  constructor(private readonly http: TransactionHttpService) {}

  @Post('orders/:id')
  @HttpCode(201)
  async fail(): Promise<never> {
    await new Promise((resolve) => setTimeout(resolve, 2));
    throw new Error('orders store is down');
  }

  /**
   * Keeps the request's isolation scope, as anything the request starts would (a timer, a promise
   * that outlives it), and its raw request only weakly.
   */
  @Get('kept')
  keep(@Req() request: IncomingMessage | { raw: IncomingMessage }): string {
    const raw = 'raw' in request ? request.raw : request;
    kept = { scope: Sentry.getIsolationScope(), request: new WeakRef(raw) };
    return 'kept';
  }

  /** Makes an outgoing call and answers with the headers it carried. */
  @Get('forward')
  async forward(): Promise<Record<string, string>> {
    const { data } = await firstValueFrom(this.http.get<Record<string, string>>(echo.url));
    return data;
  }
}

@Module({ imports: [TransactionModule.forRoot()], controllers: [ErrorsOnlyController] })
class ErrorsOnlyModule {}

/**
 * What the errors-only set-up keeps of Sentry's per-request instrumentation, given the data
 * collection the spec file set up: `collectsUserInfo` says whether `dataCollection.userInfo` and
 * `httpHeaders` are on.
 */
export function errorsOnlySuite(sentry: SentryEnvelopeServer, collectsUserInfo: boolean): void {
  beforeAll(async () => {
    echo = await startHeaderEcho();
  });
  afterAll(() => echo.close());

  it('runs without Sentry per-request instrumentation', () => {
    expect(Sentry.getClient()?.getIntegrationByName('Http')).toBeUndefined();
    expect(Sentry.getClient()?.getIntegrationByName('NodeFetch')).toBeDefined();
  });

  for (const adapter of ADAPTERS) {
    describe(`errors-only on ${adapter}`, () => {
      let app: RunningApp;
      beforeAll(async () => {
        app = await startApp(adapter, ErrorsOnlyModule);
      });
      afterAll(() => app.close());

      it('describes the request on its error event as the http integration would', async () => {
        const id = `errors-only-${adapter}`;
        const response = await call(`${app.url}/orders/42?coupon=spring`, {
          json: { quantity: 1 },
          headers: { 'x-transaction-id': id, 'user-agent': 'errors-only-test' },
        });
        expect(response.status).toBe(500);
        await sentry.waitFor(() => sentry.eventsFor(id).length === 1);
        const [event] = sentry.eventsFor(id);

        expect(event.transaction).toBe('POST /orders/42');
        expect(event.request?.method).toBe('POST');
        expect(event.request?.url).toBe(`${app.url}/orders/42?coupon=spring`);
        expect(event.exception?.values?.[0]?.value).toBe('orders store is down');
        const exception = event.exception?.values?.[0] as
          { stacktrace?: { frames?: unknown[] } } | undefined;
        const frames = exception?.stacktrace?.frames;
        expect(frames?.length).toBeGreaterThan(0);
        if (collectsUserInfo) {
          expect(event.request?.headers?.['user-agent']).toBe('errors-only-test');
          // Sentry 10 adds the IP address only with `sendDefaultPii`, 11 by default.
          expect((event.user as { ip_address?: string } | undefined)?.ip_address).toBe(
            Number(Sentry.SDK_VERSION.split('.')[0]) >= 11 ? '127.0.0.1' : undefined,
          );
        } else {
          expect(event.request?.headers?.['user-agent']).toBeUndefined();
          expect(event.user).toBeUndefined();
        }
      });

      it("continues the caller's Sentry trace", async () => {
        const id = `trace-${adapter}`;
        const traceId = 'a'.repeat(31) + (adapter === 'express' ? '1' : '2');
        await call(`${app.url}/orders/7`, {
          json: {},
          headers: { 'x-transaction-id': id, 'sentry-trace': `${traceId}-${'b'.repeat(16)}-1` },
        });
        await sentry.waitFor(() => sentry.eventsFor(id).length === 1);
        const trace = sentry.eventsFor(id)[0].contexts as { trace?: { trace_id?: string } };
        expect(trace.trace?.trace_id).toBe(traceId);
      });

      it('gives each request a trace of its own when none came in', async () => {
        const ids = [`own-trace-1-${adapter}`, `own-trace-2-${adapter}`];
        // node:http, not fetch: this process's NodeFetch integration would send its own trace.
        await Promise.all(ids.map((id) => postWithoutTrace(`${app.url}/orders/8`, id)));
        await sentry.waitFor(() => ids.every((id) => sentry.eventsFor(id).length === 1));
        const traceIds = ids.map(
          (id) =>
            (sentry.eventsFor(id)[0].contexts as { trace: { trace_id: string } }).trace.trace_id,
        );
        expect(traceIds[0]).toMatch(/^[0-9a-f]{32}$/);
        expect(traceIds[1]).not.toBe(traceIds[0]);
      });

      it('keeps nothing of a request alive through its isolation scope but what its events need', async () => {
        const id = `kept-${adapter}`;
        await callWithoutKeepAlive(`${app.url}/kept`, id);
        const scope = kept?.scope;
        expect(scope?.getScopeData().tags.transaction_id).toBe(id);
        // The request and what it references (its response, the framework's additions) are
        // garbage once answered, even while its isolation scope lives on.
        const collect = garbageCollector();
        for (let i = 0; i < 10 && kept?.request.deref() !== undefined; i++) {
          await new Promise((resolve) => setImmediate(resolve));
          collect();
        }
        expect(kept?.request.deref()).toBeUndefined();
        expect(scope?.getScopeData().tags.transaction_id).toBe(id);
      });

      it("forwards Sentry's trace headers along with the transaction ID", async () => {
        const id = `forward-${adapter}`;
        const { body } = await call<Record<string, string>>(`${app.url}/forward`, {
          headers: { 'x-transaction-id': id },
        });
        expect(body['x-transaction-id']).toBe(id);
        expect(body['sentry-trace']).toMatch(/^[0-9a-f]{32}-[0-9a-f]{16}/);
        expect(body.baggage).toContain('sentry-trace_id=');
      });
    });
  }
}

/** A POST over node:http, which carries no Sentry trace headers in this set-up (no Http integration). */
function postWithoutTrace(url: string, transactionId: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(url, {
      method: 'POST',
      headers: { 'x-transaction-id': transactionId },
    });
    request.once('response', (response) => {
      response.resume();
      response.once('end', () => resolve(response.statusCode ?? 0));
    });
    request.once('error', reject);
    request.end();
  });
}

/** A GET over node:http on a connection of its own, closed after the answer. */
function callWithoutKeepAlive(url: string, transactionId: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(url, {
      agent: false,
      headers: { 'x-transaction-id': transactionId, connection: 'close' },
    });
    request.once('response', (response) => {
      response.resume();
      response.once('end', () => resolve());
    });
    request.once('error', reject);
    request.end();
  });
}

/** V8's full garbage collection, without starting the process with `--expose-gc`. */
function garbageCollector(): () => void {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}
