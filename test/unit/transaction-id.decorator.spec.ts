import 'reflect-metadata';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Controller, Get, type INestApplication, Injectable, Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import { setTimeout as sleep } from 'node:timers/promises';
import { TransactionContext, TransactionId, TransactionModule } from '../../lib/index.js';
import { RecordingLogger, UUID } from './support/testing-module.js';

@Injectable()
class AuditService {
  constructor(private readonly transaction: TransactionContext) {}

  async record(): Promise<string | undefined> {
    await sleep(2);
    return this.transaction.id;
  }
}

@Controller()
class OrdersController {
  constructor(private readonly audit: AuditService) {}

  @Get('orders')
  async list(@TransactionId() id: string) {
    return { id, audited: await this.audit.record() };
  }
}

@Module({
  imports: [TransactionModule.forRoot()],
  controllers: [OrdersController],
  providers: [AuditService],
})
class AppModule {}

describe('@TransactionId()', () => {
  let app: INestApplication;

  beforeAll(async () => {
    const moduleRef = await Test.createTestingModule({ imports: [AppModule] })
      .setLogger(new RecordingLogger())
      .compile();
    app = moduleRef.createNestApplication({ logger: false });
    await app.init();
  });

  afterAll(() => app.close());

  it('injects the ID the request came with', async () => {
    const response = await request(app.getHttpServer())
      .get('/orders')
      .set('X-Transaction-Id', 'checkout-123');

    expect(response.status).toBe(200);
    expect(response.body).toEqual({ id: 'checkout-123', audited: 'checkout-123' });
  });

  it('injects the fresh ID of a request that came without one, the one echoed back', async () => {
    const response = await request(app.getHttpServer()).get('/orders');

    expect(response.body.id).toMatch(UUID);
    expect(response.body.audited).toBe(response.body.id);
    expect(response.headers['x-transaction-id']).toBe(response.body.id);
  });

  it('injects a different ID into each of many concurrent requests', async () => {
    const server = app.getHttpServer();
    const responses = await Promise.all(
      Array.from({ length: 30 }, (_, index) =>
        request(server).get('/orders').set('x-transaction-id', `order-${index}`),
      ),
    );

    responses.forEach((response, index) => {
      expect(response.body).toEqual({ id: `order-${index}`, audited: `order-${index}` });
    });
  });
});
