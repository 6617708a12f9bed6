import 'reflect-metadata';
import mqtt from 'mqtt';
import { Transport } from '@nestjs/microservices';
import { describe } from 'vitest';
import { brokerReachable } from '../fixtures/broker.js';
import { headerRecord } from '../fixtures/raw-headers.js';
import { describeTransport } from './transport.suite.js';

const URL = 'mqtt://127.0.0.1:1883';
const options = { url: URL, protocolVersion: 5 as const };

// MQTT 5 user properties.
describe.skipIf(!(await brokerReachable('Mosquitto (MQTT)', URL)))('MQTT 5', () => {
  describeTransport({
    name: 'MQTT5',
    server: () => ({ transport: Transport.MQTT, options }),
    client: () => ({ transport: Transport.MQTT, options }),
    async sendRaw(_app, pattern, data, headers) {
      const client = await mqtt.connectAsync(URL, { protocolVersion: 5 });
      try {
        await client.publishAsync(pattern, JSON.stringify({ pattern, data }), {
          qos: 1,
          properties: headers.length > 0 ? { userProperties: headerRecord(headers) } : {},
        });
      } finally {
        await client.endAsync();
      }
    },
    // Mosquitto drops the connection of a client that sends control characters (CR, LF, NUL).
    hostile: ['a'.repeat(5_000), 'not valid!', 'é-accent', '<script>'],
  });
});
