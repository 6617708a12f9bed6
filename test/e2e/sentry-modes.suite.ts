import { randomUUID } from 'node:crypto';
import * as Sentry from '@sentry/node';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { TRANSACTION_ID_HEADER } from '../../lib/index.js';
import { type HeaderEchoServer, startHeaderEcho } from '../fixtures/header-echo-server.js';
import { type HttpResult, UUID, call } from '../fixtures/http-client.js';
import { type WorkResult, isolationModule } from '../fixtures/isolation-app.js';
import { ADAPTERS, type RunningApp, startApp } from '../fixtures/nest-app.js';
import { headerValues, rawGet } from '../fixtures/raw-http.js';
import type { SentryEnvelopeServer } from '../fixtures/sentry-envelope-server.js';
import { pathsMentioning } from '../fixtures/sentry-events.js';

/** How the test process set Sentry up. */
export interface SentryMode {
  /** The endpoint the DSN points at, when there is a DSN. */
  sentry?: SentryEnvelopeServer;
  /** Whether events are expected to reach `sentry`. */
  sendsEvents: boolean;
}

/** How many requests overlap in each test. */
const BATCH_SIZE = 20;

/**
 * Tests that requests stay apart whatever the Sentry set-up: the transaction ID of each of a
 * batch of overlapping requests, and, where events are sent, their tags and user.
 */
export function isolationSuite(mode: SentryMode): void {
  describe.each(ADAPTERS)('on %s', (adapter) => {
    let echo: HeaderEchoServer;
    let app: RunningApp;

    beforeAll(async () => {
      echo = await startHeaderEcho();
      app = await startApp(adapter, isolationModule(echo.url));
    });
    afterAll(async () => {
      await app?.close();
      await echo?.close();
    });

    beforeEach(async () => {
      await Sentry.flush(5_000);
      mode.sentry?.clear();
    });

    /** Sends a batch of overlapping requests; request `n` carries `ids[n]` unless it is undefined. */
    function sendBatch(
      ids: ReadonlyArray<string | undefined>,
      failing: (n: number) => boolean = () => false,
    ): Promise<Array<HttpResult<WorkResult>>> {
      const batch = randomUUID();
      return Promise.all(
        ids.map((id, n) =>
          call<WorkResult>(
            `${app.url}/work/${n}?batch=${batch}&size=${ids.length}&fail=${failing(n)}`,
            { headers: id === undefined ? {} : { [TRANSACTION_ID_HEADER]: id } },
          ),
        ),
      );
    }

    it('gives each overlapping request its own ID: handler, context, response, outgoing call', async () => {
      const batch = `overlap-${randomUUID().slice(0, 8)}`;
      // Every other request comes without an ID and gets a fresh one.
      const ids = Array.from({ length: BATCH_SIZE }, (_, n) =>
        n % 2 ? undefined : `${batch}-${n}`,
      );

      const responses = await sendBatch(ids);

      const seen = responses.map((response, n) => {
        const id = response.headers.get(TRANSACTION_ID_HEADER);
        expect(response.status).toBe(200);
        expect(id).toMatch(ids[n] === undefined ? UUID : new RegExp(`^${ids[n]}$`));
        expect(response.body).toEqual({
          n,
          decorator: id,
          before: id,
          after: id,
          forked: id,
          nested: `nested-${n}`,
          afterNested: id,
          outgoing: id,
        });
        return id;
      });
      expect(new Set(seen).size).toBe(BATCH_SIZE);
    });

    it('keeps the ID and the Sentry data of overlapping failing requests apart', async () => {
      const batch = `failing-${randomUUID().slice(0, 8)}`;
      const ids = Array.from({ length: BATCH_SIZE }, (_, n) => `${batch}-${n}`);
      const failing = (n: number) => n % 2 === 1;

      const responses = await sendBatch(ids, failing);

      responses.forEach((response, n) => {
        expect(response.status).toBe(failing(n) ? 500 : 200);
        expect(response.headers.get(TRANSACTION_ID_HEADER)).toBe(ids[n]);
      });
      await Sentry.flush(5_000);
      if (mode.sentry === undefined) return;
      const expected = mode.sendsEvents
        ? ids
            .map((id, n) => ({
              message: `work ${n} failed`,
              tag: id,
              order: String(n),
              user: `user-${n}`,
            }))
            .filter((_, n) => failing(n))
        : [];
      const received = mode.sentry.events
        .map((event) => ({
          message: event.exception?.values?.at(-1)?.value,
          tag: event.tags?.transaction_id,
          order: event.tags?.order,
          user: (event.user as { id?: string } | undefined)?.id,
        }))
        .toSorted((a, b) => Number(a.order) - Number(b.order));
      expect(received).toEqual(expected);
    });

    it.runIf(mode.sendsEvents)('repeats an invalid incoming ID in no event', async () => {
      const response = await rawGet(app.port, `/work/0?batch=${randomUUID()}&size=1&fail=true`, [
        `${TRANSACTION_ID_HEADER}: spaced out id`,
      ]);

      expect(response.status).toBe(500);
      const [id] = headerValues(response, TRANSACTION_ID_HEADER);
      expect(id).toMatch(UUID);
      await Sentry.flush(5_000);
      const events = mode.sentry!.eventsFor(id);
      expect(events).toHaveLength(1);
      expect(pathsMentioning(events, 'spaced out id')).toEqual([]);
    });

    it.runIf(mode.sendsEvents)('leaves events captured outside any request untagged', async () => {
      await sendBatch(Array.from({ length: BATCH_SIZE }, (_, n) => `before-outside-${n}`));

      Sentry.captureMessage('outside any request');
      await Sentry.flush(5_000);
      const outside = mode.sentry!.events.filter(
        (event) => event.message === 'outside any request',
      );
      expect(outside).toHaveLength(1);
      expect(outside[0].tags?.transaction_id).toBeUndefined();
      expect(outside[0].tags?.order).toBeUndefined();
      expect(outside[0].user).toBeUndefined();
    });
  });
}
