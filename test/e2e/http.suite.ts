import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { APP_FILTER } from '@nestjs/core';
import { SentryGlobalFilter } from '@sentry/nestjs/setup';
import * as Sentry from '@sentry/node';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  TRANSACTION_ID_HEADER,
  TransactionContext,
  TransactionModule,
  type TransactionModuleOptions,
} from '../../lib/index.js';
import {
  AppExceptionFilter,
  type AuditResponse,
  type CheckoutRequest,
  type CheckoutResponse,
  type GatewayOptions,
  HandlerCalls,
  NightlyReport,
  SEEN_BY_MIDDLEWARE,
  Settings,
  TransactionOptionsFromSettings,
  gatewayModule,
  settingsModule,
} from '../fixtures/gateway.js';
import { UUID, call } from '../fixtures/http-client.js';
import { type Adapter, type RunningApp, startApp } from '../fixtures/nest-app.js';
import { type RawResponse, headerValues, rawGet } from '../fixtures/raw-http.js';
import type { SentryEnvelopeServer, SentryEvent } from '../fixtures/sentry-envelope-server.js';
import {
  GATEWAY_PROJECT,
  ORDERS_PROJECT,
  inProject,
  mentions,
  pathsMentioning,
  summary,
} from '../fixtures/sentry-events.js';
import { ORDERS_SERVICE, type SpawnedService, spawnService } from '../fixtures/spawn-service.js';

/** A header value that must not be taken as a transaction ID, as it goes on the wire. */
interface InvalidId {
  name: string;
  /** Header lines sent (strings as latin1 bytes). */
  lines: Array<string | Buffer>;
  /** What must appear nowhere afterwards, as Node.js decodes it (latin1). */
  traces: string[];
}

const line = (value: string) => `X-Transaction-ID: ${value}`;

/** Invalid values that Node.js lets through to the application: the library must refuse them. */
const INVALID_IDS: InvalidId[] = [
  { name: 'an empty value', lines: [line('')], traces: [] },
  { name: '129 characters', lines: [line('a'.repeat(129))], traces: ['a'.repeat(129)] },
  { name: 'inner spaces', lines: [line('spaced out id')], traces: ['spaced out id'] },
  { name: 'a tab', lines: [line('tab\tinside')], traces: ['tab\tinside'] },
  { name: 'latin1 bytes', lines: [line('caf\xe9-id')], traces: ['caf\xe9-id'] },
  {
    name: 'UTF-8 bytes',
    lines: [Buffer.from(line('café-☃-id'), 'utf8')],
    traces: [Buffer.from('café-☃-id', 'utf8').toString('latin1')],
  },
  {
    name: 'an encoded CRLF',
    lines: [line('crlf-id%0d%0aSet-Cookie:%20stolen=1')],
    traces: ['crlf-id%0d%0a', 'stolen'],
  },
  { name: 'double quotes', lines: [line('"quoted-id"')], traces: ['"quoted-id"'] },
  { name: 'single quotes', lines: [line("'quoted-id'")], traces: ["'quoted-id'"] },
  { name: 'markup', lines: [line('<script>x</script>')], traces: ['<script>'] },
  { name: 'a comma', lines: [line('comma-id-1,comma-id-2')], traces: ['comma-id-1', 'comma-id-2'] },
  {
    name: 'two header lines, each valid',
    lines: [line('first-line-id'), 'x-transaction-id: second-line-id'],
    traces: ['first-line-id', 'second-line-id'],
  },
];

/** Values that Node.js's HTTP parser itself answers 400: no application ever sees them. */
const REFUSED_BY_NODE: InvalidId[] = [
  { name: 'a NUL byte', lines: [line('nul\x00id')], traces: ['nul\x00id'] },
  { name: 'a control character', lines: [line('ctl\x01id')], traces: ['ctl\x01id'] },
  { name: 'DEL', lines: [line('del\x7fid')], traces: ['del\x7fid'] },
  { name: 'a bare CR', lines: [line('cr\rid')], traces: ['cr\rid'] },
];

/** Parses a raw response's JSON body (sent as UTF-8; `RawResponse.body` is latin1). */
function jsonBody<T>(response: RawResponse): T {
  return JSON.parse(Buffer.from(response.body, 'latin1').toString('utf8')) as T;
}

