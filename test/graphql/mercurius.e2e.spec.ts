import 'reflect-metadata';
import * as Sentry from '@sentry/node';
import { Module, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { GraphQLModule } from '@nestjs/graphql';
import { MercuriusDriver, type MercuriusDriverConfig } from '@nestjs/mercurius';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { afterAll, beforeAll } from 'vitest';
import { TransactionModule } from 'nestjs-transaction-id';
import { SentryEnvelopeServer } from '../fixtures/sentry-envelope-server.js';
import { sentryTestOptions } from '../fixtures/sentry-options.js';
import { OrdersResolver } from './support/orders.resolver.js';
import { queriesAndMutationsSuite } from './support/queries.suite.js';

// GraphQL on Mercurius (Fastify) with nothing but forRoot(): one ID per HTTP request for every
// resolver of a query or mutation, echoed, failures reported once with it.
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

queriesAndMutationsSuite('Mercurius (Fastify)', 'mq', () => ({ url, sentry }));
