import { describe, expect, it } from 'vitest';
import type { SentryEnvelopeServer } from '../../fixtures/sentry-envelope-server.js';
import { summary } from '../../fixtures/sentry-events.js';

const HEADER = 'x-transaction-id';

/** A GraphQL request over HTTP with the ID `id`: the echoed header and the body. */
export async function graphql(url: string, query: string, id: string) {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', [HEADER]: id },
    body: JSON.stringify({ query }),
  });
  return {
    echoed: response.headers.get(HEADER),
    body: (await response.json()) as { data?: Record<string, { n: number; id: string }> },
  };
}

/**
 * What queries and mutations promise on every GraphQL driver: they are HTTP requests, so one ID
 * for every resolver of a request, echoed, and a failure reported once with it. `running()`
 * gives the endpoint and the envelope server once the suite's application runs.
 */
export function queriesAndMutationsSuite(
  driver: string,
  prefix: string,
  running: () => { url: string; sentry: SentryEnvelopeServer },
): void {
  describe(`${driver}: queries and mutations`, () => {
    it('100 concurrent queries: every resolver sees its own request ID, echoed', async () => {
      const { url } = running();
      const results = await Promise.all(
        Array.from({ length: 100 }, (_, n) =>
          graphql(
            url,
            `{ a: order(n: ${n}) { n id } b: order(n: ${n + 1000}) { n id } }`,
            `${prefix}-${n}`,
          ),
        ),
      );
      results.forEach(({ echoed, body }, n) => {
        expect(echoed).toBe(`${prefix}-${n}`);
        expect(body.data).toEqual({
          a: { n, id: `${prefix}-${n}` },
          b: { n: n + 1000, id: `${prefix}-${n}` },
        });
      });
    });

    it('a mutation runs under its request ID', async () => {
      const { body } = await graphql(
        running().url,
        'mutation { place(n: 5) { n id } }',
        `${prefix}-mutation`,
      );
      expect(body.data).toEqual({ place: { n: 5, id: `${prefix}-mutation` } });
    });

    it('a failing resolver is reported once, with the request ID', async () => {
      const { url, sentry } = running();
      const id = `${prefix}-failing`;
      sentry.clear();
      await graphql(url, '{ order(n: -1) { n } }', id);
      await sentry.waitFor(() => sentry.eventsFor(id).length > 0);
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(sentry.eventsFor(id).map(summary)).toEqual([`order -1 failed in ${id}`]);
    });
  });
}
