/**
 * The sample's page in a real Chromium (Debian's, driven by playwright-core): `npm run sample`
 * runs with a Sentry DSN per project on a local envelope endpoint (gateway 1, orders 2, page 3);
 * the test clicks "Place order" and reads what each project received.
 */
import { mkdirSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SentryEnvelopeServer, type SentryEvent } from '../fixtures/sentry-envelope-server.js';
import { launchChromium } from './chromium.js';
import {
  startPageHost,
  startRecorder,
  type Loopback,
  type PageConfig,
} from './support/loopback.js';
import { startSample, type RunningSample } from './support/sample-process.js';

const WEB_DIR = new URL('../../sample/dist/web/', import.meta.url);
const ARTIFACTS = new URL('./artifacts/', import.meta.url);
const REFERENCE = /^Something went wrong — reference (\S+)$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const PROJECT = { gateway: '1', orders: '2', page: '3', notifications: '4' };
/** What one failed order must leave in Sentry: one error per project, all under its ID. */
const ONE_FAILED_ORDER = [
  [PROJECT.gateway, 'TransactionHttpError'],
  [PROJECT.orders, 'TypeError'],
  [PROJECT.page, 'TransactionRequestError'],
  [PROJECT.notifications, 'Error'],
].toSorted();

let sentry: SentryEnvelopeServer;
let recorder: Loopback & { requests: Array<{ method: string; headers: Record<string, unknown> }> };
let pageHost: Loopback;
let sample: RunningSample;
let browser: Browser;
/** Every reference a page showed, checked at the end for events reported twice. */
const references: string[] = [];

beforeAll(async () => {
  sentry = await SentryEnvelopeServer.start();
  recorder = await startRecorder();
  // The variants of the page on another origin; the gateway's URL is known once it runs.
  pageHost = await startPageHost(WEB_DIR, () => {
    const page = (propagationTargets: string[]): PageConfig => ({
      dsn: sentry.dsn(PROJECT.page),
      apiUrl: sample.gatewayUrl,
      propagationTargets,
    });
    return {
      'api-allowed': page([sample.gatewayUrl]),
      'api-not-allowed': page([]),
      'recorder-allowed': page([sample.gatewayUrl, recorder.origin]),
    };
  });
  sample = await startSample({
    SENTRY_DSN_GATEWAY: sentry.dsn(PROJECT.gateway),
    SENTRY_DSN_ORDERS: sentry.dsn(PROJECT.orders),
    SENTRY_DSN_WEB: sentry.dsn(PROJECT.page),
    SENTRY_DSN_NOTIFICATIONS: sentry.dsn(PROJECT.notifications),
    CORS_ORIGINS: pageHost.origin,
  });
  browser = await launchChromium();
}, 240_000);

afterAll(async () => {
  await browser?.close();
  await sample?.stop();
  await Promise.all([sentry?.close(), recorder?.close(), pageHost?.close()]);
});

/** Opens a page and waits for its button. */
async function open(url: string): Promise<Page> {
  const page = await browser.newPage();
  await page.goto(url);
  await page.waitForFunction(() => document.querySelector('#place-order') !== null);
  return page;
}

/** Clicks "Place order" and returns the reference the page then shows. */
async function placeOrder(page: Page): Promise<string> {
  const before = await page.textContent('#status');
  await page.click('#place-order');
  await page.waitForFunction(
    (previous) => {
      const status = document.querySelector('#status')!;
      return status.className === 'failed' && status.textContent !== previous;
    },
    before,
    { timeout: 20_000 },
  );
  const text = (await page.textContent('#status'))!;
  expect(text).toMatch(REFERENCE);
  const reference = REFERENCE.exec(text)![1];
  references.push(reference);
  return reference;
}

/** Project and exception type of each event, sorted. */
const summary = (events: SentryEvent[]) =>
  events.map((event) => [event.project, event.exception?.values?.[0]?.type]).toSorted();

/** Waits until every project reported an error under `id`, and returns what they got. */
async function failedOrderEvents(id: string): Promise<Array<SentryEvent & { project: string }>> {
  const projects = () => new Set(sentry.eventsFor(id).map((event) => event.project));
  await sentry.waitFor(() => projects().size === ONE_FAILED_ORDER.length, 20_000);
  return sentry.eventsFor(id);
}

