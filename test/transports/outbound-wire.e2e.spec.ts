import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import { connect as natsConnect, headers as natsHeaders } from '@nats-io/transport-node';
import amqp from 'amqplib';
import mqtt from 'mqtt';
import { Module, type INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import {
  type ClientOptions,
  type ClientProxy,
  ClientProxyFactory,
  MqttRecordBuilder,
  NatsRecordBuilder,
  RmqRecordBuilder,
  Transport,
} from '@nestjs/microservices';
import { firstValueFrom } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  TransactionContext,
  TransactionForwarding,
  TransactionModule,
} from 'nestjs-transaction-id';
import { brokerReachable } from '../fixtures/broker.js';

// What goes on the wire from a client made by hand (`TransactionForwarding.forward()`): the
// ID in the transport's header inside a unit of work, nothing outside one, the header a record
// of the user's set kept, and the body exactly what Nest sends without the library.

const NATS = 'nats://127.0.0.1:4222';
const RMQ = 'amqp://guest:guest@127.0.0.1:5672';
const MQTT = 'mqtt://127.0.0.1:1883';

/** A message as a raw subscriber got it. */
interface Wire {
  body: unknown;
  header: unknown;
}

/** One transport: a client to forward, a raw subscriber, the user's record with its own ID. */
interface Case {
  name: string;
  url: string;
  client(topic: string): ClientOptions;
  /** Subscribes to `topic` with the transport's own library; resolves with the next message. */
  subscribe(topic: string): Promise<{ next(): Promise<Wire>; close(): Promise<void> }>;
  record(data: unknown, id: string): unknown;
}

const cases: Case[] = [
  {
    name: 'NATS',
    url: NATS,
    client: () => ({ transport: Transport.NATS, options: { servers: [NATS] } }),
    async subscribe(topic) {
      const connection = await natsConnect({ servers: NATS });
      const subscription = connection.subscribe(topic);
      await connection.flush();
      const iterator = subscription[Symbol.asyncIterator]();
      return {
        async next() {
          const { value } = await iterator.next();
          const names = value.headers?.keys() ?? [];
          const name = names.find((key: string) => key.toLowerCase() === 'x-transaction-id');
          return {
            body: JSON.parse(new TextDecoder().decode(value.data)),
            header: name === undefined ? undefined : value.headers?.values(name).join(', '),
          };
        },
        close: () => connection.close(),
      };
    },
    record: (data, id) => {
      const h = natsHeaders();
      h.set('X-Transaction-Id', id);
      return new NatsRecordBuilder(data).setHeaders(h).build();
    },
  },
  {
    name: 'RabbitMQ',
    url: RMQ,
    client: (queue) => ({
      transport: Transport.RMQ,
      options: { urls: [RMQ], queue, queueOptions: { durable: false, autoDelete: true } },
    }),
    async subscribe(queue) {
      const connection = await amqp.connect(RMQ);
      const channel = await connection.createChannel();
      await channel.assertQueue(queue, { durable: false, autoDelete: true });
      const waiting: ((wire: Wire) => void)[] = [];
      await channel.consume(
        queue,
        (message) => {
          if (message === null) return;
          const headers = message.properties.headers ?? {};
          const name = Object.keys(headers).find((key) => key.toLowerCase() === 'x-transaction-id');
          waiting.shift()?.({
            body: JSON.parse(message.content.toString()),
            header: name === undefined ? undefined : headers[name],
          });
        },
        { noAck: true },
      );
      return {
        next: () => new Promise((resolve) => waiting.push(resolve)),
        close: () => connection.close(),
      };
    },
    record: (data, id) =>
      new RmqRecordBuilder(data).setOptions({ headers: { 'X-Transaction-Id': id } }).build(),
  },
  {
    name: 'MQTT 5',
    url: MQTT,
    client: () => ({ transport: Transport.MQTT, options: { url: MQTT, protocolVersion: 5 } }),
    async subscribe(topic) {
      const client = await mqtt.connectAsync(MQTT, { protocolVersion: 5 });
      await client.subscribeAsync(topic, { qos: 1 });
      const waiting: ((wire: Wire) => void)[] = [];
      client.on('message', (_topic, payload, packet) => {
        const properties = packet.properties?.userProperties ?? {};
        const name = Object.keys(properties).find((k) => k.toLowerCase() === 'x-transaction-id');
        waiting.shift()?.({
          body: JSON.parse(payload.toString()),
          header: name === undefined ? undefined : properties[name],
        });
      });
      return {
        next: () => new Promise((resolve) => waiting.push(resolve)),
        close: () => client.endAsync(),
      };
    },
    record: (data, id) =>
      new MqttRecordBuilder(data)
        .setProperties({ userProperties: { 'X-Transaction-Id': id } })
        .setQoS(1)
        .build(),
  },
];

