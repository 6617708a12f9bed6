import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import * as Sentry from '@sentry/node';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SentryEnvelopeServer } from '../fixtures/sentry-envelope-server.js';
import { sentryTestOptions } from '../fixtures/sentry-options.js';

// Sentry's own logs (on by default in @sentry/node 11; `enableLogs: true` in 10): `Sentry.logger.*`
// and the console integration. Each log item
// of a request carries `transaction_id` as an attribute, and no other request's.
const sentry = await SentryEnvelopeServer.start();
Sentry.init({
  ...sentryTestOptions({ dsn: sentry.dsn(1) }),
  integrations: (defaults) => [
    ...defaults.filter((integration) => integration.name !== 'Dedupe'),
    Sentry.consoleLoggingIntegration({ levels: ['warn'] }),
  ],
});

const { Controller, Get, Module, Param } = await import('@nestjs/common');
const { TransactionContext, TransactionModule } = await import('../../lib/index.js');
const { Barriers } = await import('../fixtures/barrier.js');
const { ADAPTERS, startApp } = await import('../fixtures/nest-app.js');
type RunningApp = Awaited<ReturnType<typeof startApp>>;

@Controller()
class LogsController {
  constructor(private readonly barriers: InstanceType<typeof Barriers>) {}

  /** Logs through Sentry before and after all `size` requests of `group` are in flight. */
  @Get('log/:name/:group/:size')
  async log(
    @Param('name') name: string,
    @Param('group') group: string,
    @Param('size') size: string,
  ) {
    Sentry.logger.info(Sentry.logger.fmt`before ${name}`);
    await this.barriers.arrive(group, Number(size));
    Sentry.logger.info(`after ${name}`);
    console.warn(`console ${name}`);
    return { name };
  }
}
Reflect.defineMetadata('design:paramtypes', [Barriers], LogsController);

@Module({
  imports: [TransactionModule.forRoot()],
  controllers: [LogsController],
  providers: [Barriers],
})
class LogsModule {}

const CONCURRENT = 6;

afterAll(async () => {
  await Sentry.close(2_000);
  await sentry.close();
});

describe.each(ADAPTERS)('Sentry logs on %s', (adapter) => {
  let app: RunningApp;
  beforeEach(async () => {
    app = await startApp(adapter, LogsModule);
    sentry.clear();
  });
  afterEach(() => app.close());

  it('puts transaction_id on each log item of a request, and on none outside', async () => {
    const group = randomUUID();
    const ids = Array.from({ length: CONCURRENT }, () => randomUUID());
    await Promise.all(
      ids.map(async (id, n) => {
        const response = await fetch(`${app.url}/log/r${n}/${group}/${CONCURRENT}`, {
          headers: { 'x-transaction-id': id },
        });
        expect(response.status).toBe(200);
      }),
    );
    Sentry.logger.info('outside any request');
    await app.app.get(TransactionContext).run('job-7', async () => {
      await Promise.resolve();
      Sentry.logger.warn('in a job');
    });
    await Sentry.flush(5_000);
    await sentry.waitFor(() => sentry.logs.length >= CONCURRENT * 3 + 2);

    const idOf = (body: string) =>
      sentry.logs.filter((log) => log.body === body).map((log) => log.attributes?.transaction_id);
    ids.forEach((id, n) => {
      for (const body of [`before r${n}`, `after r${n}`, `console r${n}`]) {
        expect(idOf(body), body).toEqual([{ type: 'string', value: id }]);
      }
    });
    expect(idOf('in a job')).toEqual([{ type: 'string', value: 'job-7' }]);
    expect(idOf('outside any request')).toEqual([undefined]);
  });

  it('keeps a transaction_id the application set on a log item itself', async () => {
    await app.app.get(TransactionContext).run('job-8', () => {
      Sentry.logger.info('explicit', { transaction_id: 'chosen' });
    });
    await Sentry.flush(5_000);
    await sentry.waitFor(() => sentry.logs.some((log) => log.body === 'explicit'));
    const [log] = sentry.logs.filter((item) => item.body === 'explicit');
    expect(log!.attributes?.transaction_id).toEqual({ type: 'string', value: 'chosen' });
  });
});