describe('the sample page in Chromium', () => {
  it('npm run sample prints the page URL', () => {
    expect(sample.output()).toContain(
      `page       http://localhost:${new URL(sample.gatewayUrl).port}/`,
    );
  });

  it.each(['fetch', 'xhr'])(
    'same origin, %s: the reference shown is the transaction_id of the browser, gateway and orders errors',
    async (client) => {
      const page = await open(`${sample.gatewayUrl}/?client=${client}`);
      const reference = await placeOrder(page);
      expect(reference).toMatch(UUID);
      const events = await failedOrderEvents(reference);
      expect(summary(events)).toEqual(ONE_FAILED_ORDER);
      const browserError = events.find((event) => event.project === PROJECT.page)!;
      expect(browserError.exception?.values?.[0]?.value).toBe(
        `POST ${sample.gatewayUrl}/checkout failed with status 500`,
      );
      if (client === 'fetch') {
        mkdirSync(ARTIFACTS, { recursive: true });
        // The page after the failure, as the user sees it: a CI artifact, and the README's picture.
        await page
          .locator('main')
          .screenshot({ path: new URL('sample-page-failure.png', ARTIFACTS).pathname });
      }
      await page.close();
    },
  );

  it('makes a new ID per click, and one per page load', async () => {
    const page = await open(`${sample.gatewayUrl}/`);
    // Before any click, the page's requests share the ID of this page load (the gateway echoes it).
    const echoed = () =>
      page.evaluate(async () => (await fetch('/config.js')).headers.get('x-transaction-id'));
    const [first, second] = [await echoed(), await echoed()];
    expect(first).toMatch(UUID);
    expect(second).toBe(first);
    await page.reload();
    expect(await echoed()).not.toBe(first);

    const one = await placeOrder(page);
    const two = await placeOrder(page);
    expect(two).not.toBe(one);
    expect(summary(await failedOrderEvents(one))).toEqual(ONE_FAILED_ORDER);
    expect(summary(await failedOrderEvents(two))).toEqual(ONE_FAILED_ORDER);
    await page.close();
  });

  it.each(['fetch', 'xhr'])(
    'cross-origin, %s: the page on one loopback origin calls the API on another through CORS',
    async (client) => {
      const page = await open(`${pageHost.origin}/api-allowed/?client=${client}`);
      expect(new URL(page.url()).origin).not.toBe(sample.gatewayUrl);
      const reference = await placeOrder(page);
      expect(summary(await failedOrderEvents(reference))).toEqual(ONE_FAILED_ORDER);
      // transactionIdCors() exposes the echoed header: the page can read it across origins.
      const echoed = await page.evaluate(
        async (api) => (await fetch(`${api}/config.js`)).headers.get('x-transaction-id'),
        sample.gatewayUrl,
      );
      expect(echoed).toBe(reference);
      await page.close();
    },
  );

  it('sends no ID to an API origin that is not in propagationTargets', async () => {
    const page = await open(`${pageHost.origin}/api-not-allowed/`);
    const reference = await placeOrder(page);
    // The page reported its error under its own ID, but the gateway never got it.
    await sentry.waitFor((events) =>
      events.some((event) => event.tags?.transaction_id === reference),
    );
    await sentry.waitFor(
      (events) =>
        events.filter(
          (event) => event.project === PROJECT.gateway && event.request?.url?.endsWith('/checkout'),
        ).length > 0,
    );
    expect(sentry.eventsFor(reference).map((event) => event.project)).not.toContain(
      PROJECT.gateway,
    );
    expect(sentry.eventsFor(reference).map((event) => event.project)).not.toContain(PROJECT.orders);
    await page.close();
  });

  it('never sends the ID to a third-party origin, by fetch or XHR', async () => {
    const callRecorder = (page: Page) =>
      page.evaluate(async (url) => {
        await fetch(`${url}/fetch`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: '{}',
        });
        await new Promise((resolve) => {
          const xhr = new XMLHttpRequest();
          xhr.open('POST', `${url}/xhr`);
          xhr.setRequestHeader('content-type', 'application/json');
          xhr.addEventListener('loadend', resolve);
          xhr.send('{}');
        });
      }, recorder.origin);
    const headersSeen = () =>
      recorder.requests.map((request) => ({
        method: request.method,
        id: request.headers['x-transaction-id'],
        asked: request.headers['access-control-request-headers'],
      }));

    const page = await open(`${sample.gatewayUrl}/`);
    await callRecorder(page);
    // Preflights for content-type, then the calls: none with the ID, none asking to send it.
    expect(headersSeen().filter((request) => request.method === 'POST')).toHaveLength(2);
    expect(headersSeen()).toEqual(
      headersSeen().map((request) => ({
        ...request,
        id: undefined,
        asked: request.asked && 'content-type',
      })),
    );
    await page.close();

    // The same calls from a page that lists the recorder: this time it gets the ID.
    recorder.requests.length = 0;
    const allowing = await open(`${pageHost.origin}/recorder-allowed/`);
    await callRecorder(allowing);
    const posts = headersSeen().filter((request) => request.method === 'POST');
    expect(posts).toHaveLength(2);
    expect(posts.map((request) => request.id)).toEqual([expect.stringMatching(UUID), posts[0].id]);
    await allowing.close();
  });

  it('reported each failure once, although the page rethrows it', async () => {
    expect(references.length).toBeGreaterThanOrEqual(6);
    for (const reference of references) {
      const fromPage = sentry
        .eventsFor(reference)
        .filter((event) => event.project === PROJECT.page);
      expect({ reference, events: fromPage.length }).toEqual({ reference, events: 1 });
    }
  });
});
