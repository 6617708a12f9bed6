import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SentryEnvelopeServer } from '../fixtures/sentry-envelope-server.js';
import { summary } from '../fixtures/sentry-events.js';
import { JOBS_SERVICE, spawnService, type SpawnedService } from '../fixtures/spawn-service.js';

// With @sentry/nestjs (set up as its docs say: Sentry.init from @sentry/nestjs, Node started with
// --import @sentry/node/import), Sentry wraps @Interval() and @OnEvent() methods itself: it
// forks their isolation scope and reports their errors. The module adds the ID; it forks no
// second scope and reports nothing twice.
let sentry: SentryEnvelopeServer;
let service: SpawnedService;

beforeAll(async () => {
  sentry = await SentryEnvelopeServer.start();
  service = await spawnService(JOBS_SERVICE, { SENTRY_DSN: sentry.dsn(1) }, 30_000, [
    '--import',
    '@sentry/node/import',
  ]);
});

afterAll(async () => {
  await service?.stop();
  await sentry?.close();
});

const mechanism = (event: { exception?: { values?: Array<{ mechanism?: { type?: string } }> } }) =>
  event.exception?.values?.at(-1)?.mechanism?.type;

describe('background work under @sentry/nestjs', () => {
  it("reports each scheduled run's failure once, as Sentry's, tagged with the run's own ID", async () => {
    await sentry.waitFor(
      (events) => events.filter((e) => /^tick \d failed$/.test(summary(e) ?? '')).length === 4,
    );
    await new Promise((resolve) => setTimeout(resolve, 300));
    const runs = (await (await fetch(`${service.url}/runs`)).json()) as Array<{
      tick: number;
      id: string;
    }>;
    const failures = sentry.events.filter((e) => /^tick \d failed$/.test(summary(e) ?? ''));
    expect(failures).toHaveLength(4);
    expect(new Set(runs.map((run) => run.id)).size).toBe(4);
    for (const event of failures) {
      const tick = Number(/^tick (\d)/.exec(summary(event)!)![1]);
      expect(event.tags).toMatchObject({
        transaction_id: runs.find((run) => run.tick === tick)!.id,
        tick: String(tick),
      });
      expect(mechanism(event)).toBe('auto.function.nestjs.interval');
    }
  });

  it("reports an event handler's failure once, as Sentry's, with the emitting request's ID", async () => {
    const id = 'sentry-nestjs-emitter';
    await fetch(`${service.url}/fail-event`, { headers: { 'x-transaction-id': id } });
    await sentry.waitFor(() => sentry.eventsFor(id).length > 0);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const events = sentry.eventsFor(id);
    expect(events.map(summary)).toEqual([`listener failed in ${id}`]);
    expect(mechanism(events[0]!)).toBe('auto.event.nestjs');
  });
});
