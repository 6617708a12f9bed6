import 'reflect-metadata';
import * as Sentry from '@sentry/node';
import { Module, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { GraphQLModule } from '@nestjs/graphql';
import { MercuriusDriver, type MercuriusDriverConfig } from '@nestjs/mercurius';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TransactionModule } from 'nestjs-transaction-id';
import { SentryEnvelopeServer } from '../fixtures/sentry-envelope-server.js';
import { sentryTestOptions } from '../fixtures/sentry-options.js';
import { summary } from '../fixtures/sentry-events.js';
import { OrdersResolver } from './support/orders.resolver.js';

// GraphQL on Mercurius (Fastify) with nothing but forRoot(): one ID per HTTP request for every
// resolver of a query or mutation, echoed, failures reported once with it.
const HEADER = 'x-transaction-id';

@Module({
  imports: [
    TransactionModule.forRoot(),
    GraphQLModule.forRoot<MercuriusDriverConfig>({ driver: MercuriusDriver, autoSchemaFile: true }),
  ],
  providers: [OrdersResolver],
})
class AppModule {}

let sentry: SentryEnvelopeServer;
let app: INestApplication;
let url: string;

beforeAll(async () => {
  sentry = await SentryEnvelopeServer.start();
  Sentry.init(sentryTestOptions({ dsn: sentry.dsn(1) }));
  app = await NestFactory.create(AppModule, new FastifyAdapter(), { logger: false });
  await app.listen(0, '127.0.0.1');
  url = `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}/graphql`;
});

afterAll(async () => {
  await app?.close();
  await Sentry.close(2_000);
  await sentry?.close();
});

async function graphql(query: string, id: string) {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', [HEADER]: id },
    body: JSON.stringify({ query }),
  });
  return {
    echoed: response.headers.get(HEADER),
    body: (await response.json()) as { data?: Record<string, { n: number; id: string }> },
  };
}

describe('Mercurius queries and mutations', () => {
  it('100 concurrent queries: every resolver sees its own request ID, echoed', async () => {
    const results = await Promise.all(
      Array.from({ length: 100 }, (_, n) =>
        graphql(`{ a: order(n: ${n}) { n id } b: order(n: ${n + 1000}) { n id } }`, `mq-${n}`),
      ),
    );
    results.forEach(({ echoed, body }, n) => {
      expect(echoed).toBe(`mq-${n}`);
      expect(body.data).toEqual({ a: { n, id: `mq-${n}` }, b: { n: n + 1000, id: `mq-${n}` } });
    });
  });

  it('a mutation runs under its request ID', async () => {
    const { body } = await graphql('mutation { place(n: 5) { n id } }', 'mq-mutation');
    expect(body.data).toEqual({ place: { n: 5, id: 'mq-mutation' } });
  });

  it('a failing resolver is reported once, with the request ID', async () => {
    sentry.clear();
    await graphql('{ order(n: -2) { n } }', 'mq-failing');
    await sentry.waitFor(() => sentry.eventsFor('mq-failing').length > 0);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(sentry.eventsFor('mq-failing').map(summary)).toEqual(['order -2 failed in mq-failing']);
  });
});
