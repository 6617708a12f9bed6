import 'reflect-metadata';
import { connect, headers as natsHeaders } from '@nats-io/transport-node';
import { Transport } from '@nestjs/microservices';
import { describe } from 'vitest';
import { brokerReachable } from '../fixtures/broker.js';
import { describeTransport } from './transport.suite.js';

const URL = 'nats://127.0.0.1:4222';

// NATS headers: a stock ClientsModule.registerAsync() client, a hybrid receiver.
describe.skipIf(!(await brokerReachable('NATS', URL)))('NATS', () => {
  describeTransport({
    name: 'NATS',
    hybrid: true,
    async: true,
    server: () => ({ transport: Transport.NATS, options: { servers: [URL] } }),
    client: () => ({ transport: Transport.NATS, options: { servers: [URL] } }),
    async sendRaw(_app, pattern, data, headers) {
      const connection = await connect({ servers: URL });
      try {
        const h = natsHeaders();
        for (const [name, value] of headers) h.append(name, value);
        connection.publish(pattern, JSON.stringify({ pattern, data }), {
          headers: headers.length > 0 ? h : undefined,
        });
        await connection.flush();
      } finally {
        await connection.close();
      }
    },
    hostile: ['a'.repeat(5_000), 'not valid!', 'é-accent', 'tab\there', '\u0000nul', '<script>'],
  });
});
