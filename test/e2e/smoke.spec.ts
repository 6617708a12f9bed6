import 'reflect-metadata';
import * as Sentry from '@sentry/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SentryEnvelopeServer } from '../fixtures/sentry-envelope-server.js';

const sentry = await SentryEnvelopeServer.start();
Sentry.init({ dsn: sentry.dsn(1), tracesSampleRate: 0 });

const { Controller, Get, Injectable, Module, UseGuards, InternalServerErrorException } = await import('@nestjs/common');
const { Test } = await import('@nestjs/testing');
const { FastifyAdapter } = await import('@nestjs/platform-fastify');
const request = (await import('supertest')).default;
const { TransactionModule, TransactionId, TransactionContext } = await import('../../lib/index.js');

@Injectable()
class BoomGuard { canActivate(): boolean { throw new Error('guard boom'); } }

@Controller()
class AppController {
  constructor(private readonly tx: TransactionContext) {}
  @Get('ok') async ok(@TransactionId() id: string) { await new Promise((r) => setTimeout(r, 5)); return { id, ctx: this.tx.id }; }
  @Get('fail') async fail() { await new Promise((r) => setTimeout(r, 5)); throw new Error('handler boom'); }
  @Get('fail500') fail500() { throw new InternalServerErrorException('http 500'); }
  @Get('guarded') @UseGuards(BoomGuard) guarded() { return 1; }
  @Get('msg') async msg() { await new Promise((r) => setTimeout(r, 5)); Sentry.captureMessage('hello'); return 1; }
}
@Module({ imports: [TransactionModule.forRoot()], controllers: [AppController] })
class AppModule {}

for (const adapter of ['express', 'fastify'] as const) {
  describe(adapter, () => {
    let app: any;
    beforeAll(async () => {
      const ref = await Test.createTestingModule({ imports: [AppModule] }).compile();
      app = adapter === 'express' ? ref.createNestApplication({ logger: false }) : ref.createNestApplication(new FastifyAdapter(), { logger: false });
      await app.init();
      if (adapter === 'fastify') await app.getHttpAdapter().getInstance().ready();
    });
    afterAll(() => app.close());
    it('works', async () => {
      const r = await request(app.getHttpServer()).get('/ok').set('x-transaction-id', 'abc-1');
      expect(r.body).toEqual({ id: 'abc-1', ctx: 'abc-1' });
      expect(r.headers['x-transaction-id']).toBe('abc-1');
      const r2 = await request(app.getHttpServer()).get('/ok').set('x-transaction-id', 'bad value!');
      expect(r2.body.id).not.toBe('bad value!');
      expect(r2.headers['x-transaction-id']).toBe(r2.body.id);
      for (const [path, id] of [['/fail', `f-${adapter}`], ['/fail500', `g-${adapter}`], ['/guarded', `h-${adapter}`], ['/msg', `m-${adapter}`]]) {
        const res = await request(app.getHttpServer()).get(path).set('x-transaction-id', id);
        expect(res.headers['x-transaction-id']).toBe(id);
        await sentry.waitFor(() => sentry.eventsFor(id).length >= 1);
      }
      await new Promise((r) => setTimeout(r, 300));
      console.log(sentry.events.map((e) => [e.tags, e.exception?.values?.[0]?.value ?? e.message, e.request?.url]));
    });
  });
}
afterAll(async () => { await Sentry.close(); await sentry.close(); });