/**
 * A module whose provider makes its client by hand and forwards it while Nest builds it (as in a
 * constructor), before the library's own initialisation.
 */
function senderModule(
  options: ClientOptions,
  moduleOptions: Parameters<typeof TransactionModule.forRoot>[0] = {},
) {
  @Module({
    imports: [TransactionModule.forRoot(moduleOptions)],
    providers: [
      {
        provide: 'SENDER',
        useFactory: (forwarding: TransactionForwarding) =>
          forwarding.forward(ClientProxyFactory.create(options as never) as unknown as ClientProxy),
        inject: [TransactionForwarding],
      },
    ],
  })
  class SenderModule {}
  return SenderModule;
}

for (const transport of cases) {
  describe.skipIf(!(await brokerReachable(transport.name, transport.url)))(
    `${transport.name}: a client made by hand`,
    () => {
      const topic = `tid-wire-${randomUUID().slice(0, 8)}`;
      let app: INestApplicationContext;
      let client: ClientProxy;
      let context: TransactionContext;
      let subscriber: Awaited<ReturnType<Case['subscribe']>>;

      beforeAll(async () => {
        app = await NestFactory.createApplicationContext(senderModule(transport.client(topic)), {
          logger: false,
        });
        context = app.get(TransactionContext);
        client = app.get('SENDER');
        subscriber = await transport.subscribe(topic);
      });

      afterAll(async () => {
        await client?.close();
        await subscriber?.close();
        await app?.close();
      });

      const emit = async (data: unknown) => {
        const received = subscriber.next();
        await firstValueFrom(client.emit(topic, data), { defaultValue: undefined });
        return received;
      };

      it('sends the ID of the unit of work, the body unchanged', async () => {
        const wire = await context.run('wire-inside', () => emit({ order: 1 }));
        expect(wire).toEqual({
          header: 'wire-inside',
          body: { pattern: topic, data: { order: 1 } },
        });
      });

      it('sends no ID outside a unit of work', async () => {
        const wire = await emit({ order: 2 });
        expect(wire).toEqual({ header: undefined, body: { pattern: topic, data: { order: 2 } } });
      });

      it("keeps the header of the user's record", async () => {
        const wire = await context.run('wire-ours', () =>
          emit(transport.record({ order: 3 }, 'wire-theirs')),
        );
        expect(wire).toEqual({
          header: 'wire-theirs',
          body: { pattern: topic, data: { order: 3 } },
        });
      });
    },
  );
}

describe.skipIf(!(await brokerReachable('NATS', NATS)))(
  'NATS: propagationTargets decide by the server a client sends to',
  () => {
    const nats = cases[0];
    const sent = async (targets: string[]) => {
      const topic = `tid-wire-${randomUUID().slice(0, 8)}`;
      const app = await NestFactory.createApplicationContext(
        senderModule(nats.client(topic), { propagationTargets: targets }),
        { logger: false },
      );
      const client: ClientProxy = app.get('SENDER');
      const subscriber = await nats.subscribe(topic);
      try {
        const received = subscriber.next();
        await app
          .get(TransactionContext)
          .run('wire-targets', () =>
            firstValueFrom(client.emit(topic, { order: 4 }), { defaultValue: undefined }),
          );
        return (await received).header;
      } finally {
        await client.close();
        await subscriber.close();
        await app.close();
      }
    };

    it('a client whose server is a target sends the ID', async () => {
      expect(await sent(['nats://127.0.0.1:4222'])).toBe('wire-targets');
    });

    it('a client whose server is not a target sends none', async () => {
      expect(await sent(['nats://10.0.0.5:4222'])).toBeUndefined();
    });
  },
);