/** Whether a raw response repeats `trace` in a header line or anywhere in its (JSON) body. */
function reflects(response: RawResponse, trace: string): boolean {
  if (response.raw.includes(trace)) return true;
  try {
    return mentions(jsonBody(response), trace);
  } catch {
    return false;
  }
}

/** The checkout answer when every reader saw `id`. */
function seenEverywhere(id: string, order: number): CheckoutResponse {
  return {
    order,
    decorator: id,
    context: id,
    afterAwaits: id,
    promiseChain: id,
    rxjs: id,
    httpPipe: id,
    orders: { order, decorator: id, context: id, header: id },
  };
}

/** A fresh, valid transaction ID for one test. */
function newId(label: string): string {
  return `${label}-${randomUUID().slice(0, 8)}`;
}

/** Project, tag and summary of events, for whole-list comparisons. */
function digest(events: readonly (SentryEvent & { project: string })[]) {
  return events
    .map((event) => ({
      project: Number(event.project),
      tag: event.tags?.transaction_id,
      summary: summary(event),
    }))
    .toSorted(
      (a, b) => a.project - b.project || String(a.summary).localeCompare(String(b.summary)),
    );
}

/**
 * The end-to-end tests of one HTTP adapter: a gateway in this process (Sentry project 1) calls
 * the orders service in a child process (project 2); both report to `sentry`.
 */
