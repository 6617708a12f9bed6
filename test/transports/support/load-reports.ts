import { expect } from 'vitest';
import type { SentryEnvelopeServer } from '../../fixtures/sentry-envelope-server.js';

/**
 * Waits for the Sentry events of a load whose IDs start with `prefix`, then asserts what the load
 * tests promise: each failing message (or job) reported exactly once, tagged with its own ID, with
 * the `marker` tag its handler set (so no handler's scope reached another message's event) and
 * the message `failure(id)`; nothing reported for the others. Events of earlier tests may still
 * arrive: only the load's, and any untagged one, count.
 */
export async function expectEachFailureReportedOnce(
  sentry: SentryEnvelopeServer,
  prefix: string,
  failing: readonly string[],
  failure: (id: string) => string,
): Promise<void> {
  const ofLoad = (events: Array<{ tags?: Record<string, unknown> }>) =>
    events.filter((event) => String(event.tags?.transaction_id).startsWith(prefix));
  await sentry.waitFor((events) => ofLoad(events).length >= failing.length);
  await new Promise((resolve) => setTimeout(resolve, 300));
  const reported = sentry.events
    .filter((event) => event.tags?.transaction_id?.startsWith(prefix) ?? true)
    .map((event) => ({
      tag: event.tags?.transaction_id,
      marker: event.tags?.marker,
      message: event.exception?.values?.[0]?.value,
    }));
  expect(reported).toHaveLength(failing.length);
  expect(new Set(reported.map(({ tag }) => tag))).toEqual(new Set(failing));
  for (const { tag, marker, message } of reported) {
    expect(marker).toBe(tag);
    expect(message).toBe(failure(tag!));
  }
}
