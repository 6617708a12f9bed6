import 'reflect-metadata';
import * as Sentry from '@sentry/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SentryEnvelopeServer } from '../fixtures/sentry-envelope-server.js';
import { sentryTestOptions } from '../fixtures/sentry-options.js';

// `globalInterceptor: false`, the lean set-up for HTTP-only services: IDs still come from the
// server binding, and unhandled exceptions are still reported, once, by the filter probe.
const sentry = await SentryEnvelopeServer.start();
Sentry.init(sentryTestOptions({ dsn: sentry.dsn(1) }));

const { Controller, Get, Injectable, Module, NotFoundException, UseGuards } =
  await import('@nestjs/common');
const { TransactionId, TransactionModule } = await import('../../lib/index.js');
const { ADAPTERS, startApp } = await import('../fixtures/nest-app.js');
const { call } = await import('../fixtures/http-client.js');

@Injectable()
class FailingGuard {
  canActivate(): boolean {
    throw new Error('guard failed');
  }
}

@Controller()
class LeanController {
  @Get('id')
  async id(@TransactionId() id: string | undefined) {
    await new Promise((resolve) => setTimeout(resolve, 2));
    return { id: id ?? null };
  }

  @Get('fail')
  async fail(): Promise<never> {
    await new Promise((resolve) => setTimeout(resolve, 2));
    throw new Error('handler failed');
  }

  @Get('missing')
  missing(): never {
    throw new NotFoundException();
  }

  @Get('guarded')
  @UseGuards(FailingGuard)
  guarded() {
    return {};
  }
}

@Module({
  imports: [TransactionModule.forRoot({ globalInterceptor: false })],
  controllers: [LeanController],
})
class LeanModule {}

for (const adapter of ADAPTERS) {
  describe(`globalInterceptor: false on ${adapter}`, () => {
    let app: Awaited<ReturnType<typeof startApp>>;
    beforeAll(async () => {
      app = await startApp(adapter, LeanModule);
    });
    afterAll(() => app.close());

    it('still settles the ID for the handler and the response', async () => {
      const response = await call(`${app.url}/id`, { headers: { 'x-transaction-id': 'lean-1' } });
      expect(response.body).toEqual({ id: 'lean-1' });
      expect(response.headers.get('x-transaction-id')).toBe('lean-1');
    });

    it('reports handler and guard exceptions once each, with the tag, and no 4xx', async () => {
      const ids = [`lean-fail-${adapter}`, `lean-guard-${adapter}`, `lean-404-${adapter}`];
      const paths = ['/fail', '/guarded', '/missing'];
      const statuses = await Promise.all(
        ids.map(async (id, i) => {
          const response = await call(`${app.url}${paths[i]}`, {
            headers: { 'x-transaction-id': id },
          });
          return response.status;
        }),
      );
      expect(statuses).toEqual([500, 500, 404]);
      await sentry.waitFor(
        () => sentry.eventsFor(ids[0]).length + sentry.eventsFor(ids[1]).length >= 2,
      );
      await Sentry.flush(2_000);
      expect(sentry.eventsFor(ids[0]).map((e) => e.exception?.values?.[0]?.value)).toEqual([
        'handler failed',
      ]);
      expect(sentry.eventsFor(ids[1]).map((e) => e.exception?.values?.[0]?.value)).toEqual([
        'guard failed',
      ]);
      expect(sentry.eventsFor(ids[2])).toEqual([]);
    });

    it.runIf(adapter === 'fastify')(
      "has no interceptor to fall back on for Fastify's inject()",
      async () => {
        const response = await app.app
          .getHttpAdapter()
          .getInstance()
          .inject({ method: 'GET', url: '/id', headers: { 'x-transaction-id': 'inject-1' } });
        expect(response.json()).toEqual({ id: null });
      },
    );
  });
}

@Module({ imports: [TransactionModule.forRoot()], controllers: [LeanController] })
class DefaultModule {}

describe('the default global interceptor', () => {
  it("settles the ID of a request that never reached the HTTP server (Fastify's inject())", async () => {
    const app = await startApp('fastify', DefaultModule);
    try {
      const response = await app.app
        .getHttpAdapter()
        .getInstance()
        .inject({ method: 'GET', url: '/id', headers: { 'x-transaction-id': 'inject-2' } });
      expect(response.json()).toEqual({ id: 'inject-2' });
      expect(response.headers['x-transaction-id']).toBe('inject-2');
    } finally {
      await app.close();
    }
  });
});

afterAll(async () => {
  await Sentry.close(2_000);
  await sentry.close();
});
