import 'reflect-metadata';
import { Redis } from 'ioredis';
import { Transport } from '@nestjs/microservices';
import { describe } from 'vitest';
import { brokerReachable } from '../fixtures/broker.js';
import { headerRecord } from '../fixtures/raw-headers.js';
import { describeTransport } from './transport.suite.js';

const URL = 'redis://127.0.0.1:6379';
const options = { host: '127.0.0.1', port: 6379 };

// Redis: Nest's packet metadata, published beside the payload.
describe.skipIf(!(await brokerReachable('Redis', URL)))('Redis', () => {
  describeTransport({
    name: 'Redis',
    server: () => ({ transport: Transport.REDIS, options }),
    client: () => ({ transport: Transport.REDIS, options }),
    async sendRaw(_app, pattern, data, headers) {
      const redis = new Redis(URL);
      try {
        const metadata = headers.length > 0 ? headerRecord(headers) : undefined;
        await redis.publish(pattern, JSON.stringify({ pattern, data, metadata }));
      } finally {
        redis.disconnect();
      }
    },
    hostile: ['a'.repeat(5_000), 'x\r\ninjected', 'é-accent', '\u0000nul', '<script>'],
  });
});
