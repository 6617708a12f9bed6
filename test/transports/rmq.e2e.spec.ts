import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import amqp from 'amqplib';
import { Transport } from '@nestjs/microservices';
import { describe } from 'vitest';
import { brokerReachable } from '../fixtures/broker.js';
import { headerRecord } from '../fixtures/raw-headers.js';
import { describeTransport } from './transport.suite.js';

const URL = 'amqp://guest:guest@127.0.0.1:5672';
const RUN = `tid-${randomUUID().slice(0, 8)}`;
const queueOf = (app: string) => `${RUN}-${app}`;
const options = (app: string) => ({
  urls: [URL],
  queue: queueOf(app),
  queueOptions: { durable: false, autoDelete: true },
});

// RabbitMQ `properties.headers`: a stock ClientsModule.register() client, a standalone receiver.
describe.skipIf(!(await brokerReachable('RabbitMQ', URL)))('RabbitMQ', () => {
  describeTransport({
    name: 'RabbitMQ',
    server: (app) => ({ transport: Transport.RMQ, options: options(app) }),
    client: (app) => ({ transport: Transport.RMQ, options: options(app) }),
    async sendRaw(app, pattern, data, headers) {
      const connection = await amqp.connect(URL);
      try {
        const channel = await connection.createConfirmChannel();
        channel.sendToQueue(queueOf(app), Buffer.from(JSON.stringify({ pattern, data })), {
          headers: headerRecord(headers),
        });
        await channel.waitForConfirms();
      } finally {
        await connection.close();
      }
    },
    hostile: ['a'.repeat(5_000), 'x\r\ninjected', 'é-accent', '\u0000nul', '<script>'],
  });
});
