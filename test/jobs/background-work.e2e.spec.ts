import 'reflect-metadata';
import * as Sentry from '@sentry/node';
import { Controller, Get, Injectable, Module } from '@nestjs/common';
import { EventEmitter2, EventEmitterModule, OnEvent } from '@nestjs/event-emitter';
import { Interval, ScheduleModule, SchedulerRegistry } from '@nestjs/schedule';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TransactionContext, TransactionModule, WithTransaction } from 'nestjs-transaction-id';
import { SentryEnvelopeServer } from '../fixtures/sentry-envelope-server.js';
import { sentryTestOptions } from '../fixtures/sentry-options.js';
import { startApp, type RunningApp } from '../fixtures/nest-app.js';
import { summary } from '../fixtures/sentry-events.js';

// Background work with nothing but forRoot(): every scheduled run and every event handler is a
// unit of work of its own, with the real @nestjs/schedule and @nestjs/event-emitter, reporting
// to a local envelope endpoint through the real Sentry SDK (without @sentry/nestjs).
const TICKS = 6;

interface Run {
  readonly id: string | undefined;
  readonly tick: number;
}

@Injectable()
class Ticker {
  readonly runs: Run[] = [];
  private count = 0;

  constructor(
    private readonly transaction: TransactionContext,
    private readonly registry: SchedulerRegistry,
  ) {}

  @Interval('ticker', 20)
  async tick(): Promise<void> {
    const tick = ++this.count;
    if (tick >= TICKS) this.registry.deleteInterval('ticker');
    if (tick > TICKS) return;
    // A tag of this run only: it must reach no other run's or request's event.
    Sentry.setTag('tick', String(tick));
    await new Promise((resolve) => setTimeout(resolve, 5));
    this.runs.push({ id: this.transaction.id, tick });
    if (tick % 2 === 0) throw new Error(`tick ${tick} failed`);
  }
}

@Injectable()
class Listener {
  readonly seen: Array<{ event: string; id: string | undefined }> = [];

  constructor(private readonly transaction: TransactionContext) {}

  @OnEvent('order.placed')
  placed(): void {
    this.seen.push({ event: 'placed', id: this.transaction.id });
  }

  @OnEvent('order.placed', { async: true })
  async placedLater(): Promise<void> {
    await new Promise((resolve) => setImmediate(resolve));
    this.seen.push({ event: 'placed-async', id: this.transaction.id });
  }

  @OnEvent('order.failed')
  failed(): never {
    throw new Error(`listener failed in ${this.transaction.id}`);
  }

  @OnEvent('app.started')
  started(): void {
    this.seen.push({ event: 'started', id: this.transaction.id });
  }
}

/** A consumer of a queue library the module does not know. */
@Injectable()
class Consumer {
  readonly handled: Array<string | undefined> = [];

  constructor(private readonly transaction: TransactionContext) {}

  @WithTransaction({ id: (message: { headers: Record<string, string> }) => message.headers.tid })
  async handle(_message: { headers: Record<string, string> }): Promise<void> {
    await new Promise((resolve) => setImmediate(resolve));
    this.handled.push(this.transaction.id);
  }
}

@Controller()
class OrdersController {
  constructor(
    private readonly events: EventEmitter2,
    private readonly transaction: TransactionContext,
  ) {}

  @Get('place')
  place() {
    this.events.emit('order.placed', {});
    return { id: this.transaction.id };
  }

  @Get('fail-listener')
  failListener() {
    this.events.emit('order.failed', {});
    return { id: this.transaction.id };
  }

  @Get('report')
  report() {
    Sentry.captureMessage('request event');
    return { id: this.transaction.id };
  }
}

@Module({
  imports: [
    // Before TransactionModule on purpose: the order of modules must not matter.
    ScheduleModule.forRoot(),
    EventEmitterModule.forRoot(),
    TransactionModule.forRoot(),
  ],
  controllers: [OrdersController],
  providers: [Ticker, Listener, Consumer],
})
class AppModule {}

let sentry: SentryEnvelopeServer;
let running: RunningApp;

beforeAll(async () => {
  sentry = await SentryEnvelopeServer.start();
  Sentry.init(sentryTestOptions({ dsn: sentry.dsn(1) }));
  running = await startApp('express', AppModule);
  running.app.get(EventEmitter2).emit('app.started', {});
});

