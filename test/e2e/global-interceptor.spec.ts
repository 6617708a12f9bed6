import 'reflect-metadata';
import * as Sentry from '@sentry/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SentryEnvelopeServer } from '../fixtures/sentry-envelope-server.js';
import { sentryTestOptions } from '../fixtures/sentry-options.js';

// Option `globalInterceptor`. HTTP requests get their ID from the server binding (or, for
// Fastify's `inject()`, its onRequest hook) in every mode; what the global interceptor adds for
// them is reporting exceptions that a filter scoped to a controller or method handles first.
// `'auto'` registers it only for applications with handlers outside HTTP.
const sentry = await SentryEnvelopeServer.start();
Sentry.init(sentryTestOptions({ dsn: sentry.dsn(1) }));

const { Catch, Controller, Get, HttpStatus, Injectable, Module, NotFoundException } =
  await import('@nestjs/common');
const { UseFilters, UseGuards } = await import('@nestjs/common');
const { TransactionId, TransactionModule } = await import('../../lib/index.js');
const { ADAPTERS, startApp } = await import('../fixtures/nest-app.js');
const { call } = await import('../fixtures/http-client.js');
type ArgumentsHost = import('@nestjs/common').ArgumentsHost;
type DynamicModule = import('@nestjs/common').DynamicModule;

@Injectable()
class FailingGuard {
  canActivate(): boolean {
    throw new Error('guard failed');
  }
}

/** A filter of the application's own, on one method, that answers every exception itself. */
@Catch()
class OwnAnswerFilter {
  catch(_exception: unknown, host: ArgumentsHost): void {
    const response = host.switchToHttp().getResponse<{
      raw?: unknown;
      status?: (code: number) => { json(body: unknown): void };
      code?: (code: number) => { send(body: unknown): void };
    }>();
    const body = { handled: true };
    if (typeof response.code === 'function') response.code(HttpStatus.CONFLICT).send(body);
    else response.status?.(HttpStatus.CONFLICT).json(body);
  }
}

@Controller()
class HttpController {
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

  @Get('own-filter')
  @UseFilters(OwnAnswerFilter)
  ownFilter(): never {
    throw new Error('answered by its own filter');
  }
}

/**
 * A controller with a message handler, declared with the metadata `@MessagePattern()` writes
 * (`@nestjs/microservices` is not a dependency of these tests).
 */
@Controller()
class MessagesController {
  handle(): string {
    return 'ok';
  }
}
Reflect.defineMetadata(
  'microservices:pattern',
  [{ cmd: 'ping' }],
  MessagesController.prototype.handle,
);

function appModule(transaction: DynamicModule, withMessages = false) {
  @Module({
    imports: [transaction],
    controllers: withMessages ? [HttpController, MessagesController] : [HttpController],
  })
  class AppModule {}
  return AppModule;
}

const MODES = [
  {
    name: "'auto' in an HTTP-only application",
    module: () => TransactionModule.forRoot(),
    interceptor: false,
  },
  {
    // Message handlers get their ID from the microservices binding, not the interceptor.
    name: "'auto' with a message handler",
    module: () => TransactionModule.forRoot(),
    withMessages: true,
    interceptor: false,
  },
  {
    name: 'true',
    module: () => TransactionModule.forRoot({ globalInterceptor: true }),
    interceptor: true,
  },
  {
    name: 'false',
    module: () => TransactionModule.forRoot({ globalInterceptor: false }),
    interceptor: false,
  },
];

for (const adapter of ADAPTERS) {
  for (const mode of MODES) {
    describe(`globalInterceptor ${mode.name} on ${adapter}`, () => {
      const tag = `${adapter}-${mode.name.replace(/\W+/g, '-')}`;
      let app: Awaited<ReturnType<typeof startApp>>;
      beforeAll(async () => {
        app = await startApp(adapter, appModule(mode.module(), mode.withMessages));
      });
      afterAll(() => app.close());

      it('settles the ID for the handler and the response', async () => {
        const response = await call(`${app.url}/id`, {
          headers: { 'x-transaction-id': `id-${tag}` },
        });
        expect(response.body).toEqual({ id: `id-${tag}` });
        expect(response.headers.get('x-transaction-id')).toBe(`id-${tag}`);
      });

      it.runIf(adapter === 'fastify')(
        "settles the ID of Fastify's inject(), which skips the server",
        async () => {
          const response = await app.app
            .getHttpAdapter()
            .getInstance()
            .inject({
              method: 'GET',
              url: '/id',
              headers: { 'x-transaction-id': `inject-${tag}` },
            });
          expect(response.json()).toEqual({ id: `inject-${tag}` });
          expect(response.headers['x-transaction-id']).toBe(`inject-${tag}`);
        },
      );

      it.runIf(adapter === 'fastify')(
        'turns away an invalid ID given to inject() when told to',
        async () => {
          const strict = await startApp(
            adapter,
            appModule(
              TransactionModule.forRoot({ invalid: 'reject', globalInterceptor: mode.interceptor }),
            ),
          );
          try {
            const response = await strict.app
              .getHttpAdapter()
              .getInstance()
              .inject({ method: 'GET', url: '/id', headers: { 'x-transaction-id': 'bad id' } });
            expect(response.statusCode).toBe(400);
            expect(response.json()).toMatchObject({ statusCode: 400, error: 'Bad Request' });
          } finally {
            await strict.close();
          }
        },
      );

      it('reports handler and guard exceptions once each, with the tag, and no 4xx', async () => {
        const ids = [`fail-${tag}`, `guard-${tag}`, `404-${tag}`];
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

      /** The messages of the events reported for a request that a filter on its method answered. */
      async function reportedDespiteOwnFilter(): Promise<unknown[]> {
        const id = `own-filter-${tag}`;
        const response = await call(`${app.url}/own-filter`, {
          headers: { 'x-transaction-id': id },
        });
        expect(response.status).toBe(409);
        expect(response.body).toEqual({ handled: true });
        // A marker request after it: once its event is in, the first one's would be too.
        const marker = `marker-${tag}`;
        await call(`${app.url}/fail`, { headers: { 'x-transaction-id': marker } });
        await sentry.waitFor(() => sentry.eventsFor(marker).length >= 1);
        await Sentry.flush(2_000);
        return sentry.eventsFor(id).map((e) => e.exception?.values?.[0]?.value);
      }

      it.runIf(mode.interceptor)(
        'reports an exception that a filter on the method answers (the interceptor sees it first)',
        async () => {
          expect(await reportedDespiteOwnFilter()).toEqual(['answered by its own filter']);
        },
      );

      it.runIf(!mode.interceptor)(
        'leaves an exception that a filter on the method answers to that filter',
        async () => {
          expect(await reportedDespiteOwnFilter()).toEqual([]);
        },
      );
    });
  }
}

describe('option globalInterceptor', () => {
  it('refuses a value other than true, false or "auto"', () => {
    expect(() => TransactionModule.forRoot({ globalInterceptor: 'yes' as never })).toThrow(
      /"globalInterceptor" must be true, false or 'auto' \(got yes\)/,
    );
  });
});

afterAll(async () => {
  await Sentry.close(2_000);
  await sentry.close();
});
