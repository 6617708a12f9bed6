/**
 * `transactionIdCors()` with `app.enableCors()` on both platforms: a page on another origin may
 * send X-Transaction-ID (preflight) and read the echoed one (exposed). The browser side of the same
 * setup runs in Chromium in test/browser/sample-page.spec.ts.
 */
import { Controller, Get, Module, type INestApplication } from '@nestjs/common';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import { afterEach, describe, expect, it } from 'vitest';
import { TransactionId, TransactionModule, transactionIdCors } from '../../lib/index.js';
import { ADAPTERS, type Adapter } from '../fixtures/nest-app.js';

const PAGE = 'http://127.0.0.1:8080';

@Controller('orders')
class OrdersController {
  @Get()
  list(@TransactionId() transactionId: string) {
    return { transactionId };
  }
}

@Module({ imports: [TransactionModule.forRoot()], controllers: [OrdersController] })
class AppModule {}

let app: INestApplication | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

async function start(adapter: Adapter, cors: Parameters<INestApplication['enableCors']>[0]) {
  const moduleRef = await Test.createTestingModule({ imports: [AppModule] }).compile();
  app =
    adapter === 'fastify'
      ? moduleRef.createNestApplication(new FastifyAdapter(), { logger: false })
      : moduleRef.createNestApplication({ logger: false });
  app.enableCors(cors);
  await app.init();
  if (adapter === 'fastify') await app.getHttpAdapter().getInstance().ready();
  return app.getHttpServer();
}

describe.each(ADAPTERS)('transactionIdCors() on %s', (adapter) => {
  it('lets a page on another origin send the ID and read the echoed one', async () => {
    const server = await start(adapter, transactionIdCors({ origin: [PAGE] }));
    const preflight = await request(server)
      .options('/orders')
      .set('origin', PAGE)
      .set('access-control-request-method', 'GET')
      .set('access-control-request-headers', 'x-transaction-id');
    expect(preflight.status).toBe(204);
    expect(preflight.headers['access-control-allow-origin']).toBe(PAGE);
    expect(preflight.headers['access-control-allow-headers']).toMatch(/x-transaction-id/i);

    const response = await request(server)
      .get('/orders')
      .set('origin', PAGE)
      .set('x-transaction-id', 'from-the-page');
    expect(response.body).toEqual({ transactionId: 'from-the-page' });
    expect(response.headers['x-transaction-id']).toBe('from-the-page');
    expect(response.headers['access-control-expose-headers']).toBe('x-transaction-id');
  });

  it('adds the header to an explicit list of allowed headers', async () => {
    const server = await start(
      adapter,
      transactionIdCors({
        origin: PAGE,
        allowedHeaders: ['content-type'],
        exposedHeaders: ['etag'],
      }),
    );
    const preflight = await request(server)
      .options('/orders')
      .set('origin', PAGE)
      .set('access-control-request-method', 'GET')
      .set('access-control-request-headers', 'content-type,x-transaction-id');
    // Express joins lists with ',', @fastify/cors with ', '.
    const list = (value: string) => value.split(',').map((name) => name.trim());
    expect(list(preflight.headers['access-control-allow-headers'])).toEqual([
      'content-type',
      'x-transaction-id',
    ]);
    const response = await request(server).get('/orders').set('origin', PAGE);
    expect(list(response.headers['access-control-expose-headers'])).toEqual([
      'etag',
      'x-transaction-id',
    ]);
  });

  it('without it, the echoed header stays hidden from other origins', async () => {
    const server = await start(adapter, { origin: PAGE });
    const response = await request(server).get('/orders').set('origin', PAGE);
    expect(response.headers['x-transaction-id']).toBeDefined();
    expect(response.headers['access-control-expose-headers']).toBeUndefined();
  });
});
