/**
 * `nestjs-transaction-id/browser` itself in Chromium, with and without `@sentry/browser`: a blank
 * page loads both (harness/entry.ts) from a loopback server, and each test drives them through
 * `window.harness`; Sentry reports to a local envelope endpoint.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type * as SentryBrowser from '@sentry/browser';
import type * as Helper from '../../lib/browser/index.js';
import { SentryEnvelopeServer } from '../fixtures/sentry-envelope-server.js';
import { launchChromium } from './chromium.js';
import { startHarnessServer, type HarnessRequest } from './harness/harness-server.js';
import type { Loopback } from './support/loopback.js';

/** What the page has on `window.harness`, plus what the tests keep there. */
interface Harness {
  Sentry: typeof SentryBrowser;
  helper: typeof Helper;
  failures: Array<{ name: string; message: string; id: string }>;
}
declare const harness: Harness;

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

let browser: Browser;
let server: Loopback & { requests: HarnessRequest[] };
let sentry: SentryEnvelopeServer;
let page: Page;

beforeAll(async () => {
  [browser, server, sentry] = await Promise.all([
    launchChromium(),
    startHarnessServer(),
    SentryEnvelopeServer.start(),
  ]);
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await Promise.all([server?.close(), sentry?.close()]);
});

beforeEach(async () => {
  server.requests.length = 0;
  sentry.clear();
  page = await browser.newPage();
  await page.goto(`${server.origin}/`);
  await page.waitForFunction(() => 'harness' in globalThis);
  return () => page.close();
});

/** Starts Sentry in the page with the integration and `options` (RegExps as sources). */
async function initSentry(
  options: {
    propagationTargets?: string[];
    failedRequestStatusCodes?: Array<number | [number, number]>;
  } = {},
) {
  await page.evaluate(
    ({ dsn, options: given }) => {
      harness.failures = [];
      harness.Sentry.init({
        dsn,
        integrations: (defaults) => [
          ...defaults.filter((integration) => integration.name !== 'Dedupe'),
          harness.helper.transactionIdIntegration({
            ...given,
            onRequestFailure: (error, id) =>
              harness.failures.push({
                name: (error as Error).name,
                message: (error as Error).message,
                id,
              }),
          }),
        ],
      });
    },
    { dsn: sentry.dsn(7), options },
  );
}

/** Sends what Sentry holds in the page and waits until the endpoint has it all. */
const flush = () => page.evaluate(() => harness.Sentry.flush(10_000));

/** Tag and message (or exception) of each event received, in order. */
/**
 * Each event's `[transaction_id tag, message]`, sorted by message: the browser SDK sends each
 * event in a request of its own, and they may arrive in any order.
 */
const received = () =>
  sentry.events
    .map((event) => [
      event.tags?.transaction_id,
      event.message ??
        `${event.exception?.values?.[0]?.type}: ${event.exception?.values?.[0]?.value}`,
    ])
    .toSorted((a, b) => String(a[1]).localeCompare(String(b[1])));

