import 'reflect-metadata';
import * as Sentry from '@sentry/node';
import { Module, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { GraphQLModule } from '@nestjs/graphql';
import { ApolloDriver, type ApolloDriverConfig } from '@nestjs/apollo';
import { createClient, type Client } from 'graphql-ws';
import { WebSocket } from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TransactionModule } from 'nestjs-transaction-id';
import { SentryEnvelopeServer } from '../fixtures/sentry-envelope-server.js';
import { sentryTestOptions } from '../fixtures/sentry-options.js';
import { OrdersResolver } from './support/orders.resolver.js';
import { graphql, queriesAndMutationsSuite } from './support/queries.suite.js';

// GraphQL on Apollo (Express) with nothing but forRoot(): a query or mutation is an HTTP request,
// one ID for all its resolvers; a subscription over graphql-ws takes its connection's ID, and
// every event it resolves runs under it.
const HEADER = 'x-transaction-id';

@Module({
  imports: [
    TransactionModule.forRoot(),
    GraphQLModule.forRoot<ApolloDriverConfig>({
      driver: ApolloDriver,
      autoSchemaFile: true,
      subscriptions: { 'graphql-ws': true },
    }),
  ],
  providers: [OrdersResolver],
})
class AppModule {}

let sentry: SentryEnvelopeServer;
let app: INestApplication;
let url: string;
const clients: Client[] = [];

beforeAll(async () => {
  sentry = await SentryEnvelopeServer.start();
  Sentry.init(sentryTestOptions({ dsn: sentry.dsn(1) }));
  app = await NestFactory.create(AppModule, { logger: false });
  await app.listen(0, '127.0.0.1');
  url = `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}/graphql`;
});

afterAll(async () => {
  for (const client of clients) await client.dispose();
  await app?.close();
  await Sentry.close(2_000);
  await sentry?.close();
});

queriesAndMutationsSuite('Apollo (Express)', 'gql', () => ({ url, sentry }));

describe('subscriptions over graphql-ws', () => {
  function subscriber(connectionUrl: string) {
    const client = createClient({ url: connectionUrl, webSocketImpl: WebSocket, lazy: false });
    clients.push(client);
    const events: Array<{ n: number; id: string }> = [];
    const ready = new Promise<void>((resolve) => client.on('connected', () => resolve()));
    client.subscribe<{ placed: { n: number; id: string } }>(
      { query: 'subscription { placed { n id } }' },
      {
        next: ({ data }) => data && events.push(data.placed),
        error: () => undefined,
        complete: () => undefined,
      },
    );
    return { events, ready };
  }

  it("resolve every event under the subscriber's connection ID, not the publisher's", async () => {
    const ws = url.replace('http', 'ws');
    const browser = subscriber(`${ws}?${HEADER}=gql-connection-1`);
    const other = subscriber(`${ws}?${HEADER}=gql-connection-2`);
    await Promise.all([browser.ready, other.ready]);
    // Let the subscriptions start before publishing.
    await new Promise((resolve) => setTimeout(resolve, 200));

    await graphql(url, 'mutation { place(n: 1) { n } }', 'gql-publisher');
    await graphql(url, 'mutation { place(n: 2) { n } }', 'gql-publisher');

    await expect.poll(() => browser.events.length + other.events.length).toBe(4);
    expect(browser.events).toEqual([
      { n: 1, id: 'gql-connection-1' },
      { n: 2, id: 'gql-connection-1' },
    ]);
    expect(other.events).toEqual([
      { n: 1, id: 'gql-connection-2' },
      { n: 2, id: 'gql-connection-2' },
    ]);
  });
});
