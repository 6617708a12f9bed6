import { randomUUID } from 'node:crypto';
import * as Sentry from '@sentry/node';
import {
  type ClientOptions,
  type MicroserviceOptions,
  ClientProxyFactory,
} from '@nestjs/microservices';
import { firstValueFrom } from 'rxjs';
import type { TransactionModuleOptions } from 'nestjs-transaction-id';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SentryEnvelopeServer, type SentryEvent } from '../fixtures/sentry-envelope-server.js';
import { sentryTestOptions } from '../fixtures/sentry-options.js';
import {
  type Gateway,
  type Receiver,
  patternOf,
  startGateway,
  startReceiver,
  until,
  viaGateway,
} from '../fixtures/transport-apps.js';
import { RecordingLogger } from '../hardening/support/recording-logger.js';

/** One transport under test, over its real broker. */
export interface TransportUnderTest {
  readonly name: string;
  /** Server options of one application (`app` names its queue or port). */
  server(app: string): MicroserviceOptions;
  /** Client options that reach the server of `app`. */
  client(app: string): ClientOptions;
  /** The receiver is a hybrid application (HTTP + microservice) rather than a standalone one. */
  readonly hybrid?: boolean;
  /** The gateway's client is registered with `ClientsModule.registerAsync()`. */
  readonly async?: boolean;
  /** Options of the gateways' `forRoot()`. */
  readonly gatewayOptions?: TransactionModuleOptions;
  /**
   * Emits event `data` to `pattern` of the server of `app` with a plain client of the transport's
   * own library, the header set by hand (`[name, value]` pairs; a name may repeat).
   */
  sendRaw(app: string, pattern: string, data: unknown, headers: [string, string][]): Promise<void>;
  /** Hostile values the transport's own client delivers (others it refuses to send at all). */
  readonly hostile: readonly string[];
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** The end-to-end suite every transport runs: sender, receivers, Sentry, concurrency, policy. */
export function describeTransport(transport: TransportUnderTest): void {
  const base = `${transport.name.toLowerCase()}-${randomUUID().slice(0, 8)}`;
  let sentry: SentryEnvelopeServer;
  let receiver: Receiver;
  let plain: Receiver;
  let strict: Receiver;
  let strictLog: RecordingLogger;
  let gateway: Gateway;
  let plainGateway: Gateway;

  beforeAll(async () => {
    sentry = await SentryEnvelopeServer.start();
    Sentry.init(sentryTestOptions({ dsn: sentry.dsn(1) }));
    receiver = await startReceiver(transport.server('receiver'), { hybrid: transport.hybrid });
    plain = await startReceiver(transport.server('plain'), { options: false });
    gateway = await startGateway(transport.client('receiver'), receiver.prefix, {
      async: transport.async,
      options: transport.gatewayOptions,
    });
    plainGateway = await startGateway(transport.client('plain'), plain.prefix, {
      options: transport.gatewayOptions,
    });
    // Last: a receiver's logger becomes the process's.
    strictLog = new RecordingLogger();
    strict = await startReceiver(transport.server('strict'), {
      options: { require: true, invalid: 'reject' },
      logger: strictLog,
    });
  });

  afterAll(async () => {
    for (const app of [gateway, plainGateway, receiver, plain, strict]) await app?.close();
    await Sentry.close(2_000);
    await sentry?.close();
  });

  const messagesOf = (events: SentryEvent[]) =>
    events.map((event) => event.exception?.values?.[0]?.value);

  /** Lets late, duplicate events arrive before they are counted. */
  const settle = () => Sentry.flush(2_000);

  describe(`${transport.name}: inbound and outbound with forRoot() alone`, () => {
    it("the handler sees the gateway's ID, also after awaits", async () => {
      const id = `${base}-whoami`;
      const { response } = await viaGateway(gateway, 'send/whoami', id);
      expect(response).toEqual({ id, later: id });
    });

    it("an event handler sees the emitter's ID", async () => {
      const id = `${base}-event`;
      await viaGateway(gateway, 'emit/record', id, { key: id });
      await until(() => receiver.seen.has(id), 'the event');
      expect(receiver.seen.get(id)?.id).toBe(id);
    });

    it("a handler's failure is reported once, tagged with the sender's ID", async () => {
      const id = `${base}-fail`;
      const { error } = await viaGateway(gateway, 'send/work', id, { n: 1, fail: true });
      expect(error).toBeDefined();
      await sentry.waitFor(() => sentry.eventsFor(id).length > 0);
      await settle();
      expect(messagesOf(sentry.eventsFor(id))).toEqual(['work 1 failed']);
    });

    it("a guard's failure is reported once, tagged", async () => {
      const id = `${base}-guard`;
      const { error } = await viaGateway(gateway, 'send/guarded', id);
      expect(error).toBeDefined();
      await sentry.waitFor(() => sentry.eventsFor(id).length > 0);
      await settle();
      expect(messagesOf(sentry.eventsFor(id))).toEqual(['guard failed']);
    });

    it('pipe and interceptor failures are reported once, tagged', async () => {
      const cases = { piped: 'pipe failed', intercepted: 'interceptor failed' } as const;
      for (const [name, message] of Object.entries(cases)) {
        const id = `${base}-${name}`;
        const { error } = await viaGateway(gateway, `send/${name}`, id);
        expect(error).toBeDefined();
        await sentry.waitFor(() => sentry.eventsFor(id).length > 0);
        await settle();
        expect(messagesOf(sentry.eventsFor(id))).toEqual([message]);
      }
    });

    it("what an application's RPC exception filter captures is tagged; what it handles is its own", async () => {
      const id = `${base}-filtered`;
      const { error } = await viaGateway(gateway, 'send/filtered', id);
      expect(error).toMatchObject({ message: 'handler failed behind a filter' });
      await sentry.waitFor(() => sentry.eventsFor(id).length > 0);
      await settle();
      // As over HTTP: a filter bound to the handler handles the error before the library sees it.
      expect(sentry.eventsFor(id).map((e) => e.message)).toEqual([
        'filter caught: handler failed behind a filter',
      ]);
    });

    it('an RpcException is an answer: the sender gets it, Sentry does not', async () => {
      const id = `${base}-answer`;
      const { error } = await viaGateway(gateway, 'send/answer', id);
      expect(error).toEqual({ status: 'error', message: 'no such order' });
      await settle();
      expect(sentry.eventsFor(id)).toEqual([]);
    });

    it('200 concurrent messages, half failing: none lost, duplicated or crossed', async () => {
      const idOf = (n: number) => `${base}-c${n}`;
      const results = await Promise.all(
        Array.from({ length: 200 }, (_, n) =>
          viaGateway(gateway, 'send/work', idOf(n), { n, fail: n % 2 === 1 }),
        ),
      );
      results.forEach((result, n) => {
        if (n % 2 === 1) expect(result.error, `message ${n}`).toBeDefined();
        else expect(result.response, `message ${n}`).toEqual({ id: idOf(n) });
      });
      const mine = () =>
        sentry.events.filter((e) => e.tags?.transaction_id?.startsWith(`${base}-c`));
      await sentry.waitFor(() => mine().length >= 100);
      await settle();
      const events = mine();
      expect(events).toHaveLength(100);
      const perId = new Map<string, number>();
      for (const event of events) {
        const n = Number(event.tags?.n);
        const id = event.tags?.transaction_id as string;
        perId.set(id, (perId.get(id) ?? 0) + 1);
        // Tags, user and breadcrumbs all of the message itself, none of another.
        expect(id).toBe(idOf(n));
        expect(n % 2).toBe(1);
        expect(event.user).toMatchObject({ id: `user-${n}` });
        const crumbs = (event.breadcrumbs as { message?: string }[] | undefined) ?? [];
        expect(crumbs.filter((c) => c.message?.startsWith('work ')).map((c) => c.message)).toEqual([
          `work ${n}`,
        ]);
        expect(messagesOf([event])).toEqual([`work ${n} failed`]);
      }
      expect(perId.size).toBe(100);
      expect([...perId.values()].every((count) => count === 1)).toBe(true);
      // Each message a trace of its own, as each HTTP request is.
      const traces = new Set(
        events.map(
          (event) => (event.contexts as { trace?: { trace_id?: string } }).trace?.trace_id,
        ),
      );
      expect(traces.size).toBe(100);
    });

    it('a receiver without the library gets exactly the payload the sender passed', async () => {
      const payload = { order: 42, items: ['a', 'b'], nested: { ok: true } };
      const { response } = await viaGateway(plainGateway, 'send/echo', `${base}-plain`, payload);
      expect(response).toEqual(payload);
      const key = `${base}-plain-event`;
      await viaGateway(plainGateway, 'emit/record', key, { key, extra: 1 });
      await until(() => plain.seen.has(key), 'the plain event');
      expect(plain.seen.get(key)?.data).toEqual({ key, extra: 1 });
    });
  });

  describe(`${transport.name}: a plain client of the transport's own library`, () => {
    const send = (key: string, headers: [string, string][], extra: object = {}) =>
      transport.sendRaw(
        'receiver',
        patternOf(receiver.prefix, 'record'),
        { key, ...extra },
        headers,
      );

    it('the header set by hand is read, whatever the case of its name', async () => {
      const id = `${base}-raw`;
      await send(id, [['X-Transaction-ID', id]]);
      await until(() => receiver.seen.has(id), 'the raw event');
      expect(receiver.seen.get(id)?.id).toBe(id);
    });

    it('a message without the ID gets a fresh one', async () => {
      const key = `${base}-none`;
      await send(key, []);
      await until(() => receiver.seen.has(key), 'the raw event');
      expect(receiver.seen.get(key)?.id).toMatch(UUID);
    });

    it('hostile and repeated values are replaced, never seen by the handler nor Sentry', async () => {
      const cases: [string, [string, string][]][] = [
        ...transport.hostile.map((value, i): [string, [string, string][]] => [
          `${base}-hostile-${i}`,
          [['x-transaction-id', value]],
        ]),
        [
          `${base}-repeated`,
          [
            ['x-transaction-id', `${base}-a`],
            ['X-Transaction-Id', `${base}-b`],
          ],
        ],
      ];
      for (const [key, headers] of cases) await send(key, headers, { fail: true });
      await until(() => cases.every(([key]) => receiver.seen.has(key)), 'the hostile events');
      await sentry.waitFor(() =>
        cases.every(([key]) =>
          sentry.events.some((e) => messagesOf([e])[0] === `record ${key} failed`),
        ),
      );
      for (const [key, headers] of cases) {
        const seen = receiver.seen.get(key)?.id;
        expect(seen, key).toMatch(UUID);
        const events = sentry.events.filter((e) => messagesOf([e])[0] === `record ${key} failed`);
        expect(events, key).toHaveLength(1);
        expect(events[0].tags?.transaction_id).toBe(seen);
        for (const [, value] of headers) expect(JSON.stringify(events[0])).not.toContain(value);
      }
    });
  });

  describe(`${transport.name}: require / invalid: 'reject'`, () => {
    it('a request without an ID is answered with a clear error; its handler never runs', async () => {
      const client = ClientProxyFactory.create(transport.client('strict') as never);
      try {
        const error = await firstValueFrom(
          client.send(patternOf(strict.prefix, 'whoami'), {}),
        ).then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(error).toMatchObject({
          status: 'error',
          message: expect.stringContaining('Refused: the message came with no x-transaction-id'),
        });
      } finally {
        await client.close();
      }
    });

    it('events without an ID or with an invalid one are dropped, one warning line each', async () => {
      const dropped = () => strictLog.at('warn').filter((line) => line.includes('Event dropped'));
      const missing = `${base}-strict-missing`;
      const invalid = `${base}-strict-invalid`;
      const record = patternOf(strict.prefix, 'record');
      await transport.sendRaw('strict', record, { key: missing }, []);
      await transport.sendRaw('strict', record, { key: invalid }, [
        ['x-transaction-id', 'no good'],
      ]);
      await until(() => dropped().length >= 2, 'the warnings');
      expect(dropped()).toHaveLength(2);
      expect(dropped()).toEqual(
        expect.arrayContaining([
          expect.stringContaining('came with no x-transaction-id'),
          expect.stringContaining('came with an invalid x-transaction-id'),
        ]),
      );
      expect(strict.seen.has(missing) || strict.seen.has(invalid)).toBe(false);
      // A valid ID passes.
      const id = `${base}-strict-ok`;
      await transport.sendRaw('strict', patternOf(strict.prefix, 'record'), { key: id }, [
        ['x-transaction-id', id],
      ]);
      await until(() => strict.seen.has(id), 'the valid event');
      expect(strict.seen.get(id)?.id).toBe(id);
    });
  });
}