export function httpSuite(adapter: Adapter, sentry: SentryEnvelopeServer): void {
  describe(`HTTP on ${adapter}`, () => {
    let orders: SpawnedService;

    beforeAll(async () => {
      orders = await spawnService(ORDERS_SERVICE, {
        ADAPTER: adapter,
        SENTRY_DSN: sentry.dsn(ORDERS_PROJECT),
      });
    });
    afterAll(async () => {
      // Closes cleanly on SIGTERM, as a service under an orchestrator must.
      if (orders !== undefined) expect(await orders.stop()).toEqual({ code: 0, signal: null });
    });

    /** Waits until both services have sent every event they captured so far. */
    async function settle(): Promise<void> {
      // A report made after the response (a late duplicate) gets the time to be captured.
      await sleep(50);
      const [, flushed] = await Promise.all([
        Sentry.flush(5_000),
        call<{ flushed: boolean }>(`${orders.url}/sentry/flush`, { method: 'POST' }),
      ]);
      expect(flushed.body).toEqual({ flushed: true });
    }

    // Every test starts with no events, so it can count all of them, not only the tagged ones.
    beforeEach(async () => {
      await settle();
      sentry.clear();
    });

    /** Starts a gateway before the tests of the enclosing `describe` and closes it after them. */
    function useGateway(options: Omit<GatewayOptions, 'ordersUrl'> = {}): () => RunningApp {
      let gateway: RunningApp | undefined;
      beforeAll(async () => {
        gateway = await startApp(adapter, gatewayModule({ ordersUrl: orders.url, ...options }));
      });
      afterAll(async () => {
        await gateway?.close();
      });
      return () => {
        if (gateway === undefined) throw new Error('the gateway did not start');
        return gateway;
      };
    }

    function checkout(gateway: RunningApp, body: CheckoutRequest, id?: string) {
      return call<CheckoutResponse>(`${gateway.url}/checkout`, {
        json: body,
        headers: id === undefined ? {} : { [TRANSACTION_ID_HEADER]: id },
      });
    }

    function get(gateway: RunningApp, path: string, id?: string) {
      return call(`${gateway.url}${path}`, {
        headers: id === undefined ? {} : { [TRANSACTION_ID_HEADER]: id },
      });
    }

    describe('with the default options', () => {
      const gateway = useGateway();

      describe('a valid incoming ID', () => {
        it('is the ID of the handler, its async flow, the response, the middleware and orders', async () => {
          const id = newId('valid');
          const response = await checkout(gateway(), { order: 1 }, id);

          expect(response.status).toBe(201);
          expect(response.body).toEqual(seenEverywhere(id, 1));
          expect(response.headers.get(TRANSACTION_ID_HEADER)).toBe(id);
          expect(response.headers.get(SEEN_BY_MIDDLEWARE)).toBe(id);
          await settle();
          expect(sentry.events).toEqual([]);
        });

        it('tags the events of both services when the checkout fails in orders', async () => {
          const id = newId('valid-failing');
          const response = await checkout(gateway(), { order: 2, fail: true }, id);

          expect(response.status).toBe(500);
          expect(response.headers.get(TRANSACTION_ID_HEADER)).toBe(id);
          await settle();
          expect(digest(sentry.events)).toEqual([
            {
              project: GATEWAY_PROJECT,
              tag: id,
              summary: `Request failed with status 500: POST ${orders.url}/orders/fail?order=2`,
            },
            { project: ORDERS_PROJECT, tag: id, summary: 'orders: payment declined for order 2' },
          ]);
        });

        it('is accepted whatever the case of the header name', async () => {
          const response = await rawGet(gateway().port, '/audit', [
            'X-TrAnSaCtIoN-iD: Mixed.Case_id-42',
          ]);

          expect(response.status).toBe(200);
          expect(headerValues(response, TRANSACTION_ID_HEADER)).toEqual(['Mixed.Case_id-42']);
          const body = jsonBody<AuditResponse>(response);
          expect(body).toMatchObject({ id: 'Mixed.Case_id-42', context: 'Mixed.Case_id-42' });
          expect(body.orders.headers[TRANSACTION_ID_HEADER]).toBe('Mixed.Case_id-42');
        });
      });

      describe('no incoming ID', () => {
        it('gets a fresh UUID, the same everywhere', async () => {
          const response = await checkout(gateway(), { order: 3 });

          const id = response.headers.get(TRANSACTION_ID_HEADER);
          expect(id).toMatch(UUID);
          expect(response.status).toBe(201);
          expect(response.body).toEqual(seenEverywhere(id!, 3));
          expect(response.headers.get(SEEN_BY_MIDDLEWARE)).toBe(id);
        });

        it('gets a different ID for every request', async () => {
          const responses = await Promise.all([1, 2, 3].map(() => get(gateway(), '/audit')));
          const ids = responses.map((response) => response.headers.get(TRANSACTION_ID_HEADER));

          expect(new Set(ids).size).toBe(3);
          for (const response of responses) {
            expect(response.body.orders.id).toBe(response.headers.get(TRANSACTION_ID_HEADER));
          }
        });

        it('tags the events of both services with the fresh ID', async () => {
          const response = await checkout(gateway(), { order: 4, fail: true });

          const id = response.headers.get(TRANSACTION_ID_HEADER);
          expect(id).toMatch(UUID);
          await settle();
          expect(digest(sentry.events).map(({ project, tag }) => ({ project, tag }))).toEqual([
            { project: GATEWAY_PROJECT, tag: id },
            { project: ORDERS_PROJECT, tag: id },
          ]);
        });
      });

      describe('an invalid incoming ID, sent byte for byte', () => {
        it.each(INVALID_IDS)(
          'with $name is replaced by a fresh one, and not repeated',
          async (invalid) => {
            const calls = gateway().app.get(HandlerCalls);
            const before = calls.count;
            const response = await rawGet(gateway().port, '/audit', invalid.lines);

            expect(response.status).toBe(200);
            expect(calls.count).toBe(before + 1);
            const [id, ...others] = headerValues(response, TRANSACTION_ID_HEADER);
            expect(others).toEqual([]);
            expect(id).toMatch(UUID);
            expect(headerValues(response, SEEN_BY_MIDDLEWARE)).toEqual([id]);
            const body = jsonBody<AuditResponse>(response);
            expect(body).toMatchObject({ id, context: id, orders: { id } });
            expect(body.orders.headers[TRANSACTION_ID_HEADER]).toBe(id);
            expect(headerValues(response, 'set-cookie')).toEqual([]);
            for (const trace of invalid.traces) {
              expect(reflects(response, trace), `response repeats ${JSON.stringify(trace)}`).toBe(
                false,
              );
            }
          },
        );

        it('is repeated in no Sentry event of either service', async () => {
          const found: string[] = [];
          for (const invalid of INVALID_IDS) {
            const response = await rawGet(gateway().port, '/audit', invalid.lines);
            const [id] = headerValues(response, TRANSACTION_ID_HEADER);
            await sentry.waitFor(() => sentry.eventsFor(id).length === 2);
            const events = sentry.eventsFor(id);
            expect(digest(events)).toEqual([
              { project: GATEWAY_PROJECT, tag: id, summary: 'gateway: audit' },
              { project: ORDERS_PROJECT, tag: id, summary: 'orders: audit' },
            ]);
            for (const event of events) {
              for (const trace of invalid.traces) {
                for (const path of pathsMentioning(event, trace)) {
                  found.push(`${invalid.name}: project ${event.project}, ${path}`);
                }
              }
            }
          }
          expect(found, 'invalid values found in Sentry events').toEqual([]);
        });

        it.each(REFUSED_BY_NODE)('with $name never reaches the application', async (invalid) => {
          const calls = gateway().app.get(HandlerCalls);
          const before = calls.count;
          const response = await rawGet(gateway().port, '/audit', invalid.lines);

          expect(response.status).toBe(400);
          expect(calls.count).toBe(before);
          for (const trace of invalid.traces) expect(reflects(response, trace)).toBe(false);
          await settle();
          expect(sentry.events).toEqual([]);
        });
      });

      describe('guards and middleware', () => {
        it('reports an error thrown by a guard once, tagged', async () => {
          const id = newId('guard-error');
          const calls = gateway().app.get(HandlerCalls);
          const before = calls.count;
          const response = await get(gateway(), '/guarded/failing', id);

          expect(response.status).toBe(500);
          expect(response.body).toEqual({ statusCode: 500, message: 'Internal server error' });
          expect(response.headers.get(TRANSACTION_ID_HEADER)).toBe(id);
          expect(calls.count).toBe(before);
          await settle();
          expect(digest(sentry.events)).toEqual([
            { project: GATEWAY_PROJECT, tag: id, summary: 'gateway: guard failed' },
          ]);
        });

        it('tags a message a guard captures', async () => {
          const id = newId('guard-message');
          const response = await get(gateway(), '/guarded/noticing', id);

          expect(response.status).toBe(200);
          expect(response.body).toEqual({ id });
          await settle();
          expect(digest(sentry.events)).toEqual([
            { project: GATEWAY_PROJECT, tag: id, summary: 'gateway: guard noticed' },
          ]);
        });

        it("gives the application's middleware the ID, fresh ones included", async () => {
          const given = await get(gateway(), '/guarded/noticing', newId('middleware'));
          const fresh = await get(gateway(), '/guarded/noticing');

          for (const response of [given, fresh]) {
            expect(response.headers.get(SEEN_BY_MIDDLEWARE)).toBe(response.body.id);
            expect(response.headers.get(TRANSACTION_ID_HEADER)).toBe(response.body.id);
          }
        });
      });

      describe('unhandled exceptions', () => {
        it('reports an Error thrown by a handler once, tagged, as unhandled', async () => {
          const id = newId('handler-error');
          const response = await get(gateway(), '/fail', id);

          expect(response.status).toBe(500);
          expect(response.headers.get(TRANSACTION_ID_HEADER)).toBe(id);
          await settle();
          expect(digest(sentry.events)).toEqual([
            { project: GATEWAY_PROJECT, tag: id, summary: 'gateway: handler failed' },
          ]);
          expect(sentry.events[0].exception?.values?.at(-1)?.mechanism?.handled).toBe(false);
        });

        it.each(['500', '503'])('reports an HttpException %s once, tagged', async (status) => {
          const id = newId(`http-${status}`);
          const response = await get(gateway(), `/http/${status}`, id);

          expect(response.status).toBe(Number(status));
          expect(response.headers.get(TRANSACTION_ID_HEADER)).toBe(id);
          await settle();
          expect(digest(sentry.events)).toEqual([
            { project: GATEWAY_PROJECT, tag: id, summary: `gateway: http ${status}` },
          ]);
        });

        it.each(['400', '404'])('never reports an HttpException %s', async (status) => {
          const response = await get(gateway(), `/http/${status}`, newId(`http-${status}`));

          expect(response.status).toBe(Number(status));
          expect(response.body.message).toBe(`gateway: http ${status}`);
          await settle();
          expect(sentry.events).toEqual([]);
        });
      });

      describe('200 concurrent checkouts, half of them failing in orders', () => {
        it('keeps every request, response and event with its own ID', async () => {
          const size = 200;
          const batch = newId('load');
          const ids = Array.from({ length: size }, (_, order) => `${batch}-${order}`);
          const failing = (order: number) => order % 2 === 1;

          // The barrier holds every checkout until all 200 are in flight in the gateway.
          const responses = await Promise.all(
            ids.map((id, order) =>
              checkout(
                gateway(),
                { order, fail: failing(order), barrier: { name: batch, size } },
                id,
              ),
            ),
          );

          responses.forEach((response, order) => {
            expect(response.headers.get(TRANSACTION_ID_HEADER)).toBe(ids[order]);
            if (failing(order)) expect(response.status).toBe(500);
            else expect(response.body).toEqual(seenEverywhere(ids[order], order));
          });
          await settle();
          const expected = ids
            .map((id, order) => ({ order, tag: id }))
            .filter(({ order }) => failing(order));
          const received = (project: number, orderIn: RegExp) =>
            inProject(sentry.events, project)
              .map((event) => ({
                order: Number(orderIn.exec(summary(event) ?? '')?.[1]),
                tag: event.tags?.transaction_id,
              }))
              .toSorted((a, b) => a.order - b.order);
          expect(received(GATEWAY_PROJECT, /\?order=(\d+)$/)).toEqual(expected);
          expect(received(ORDERS_PROJECT, /for order (\d+)$/)).toEqual(expected);
          expect(sentry.events).toHaveLength(2 * expected.length);
        }, 120_000);
      });

      describe('TransactionContext.run() outside any request', () => {
        it('gives a background job an ID of its own, on its events and its calls', async () => {
          const context = gateway().app.get(TransactionContext);
          expect(context.id).toBeUndefined();

          const job = await gateway().app.get(NightlyReport).run();

          expect(job.id).toMatch(UUID);
          expect(job.ordersSaw).toBe(job.id);
          expect(context.id).toBeUndefined();
          await settle();
          expect(digest(sentry.events)).toEqual([
            {
              project: GATEWAY_PROJECT,
              tag: job.id,
              summary: 'nightly report: unpaid orders found',
            },
            { project: ORDERS_PROJECT, tag: job.id, summary: 'orders: audit' },
          ]);
        });

        it('keeps jobs running at once apart, under the IDs they were given', async () => {
          const report = gateway().app.get(NightlyReport);
          const ids = [newId('job-a'), newId('job-b'), newId('job-c')];

          const jobs = await Promise.all(ids.map((id) => report.run(id)));

          expect(jobs).toEqual(ids.map((id) => ({ id, ordersSaw: id })));
          await settle();
          for (const id of ids) {
            expect(inProject(sentry.eventsFor(id), GATEWAY_PROJECT)).toHaveLength(1);
          }
          expect(sentry.events).toHaveLength(2 * ids.length);
        });

        it('refuses to run a job under an invalid ID', () => {
          const report = gateway().app.get(NightlyReport);

          expect(() => report.run('not valid!')).toThrow(TypeError);
        });

        it('leaves events captured outside any transaction untagged', async () => {
          await gateway().app.get(NightlyReport).run();
          await checkout(gateway(), { order: 5, fail: true }, newId('before-outside'));

          Sentry.captureMessage('outside any transaction');
          await settle();
          const outside = sentry.events.filter(
            (event) => event.message === 'outside any transaction',
          );
          expect(outside).toHaveLength(1);
          expect(outside[0].tags?.transaction_id).toBeUndefined();
        });
      });
    });

    describe("with invalid: 'reject'", () => {
      const gateway = useGateway({ transaction: TransactionModule.forRoot({ invalid: 'reject' }) });

      it.each(INVALID_IDS)(
        'answers $name with 400, before the application runs',
        async (invalid) => {
          const calls = gateway().app.get(HandlerCalls);
          const before = calls.count;
          const response = await rawGet(gateway().port, '/audit', invalid.lines);

          expect(response.status).toBe(400);
          expect(headerValues(response, 'content-type')[0]).toMatch(/^application\/json/);
          expect(jsonBody(response)).toEqual({
            statusCode: 400,
            error: 'Bad Request',
            message: expect.stringContaining(TRANSACTION_ID_HEADER),
          });
          expect(calls.count).toBe(before);
          for (const trace of invalid.traces) expect(reflects(response, trace)).toBe(false);
        },
      );

      it('still gives a request without an ID a fresh one', async () => {
        const response = await checkout(gateway(), { order: 6 });

        expect(response.status).toBe(201);
        const id = response.headers.get(TRANSACTION_ID_HEADER);
        expect(id).toMatch(UUID);
        expect(response.body).toEqual(seenEverywhere(id!, 6));
      });

      it('still accepts a valid ID', async () => {
        const id = newId('reject-valid');
        const response = await checkout(gateway(), { order: 7 }, id);

        expect(response.status).toBe(201);
        expect(response.body).toEqual(seenEverywhere(id, 7));
      });
    });

    describe('with a validate that accepts anything', () => {
      const gateway = useGateway({
        transaction: TransactionModule.forRoot({ validate: () => true }),
      });

      it('takes one header line as it is, commas and spaces included', async () => {
        const response = await rawGet(gateway().port, '/audit', [line('order 7, retry 2')]);

        expect(headerValues(response, TRANSACTION_ID_HEADER)).toEqual(['order 7, retry 2']);
        const body = jsonBody<AuditResponse>(response);
        expect(body.id).toBe('order 7, retry 2');
        // Forwarded as it is; orders, with the default validate, refuses it for itself.
        expect(body.orders.headers[TRANSACTION_ID_HEADER]).toBe('order 7, retry 2');
      });

      it.each([
        {
          name: 'two header lines',
          lines: [line('first-line-id'), line('second-line-id')],
          traces: ['first-line-id', 'second-line-id'],
        },
        { name: 'a tab', lines: [line('tab\tinside')], traces: ['tab\tinside'] },
        { name: 'a non-ASCII byte', lines: [line('nbsp\xa0id')], traces: ['nbsp\xa0id'] },
        { name: '201 characters', lines: [line('b'.repeat(201))], traces: ['b'.repeat(201)] },
      ])('still replaces $name, whatever validate says', async ({ lines, traces }) => {
        const response = await rawGet(gateway().port, '/audit', lines);

        expect(response.status).toBe(200);
        const [id] = headerValues(response, TRANSACTION_ID_HEADER);
        expect(id).toMatch(UUID);
        expect(jsonBody<AuditResponse>(response).orders.headers[TRANSACTION_ID_HEADER]).toBe(id);
        for (const trace of traces) expect(reflects(response, trace)).toBe(false);
      });
    });

    describe("with the application's own catch-all exception filter", () => {
      const gateway = useGateway({
        providers: [{ provide: APP_FILTER, useClass: AppExceptionFilter }],
      });

      it.each([
        { path: '/fail', status: 500, reason: 'gateway: handler failed' },
        { path: '/guarded/failing', status: 500, reason: 'gateway: guard failed' },
        { path: '/http/503', status: 503, reason: 'gateway: http 503' },
        { path: '/http/404', status: 404, reason: 'gateway: http 404' },
      ])(
        'keeps its answer to $path and its one event, tagged',
        async ({ path, status, reason }) => {
          const id = newId('app-filter');
          const response = await get(gateway(), path, id);

          expect(response.status).toBe(status);
          expect(response.body).toEqual({ failed: true, reason, transactionId: id });
          expect(response.headers.get(TRANSACTION_ID_HEADER)).toBe(id);
          await settle();
          expect(digest(sentry.events)).toEqual([
            { project: GATEWAY_PROJECT, tag: id, summary: reason },
          ]);
        },
      );
    });

    describe("with @sentry/nestjs's SentryGlobalFilter", () => {
      const gateway = useGateway({
        providers: [{ provide: APP_FILTER, useClass: SentryGlobalFilter }],
      });

      it.each([
        { path: '/fail', status: 500, reported: 'gateway: handler failed' },
        { path: '/guarded/failing', status: 500, reported: 'gateway: guard failed' },
        { path: '/http/503', status: 503, reported: 'gateway: http 503' },
      ])('reports $path exactly once, tagged', async ({ path, status, reported }) => {
        const id = newId('sentry-filter');
        const response = await get(gateway(), path, id);

        expect(response.status).toBe(status);
        expect(response.headers.get(TRANSACTION_ID_HEADER)).toBe(id);
        await settle();
        expect(digest(sentry.events)).toEqual([
          { project: GATEWAY_PROJECT, tag: id, summary: reported },
        ]);
      });

      it('leaves HttpExceptions of 500 and above to the library, which reports them', async () => {
        await get(gateway(), '/http/503', newId('sentry-filter-503'));

        await settle();
        expect(sentry.events.map((event) => event.exception?.values?.at(-1)?.mechanism)).toEqual([
          { type: 'auto.function.nestjs.transaction_id', handled: false },
        ]);
      });

      it.each(['400', '404'])('never reports an HttpException %s', async (status) => {
        const response = await get(gateway(), `/http/${status}`, newId(`sentry-filter-${status}`));

        expect(response.status).toBe(Number(status));
        expect(response.body).toMatchObject({
          statusCode: Number(status),
          message: `gateway: http ${status}`,
        });
        await settle();
        expect(sentry.events).toEqual([]);
      });
    });

    describe('with reportUnhandled: false', () => {
      const gateway = useGateway({
        transaction: TransactionModule.forRoot({ reportUnhandled: false }),
      });

      it.each(['/fail', '/guarded/failing', '/http/503'])(
        'reports nothing for %s',
        async (path) => {
          const id = newId('unreported');
          const response = await get(gateway(), path, id);

          expect(response.status).toBeGreaterThanOrEqual(500);
          expect(response.headers.get(TRANSACTION_ID_HEADER)).toBe(id);
          await settle();
          expect(sentry.events).toEqual([]);
        },
      );

      it('still tags what the application captures', async () => {
        const id = newId('still-tagged');
        await get(gateway(), '/guarded/noticing', id);

        await settle();
        expect(digest(sentry.events)).toEqual([
          { project: GATEWAY_PROJECT, tag: id, summary: 'gateway: guard noticed' },
        ]);
      });
    });

    describe('with forRootAsync({ imports, inject, useFactory })', () => {
      const gateway = useGateway({
        transaction: TransactionModule.forRootAsync({
          imports: [
            settingsModule({ TRANSACTION_HEADER: 'x-correlation-id', INVALID_IDS: 'reject' }),
          ],
          inject: [Settings],
          useFactory: (settings: Settings) => ({
            header: settings.get('TRANSACTION_HEADER'),
            invalid: settings.get('INVALID_IDS') as TransactionModuleOptions['invalid'],
          }),
        }),
      });

      it('reads, echoes and forwards the configured header', async () => {
        const id = newId('correlation');
        const response = await call<AuditResponse>(`${gateway().url}/audit`, {
          headers: { 'x-correlation-id': id, [TRANSACTION_ID_HEADER]: newId('ignored') },
        });

        expect(response.status).toBe(200);
        expect(response.headers.get('x-correlation-id')).toBe(id);
        expect(response.headers.get(TRANSACTION_ID_HEADER)).toBeNull();
        expect(response.body).toMatchObject({ id, context: id });
        expect(response.body.orders.headers['x-correlation-id']).toBe(id);
        expect(response.body.orders.headers[TRANSACTION_ID_HEADER]).toBeUndefined();
      });

      it('applies the configured policy to invalid values', async () => {
        const response = await rawGet(gateway().port, '/audit', ['X-Correlation-ID: not valid']);

        expect(response.status).toBe(400);
        expect(jsonBody<{ message: string }>(response).message).toContain('x-correlation-id');
        expect(reflects(response, 'not valid')).toBe(false);
      });
    });

    describe('with forRootAsync({ imports, useClass })', () => {
      const gateway = useGateway({
        transaction: TransactionModule.forRootAsync({
          imports: [settingsModule({ ID_PREFIX: 'gw-' })],
          useClass: TransactionOptionsFromSettings,
        }),
      });

      it('generates IDs with the factory the class gives', async () => {
        const response = await checkout(gateway(), { order: 8 });

        const id = response.headers.get(TRANSACTION_ID_HEADER)!;
        expect(id).toMatch(/^gw-/);
        expect(response.body).toEqual(seenEverywhere(id, 8));
      });
    });

    describe('with bad options', () => {
      it.each([
        {
          option: 'invalid',
          transaction: TransactionModule.forRoot({ invalid: 'ignore' as never }),
        },
        {
          option: 'header',
          transaction: TransactionModule.forRootAsync({
            imports: [settingsModule({ TRANSACTION_HEADER: 'x transaction id' })],
            inject: [Settings],
            useFactory: (settings: Settings) => ({ header: settings.get('TRANSACTION_HEADER') }),
          }),
        },
        {
          option: 'generate',
          transaction: TransactionModule.forRoot({ generate: () => 'spaces are not valid' }),
        },
        {
          option: 'propagationTargets',
          transaction: TransactionModule.forRoot({ propagationTargets: 'localhost' as never }),
        },
      ])('fails at start-up, naming option $option', async ({ option, transaction }) => {
        await expect(
          startApp(adapter, gatewayModule({ ordersUrl: orders.url, transaction })),
        ).rejects.toThrow(`nestjs-transaction-id: option "${option}"`);
      });
    });
  });
}