describe('nestjs-transaction-id/browser in Chromium', () => {
  it('tags every Sentry event with the current ID, one per page load, until a new one replaces it', async () => {
    await initSentry();
    const ids = await page.evaluate(() => {
      const { Sentry, helper } = harness;
      const first = helper.getTransactionId();
      Sentry.captureMessage('first');
      const again = helper.getTransactionId();
      const second = helper.startNewTransaction();
      Sentry.captureMessage('second');
      // The app's own choice for one event wins.
      Sentry.withScope((scope) => {
        scope.setTag('transaction_id', 'chosen-by-the-app');
        Sentry.captureMessage('third');
      });
      return { first, again, second };
    });
    await flush();
    expect(ids.first).toMatch(UUID_V4);
    expect(ids.again).toBe(ids.first);
    expect(ids.second).toMatch(UUID_V4);
    expect(ids.second).not.toBe(ids.first);
    expect(received()).toEqual([
      [ids.first, 'first'],
      [ids.second, 'second'],
      ['chosen-by-the-app', 'third'],
    ]);
  });

  it('sends the ID to its own origin by fetch and XHR, and keeps one the app set', async () => {
    await initSentry();
    const id = await page.evaluate(async () => {
      await fetch('/answer?case=fetch');
      await fetch('/answer?case=app-set', { headers: { 'X-Transaction-ID': 'set-by-the-app' } });
      await fetch(new Request('/answer?case=request', { headers: { 'x-extra': 'kept' } }));
      await new Promise((resolve) => {
        const xhr = new XMLHttpRequest();
        xhr.open('GET', '/answer?case=xhr');
        xhr.addEventListener('loadend', resolve);
        xhr.send();
      });
      return harness.helper.getTransactionId();
    });
    expect(
      server.requests.map(({ path, headers }) => [
        path,
        headers['x-transaction-id'],
        headers['x-extra'],
      ]),
    ).toEqual([
      ['/answer?case=fetch', id, undefined],
      ['/answer?case=app-set', 'set-by-the-app', undefined],
      ['/answer?case=request', id, 'kept'],
      ['/answer?case=xhr', id, undefined],
    ]);
  });

  it('reads the echoed ID and reports each failed response once, with the statuses configured', async () => {
    await initSentry({ failedRequestStatusCodes: [[500, 599], 404] });
    const seen = await page.evaluate(async () => {
      const { Sentry, helper } = harness;
      const replaced = await fetch('/answer?status=500&echo=server-chosen');
      const missing = await fetch('/answer?status=404');
      const ok = await fetch('/answer?status=200');
      const failure = helper.requestFailure(replaced)!;
      // The app throwing the reported error again sends nothing more.
      Sentry.captureException(failure);
      return {
        current: helper.getTransactionId(),
        replaced: helper.transactionIdOf(replaced),
        failureId: helper.transactionIdOf(failure),
        failureName: failure.name,
        okId: helper.transactionIdOf(ok),
        okFailure: helper.requestFailure(ok) === undefined,
        missingFailure: helper.requestFailure(missing) !== undefined,
      };
    });
    await flush();
    expect(seen).toEqual({
      current: expect.stringMatching(UUID_V4),
      replaced: 'server-chosen',
      failureId: 'server-chosen',
      failureName: 'TransactionRequestError',
      okId: seen.current,
      okFailure: true,
      missingFailure: true,
    });
    expect(received()).toEqual([
      [seen.current, `TransactionRequestError: GET ${server.origin}/answer failed with status 404`],
      [
        'server-chosen',
        `TransactionRequestError: GET ${server.origin}/answer failed with status 500`,
      ],
    ]);
    for (const event of sentry.events) {
      expect(event.exception?.values?.[0]?.mechanism).toEqual({
        type: 'auto.http.nestjs_transaction_id',
        handled: true,
      });
    }
  });

  it('reports a request that got no answer once, with the ID it was sent with, and not an abort', async () => {
    // An allowed origin where nothing listens: the server just closed.
    const closed = await startHarnessServer();
    await closed.close();
    await initSentry({ propagationTargets: [closed.origin] });
    const seen = await page.evaluate(async (url) => {
      const { Sentry, helper } = harness;
      const fetchError = await fetch(`${url}/down`).catch((error: unknown) => error);
      Sentry.captureException(fetchError);
      const xhr = new XMLHttpRequest();
      await new Promise((resolve) => {
        xhr.open('GET', `${url}/down`);
        xhr.addEventListener('loadend', resolve);
        xhr.send();
      });
      const controller = new AbortController();
      const aborted = fetch('/answer?case=aborted', { signal: controller.signal });
      controller.abort();
      await aborted.catch(() => undefined);
      return {
        current: helper.getTransactionId(),
        fetchErrorId: helper.transactionIdOf(fetchError),
        xhrFailure: helper.requestFailure(xhr)?.message,
      };
    }, closed.origin);
    await flush();
    expect(seen).toEqual({
      current: expect.stringMatching(UUID_V4),
      fetchErrorId: seen.current,
      xhrFailure: `GET ${closed.origin}/down failed: no response`,
    });
    expect(received()).toEqual([
      [seen.current, `TransactionRequestError: GET ${closed.origin}/down failed: no response`],
      // Sentry's SDK adds the host to the browser's message.
      [seen.current, expect.stringMatching(/^TypeError: Failed to fetch/)],
    ]);
    expect(await page.evaluate(() => harness.failures.map((failure) => failure.name))).toEqual([
      'TypeError',
      'TransactionRequestError',
    ]);
  });

  it('takes a custom header, refuses bad options clearly, and leaves fetch’s own errors alone', async () => {
    const seen = await page.evaluate(async () => {
      const { helper } = harness;
      const refused = (options: Parameters<typeof helper.installTransactionId>[0]) => {
        try {
          helper.installTransactionId(options);
          return 'accepted';
        } catch (error) {
          return (error as Error).message;
        }
      };
      const messages = [
        refused({ header: 'x request id' }),
        refused({ propagationTargets: ['api.example.com'] }),
        refused({ failedRequestStatusCodes: 500 as never }),
      ];
      helper.installTransactionId({ header: 'X-Request-ID' });
      // fetch rejects a bad header value itself; the instrumentation must not turn that into a throw.
      const rejected = await fetch('/answer?case=bad', { headers: { 'x-bad': 'a\nb' } }).then(
        () => 'resolved',
        (error: Error) => error.name,
      );
      await fetch('/answer?case=custom');
      return { messages, rejected, id: helper.getTransactionId() };
    });
    expect(seen.messages).toEqual([
      'nestjs-transaction-id/browser: "header" must be a header name',
      'nestjs-transaction-id/browser: "propagationTargets" must be origins or RegExps, not api.example.com',
      'nestjs-transaction-id/browser: "failedRequestStatusCodes" must be an array',
    ]);
    expect(seen.rejected).toBe('TypeError');
    expect(server.requests.map(({ path, headers }) => [path, headers['x-request-id']])).toEqual([
      ['/answer?case=custom', seen.id],
    ]);
  });

  it('loads without a bundler, from dist/ through an import map', async () => {
    await page.goto(`${server.origin}/import-map.html`);
    const id = await (
      await page.waitForFunction(() => (globalThis as { fromImportMap?: string }).fromImportMap)
    ).jsonValue();
    expect(id).toMatch(UUID_V4);
    expect(server.requests.map(({ path, headers }) => [path, headers['x-transaction-id']])).toEqual(
      [['/answer?case=import-map', id]],
    );
  });

  it('works without Sentry: installTransactionId() sends the ID, calls onRequestFailure, and turns off and on again', async () => {
    const seen = await page.evaluate(async () => {
      const { helper } = harness;
      const failures: string[] = [];
      const uninstall = helper.installTransactionId({
        onRequestFailure: (error, id) => failures.push(`${(error as Error).message} ${id}`),
      });
      await fetch('/answer?case=installed&status=502');
      // Someone else (Sentry) wraps fetch over ours; then the helper is turned off and on again:
      // still one ID and one report per request.
      const ours = globalThis.fetch;
      globalThis.fetch = (input, init) => ours(input, init);
      uninstall();
      await fetch('/answer?case=removed&status=502');
      helper.installTransactionId({
        onRequestFailure: (error, id) => failures.push(`${(error as Error).message} ${id}`),
      });
      await fetch('/answer?case=again&status=502');
      return { id: helper.getTransactionId(), failures };
    });
    expect(server.requests.map(({ path, headers }) => [path, headers['x-transaction-id']])).toEqual(
      [
        ['/answer?case=installed&status=502', seen.id],
        ['/answer?case=removed&status=502', undefined],
        ['/answer?case=again&status=502', seen.id],
      ],
    );
    expect(seen.failures).toEqual([
      `GET ${server.origin}/answer failed with status 502 ${seen.id}`,
      `GET ${server.origin}/answer failed with status 502 ${seen.id}`,
    ]);
    expect(sentry.events).toEqual([]);
  });
});
