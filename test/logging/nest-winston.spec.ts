import 'reflect-metadata';
import { Writable } from 'node:stream';
import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { WinstonModule } from 'nest-winston';
import { afterEach, describe, expect, it } from 'vitest';
import { format, transports } from 'winston';
import { transactionIdMeta } from '../../lib/index.js';
import { ADAPTERS } from '../fixtures/nest-app.js';
import { loggingModule } from './support/logging-app.js';
import { expectEachLineTagged, isRequestLine, sendRequests } from './support/log-scenario.js';

// nest-winston, set up as the README says (the one line: `defaultMeta: transactionIdMeta(…)`), in an
// application without Sentry: the IDs live in the library's own AsyncLocalStorage here.
let app: INestApplication | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

type WinstonRecord = {
  message?: string;
  transaction_id?: string;
  context?: string;
  service?: string;
};

describe.each(ADAPTERS)('nest-winston on %s', (adapter) => {
  it('puts transaction_id on every line a request logs, and on none outside', async () => {
    const records: WinstonRecord[] = [];
    const stream = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        records.push(JSON.parse(chunk.toString('utf8')) as WinstonRecord);
        callback();
      },
    });
    const logger = WinstonModule.createLogger({
      defaultMeta: transactionIdMeta({ service: 'orders' }),
      format: format.json(),
      transports: [new transports.Stream({ stream })],
    });
    app =
      adapter === 'fastify'
        ? await NestFactory.create(loggingModule(), new FastifyAdapter(), { logger })
        : await NestFactory.create(loggingModule(), { logger });
    await app.listen(0, '127.0.0.1');

    const requests = await sendRequests(app);
    await app.close();

    const lines = records.map((record) => ({
      message: record.message ?? '',
      transactionId: record.transaction_id,
    }));
    expectEachLineTagged(lines, requests);
    const others = lines.filter((line) => !isRequestLine(line));
    expect(others.map((line) => line.message)).toContain('Nest application successfully started');
    // Not even a `transaction_id: undefined` key outside a unit of work.
    const outside = records.filter(
      (record) => !isRequestLine({ message: record.message ?? '', transactionId: undefined }),
    );
    expect(outside.filter((record) => 'transaction_id' in record)).toEqual([]);
    // The application's own default fields, on every line.
    expect(records.filter((record) => record.service !== 'orders')).toEqual([]);
  });
});
