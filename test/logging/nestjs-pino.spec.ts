import 'reflect-metadata';
import * as Sentry from '@sentry/node';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { SentryEnvelopeServer } from '../fixtures/sentry-envelope-server.js';
import { sentryTestOptions } from '../fixtures/sentry-options.js';

// nestjs-pino, set up as the README says (the one line: `mixin: transactionIdMixin`), in an
// application with Sentry initialised first: the IDs ride on Sentry's isolation scopes here.
const sentry = await SentryEnvelopeServer.start();
Sentry.init(sentryTestOptions({ dsn: sentry.dsn(1) }));

const { NestFactory } = await import('@nestjs/core');
const { FastifyAdapter } = await import('@nestjs/platform-fastify');
const { Logger, LoggerModule } = await import('nestjs-pino');
const { transactionIdMixin } = await import('../../lib/index.js');
const { ADAPTERS } = await import('../fixtures/nest-app.js');
const { loggingModule } = await import('./support/logging-app.js');
const { expectEachLineTagged, isRequestLine, sendRequests } =
  await import('./support/log-scenario.js');

type PinoRecord = { msg?: string; transaction_id?: string; req?: { url?: string } };

// One destination for the whole file: nestjs-pino keeps the logger of lines logged outside a
// request's middleware in a static, the first application's, for the life of the process.
const records: PinoRecord[] = [];
const destination = { write: (line: string) => void records.push(JSON.parse(line) as PinoRecord) };

let close: (() => Promise<void>) | undefined;
afterEach(async () => {
  await close?.();
  close = undefined;
});
afterAll(async () => {
  await Sentry.close(2_000);
  await sentry.close();
});

it('runs with Sentry holding the IDs on its isolation scopes', () => {
  expect(Sentry.getClient()?.getIntegrationByName('Http')).toBeDefined();
});

describe.each(ADAPTERS)('nestjs-pino on %s', (adapter) => {
  it('puts transaction_id on every line a request logs, and on none outside', async () => {
    records.length = 0;
    const module = loggingModule([
      LoggerModule.forRoot({ pinoHttp: [{ mixin: transactionIdMixin }, destination] }),
    ]);
    const options = { bufferLogs: true };
    const app =
      adapter === 'fastify'
        ? await NestFactory.create(module, new FastifyAdapter(), options)
        : await NestFactory.create(module, options);
    close = () => app.close();
    app.useLogger(app.get(Logger));
    await app.listen(0, '127.0.0.1');

    const requests = await sendRequests(app);
    await app.close();

    const lines = records.map((record) => ({
      message: record.msg ?? '',
      transactionId: record.transaction_id,
    }));
    expectEachLineTagged(lines, requests);
    // pino-http's own line for each request carries it too (nestjs-pino's middleware, which
    // logs it, does not run on Fastify here).
    for (const request of adapter === 'express' ? requests : []) {
      const completed = records.filter(
        (record) => record.msg === 'request completed' && record.req?.url?.startsWith(request.path),
      );
      expect(completed.map((record) => record.transaction_id)).toEqual([request.id]);
    }
    const others = lines.filter(
      (line) => !isRequestLine(line) && line.message !== 'request completed',
    );
    expect(others.map((line) => line.message)).toContain('Nest application successfully started');
    expect(others.filter((line) => line.transactionId !== undefined)).toEqual([]);
  });
});