afterAll(async () => {
  await running?.close();
  await Sentry.close(2_000);
  await sentry?.close();
});

const get = async (path: string, id: string) =>
  (await fetch(`${running.url}${path}`, { headers: { 'x-transaction-id': id } }).then((r) =>
    r.json(),
  )) as { id: string };

describe('scheduled runs', () => {
  it('each run gets an ID of its own, and each failure is reported once with its tag', async () => {
    const ticker = running.app.get(Ticker);
    await sentry.waitFor(
      () =>
        ticker.runs.length === TICKS && sentry.events.filter(isTickFailure).length === TICKS / 2,
    );
    const ids = ticker.runs.map((run) => run.id);
    expect(ids.every((id) => typeof id === 'string')).toBe(true);
    expect(new Set(ids).size).toBe(TICKS);

    const failures = sentry.events.filter(isTickFailure);
    for (const event of failures) {
      const tick = Number(/tick (\d+)/.exec(summary(event) ?? '')![1]);
      const run = ticker.runs.find((r) => r.tick === tick)!;
      // Its own ID, and its own `tick` tag: no other run's.
      expect(event.tags).toMatchObject({ transaction_id: run.id, tick: String(tick) });
    }
    expect(failures.map(summary).toSorted()).toEqual([
      'tick 2 failed',
      'tick 4 failed',
      'tick 6 failed',
    ]);
  });

  it("a run's tags never reach a later request's events", async () => {
    const id = 'request-after-ticks';
    await get('/report', id);
    await sentry.waitFor(() => sentry.eventsFor(id).length === 1);
    expect(sentry.eventsFor(id)[0]!.tags?.tick).toBeUndefined();
  });
});

describe('event handlers', () => {
  it('run under the ID of the request that emitted the event, sync and async', async () => {
    const listener = running.app.get(Listener);
    const id = 'emitted-in-request';
    await get('/place', id);
    await expect.poll(() => listener.seen.filter((s) => s.id === id).length).toBe(2);
    expect(
      listener.seen
        .filter((s) => s.id === id)
        .map((s) => s.event)
        .toSorted(),
    ).toEqual(['placed', 'placed-async']);
  });

  it('get a fresh ID when emitted outside any unit of work', () => {
    const started = running.app.get(Listener).seen.filter((s) => s.event === 'started');
    expect(started).toHaveLength(1);
    expect(started[0]!.id).toEqual(expect.any(String));
  });

  it("report a handler's failure once, with the emitter's ID", async () => {
    const id = 'listener-failure';
    await get('/fail-listener', id);
    await sentry.waitFor(() => sentry.eventsFor(id).length > 0);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(sentry.eventsFor(id).map(summary)).toEqual([`listener failed in ${id}`]);
  });
});

describe('TransactionContext.run() and @WithTransaction()', () => {
  it("an error that escapes run() and is captured by its caller keeps the run's ID", async () => {
    const context = running.app.get(TransactionContext);
    let runId: string | undefined;
    const error = await context
      .run(undefined, async () => {
        runId = context.id;
        await new Promise((resolve) => setImmediate(resolve));
        throw new Error('escaped the run');
      })
      .catch((e: unknown) => e);
    // Captured outside any unit of work.
    expect(context.id).toBeUndefined();
    Sentry.captureException(error);
    await sentry.waitFor(() => sentry.events.some((e) => summary(e) === 'escaped the run'));
    const event = sentry.events.find((e) => summary(e) === 'escaped the run')!;
    expect(event.tags?.transaction_id).toBe(runId);
  });

  it('a decorated consumer runs under the ID its message carried, or a fresh one', async () => {
    const consumer = running.app.get(Consumer);
    await Promise.all([
      consumer.handle({ headers: { tid: 'from-the-message' } }),
      consumer.handle({ headers: {} }),
      consumer.handle({ headers: { tid: 'bad id\r\n' } }),
    ]);
    expect(consumer.handled[0]).toBe('from-the-message');
    // No ID, or an invalid one: a fresh ID each, never the bad value.
    expect(consumer.handled.slice(1)).toEqual([expect.any(String), expect.any(String)]);
    expect(consumer.handled).not.toContain('bad id\r\n');
    expect(new Set(consumer.handled).size).toBe(3);
  });
});

function isTickFailure(event: { exception?: unknown; message?: string }): boolean {
  return /^tick \d+ failed$/.test(summary(event as never) ?? '');
}
