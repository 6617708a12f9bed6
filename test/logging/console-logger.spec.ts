import 'reflect-metadata';
import { type ConsoleLogger, type INestApplication, Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { TransactionConsoleLogger, TransactionContext } from '../../lib/index.js';
import { ADAPTERS, type Adapter } from '../fixtures/nest-app.js';
import { loggingModule } from './support/logging-app.js';
import { type CapturedOutput, captureOutput } from './support/capture-output.js';
import {
  expectEachLineTagged,
  isRequestLine,
  type LogLine,
  sendRequests,
} from './support/log-scenario.js';

// Nest's ConsoleLogger, installed as the README says (`bufferLogs` + `useLogger`), with what it
// writes to stdout and stderr captured: `new Logger(Context)` in guards, handlers and filters.
let app: INestApplication | undefined;
let output: CapturedOutput | undefined;
afterEach(async () => {
  await app?.close();
  output?.restore();
  app = output = undefined;
});

async function start(adapter: Adapter, logger: ConsoleLogger): Promise<INestApplication> {
  output = captureOutput();
  const options = { bufferLogs: true };
  app =
    adapter === 'fastify'
      ? await NestFactory.create(loggingModule(), new FastifyAdapter(), options)
      : await NestFactory.create(loggingModule(), options);
  app.useLogger(logger);
  await app.listen(0, '127.0.0.1');
  return app;
}

const ID_IN_TEXT = /transaction_id=(\S+)/;

function textLines(): LogLine[] {
  return output!.lines().map((line) => ({
    message: line,
    transactionId: ID_IN_TEXT.exec(line)?.[1],
  }));
}

function jsonLines(): LogLine[] {
  return output!.lines().map((line) => {
    const record = JSON.parse(line) as { message: unknown; transaction_id?: string };
    return { message: String(record.message), transactionId: record.transaction_id };
  });
}

describe.each(ADAPTERS)('TransactionConsoleLogger on %s', (adapter) => {
  it('puts the ID after the context of every line a request logs, in text mode', async () => {
    const requests = await sendRequests(
      await start(adapter, new TransactionConsoleLogger({ colors: false })),
    );
    await app!.close();
    const lines = textLines();

    expectEachLineTagged(lines, requests);
    const [guardLine] = lines.filter((line) => line.message.includes(`guard ${requests[1]!.path}`));
    expect(guardLine!.message).toMatch(
      new RegExp(`LOG \\[LoggingGuard\\] transaction_id=${requests[1]!.id} guard `),
    );
    // Start-up and shutdown lines: as ConsoleLogger prints them.
    const others = lines.filter((line) => !isRequestLine(line));
    expect(others.map((line) => line.message)).toContainEqual(
      expect.stringContaining('Nest application successfully started'),
    );
    expect(others.filter((line) => line.message.includes('transaction_id'))).toEqual([]);
  });

  it('adds a transaction_id field to every record a request logs, in JSON mode', async () => {
    const logger = new TransactionConsoleLogger({ json: true });
    const requests = await sendRequests(await start(adapter, logger));
    await app!.close();
    const lines = jsonLines();

    expectEachLineTagged(lines, requests);
    const others = lines.filter((line) => !isRequestLine(line));
    expect(others.length).toBeGreaterThan(0);
    expect(others.filter((line) => line.transactionId !== undefined)).toEqual([]);
  });
});

describe('TransactionConsoleLogger outside HTTP', () => {
  it('tags the lines of a unit of work started with TransactionContext.run()', async () => {
    const running = await start('express', new TransactionConsoleLogger({ json: true }));
    const logger = new Logger('Job');
    await running.get(TransactionContext).run('job-42', async () => {
      await new Promise((resolve) => setImmediate(resolve));
      logger.log('synced');
    });
    logger.log('idle');

    const lines = jsonLines().filter((line) => ['synced', 'idle'].includes(line.message));
    expect(lines).toEqual([
      { message: 'synced', transactionId: 'job-42' },
      { message: 'idle', transactionId: undefined },
    ]);
  });
});
