import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import mqtt from 'mqtt';
import { Transport } from '@nestjs/microservices';
import { afterAll, describe, expect, it } from 'vitest';
import { mqttCarrier } from 'nestjs-transaction-id';
import { brokerReachable } from '../fixtures/broker.js';
import { headerRecord } from '../fixtures/raw-headers.js';
import { type Gateway, patternOf, startGateway, viaGateway } from '../fixtures/transport-apps.js';
import { describeTransport } from './transport.suite.js';

const URL = 'mqtt://127.0.0.1:1883';
const options = { url: URL }; // ClientMqtt's default protocol: 3.1.1, which has no headers

// MQTT 3.1.1: the envelope (Nest's packet metadata in the JSON body), opt-in on the sender.
describe.skipIf(!(await brokerReachable('Mosquitto (MQTT)', URL)))('MQTT 3.1.1', () => {
  describeTransport({
    name: 'MQTT311',
    gatewayOptions: { carriers: [mqttCarrier({ envelope: true })] },
    server: () => ({ transport: Transport.MQTT, options }),
    client: () => ({ transport: Transport.MQTT, options }),
    async sendRaw(_app, pattern, data, headers) {
      const client = await mqtt.connectAsync(URL);
      try {
        const metadata = headers.length > 0 ? headerRecord(headers) : undefined;
        await client.publishAsync(pattern, JSON.stringify({ pattern, data, metadata }), { qos: 1 });
      } finally {
        await client.endAsync();
      }
    },
    hostile: ['a'.repeat(5_000), 'x\r\ninjected', 'é-accent', '\u0000nul', '<script>'],
  });

  describe('what a raw MQTT subscriber gets', () => {
    const gateways: Gateway[] = [];
    afterAll(async () => {
      for (const gateway of gateways) await gateway.close();
    });

    /** The body a raw subscriber gets for an event emitted by a gateway with `envelope`. */
    async function rawBody(envelope: boolean, id: string): Promise<unknown> {
      const prefix = `tid-raw-${randomUUID().slice(0, 8)}`;
      const carriers = envelope ? [mqttCarrier({ envelope: true })] : [];
      const gateway = await startGateway({ transport: Transport.MQTT, options }, prefix, {
        options: { carriers },
      });
      gateways.push(gateway);
      const subscriber = await mqtt.connectAsync(URL);
      try {
        await subscriber.subscribeAsync(patternOf(prefix, 'record'), { qos: 1 });
        const body = new Promise((resolve) =>
          subscriber.once('message', (_topic, payload) => resolve(JSON.parse(payload.toString()))),
        );
        await viaGateway(gateway, 'emit/record', id, { key: 'k' });
        return await body;
      } finally {
        await subscriber.endAsync();
      }
    }

    it('by default, exactly what Nest sends without the library', async () => {
      const body = await rawBody(false, 'mqtt311-default');
      expect(body).toEqual({ pattern: expect.any(String), data: { key: 'k' } });
    });

    it("with the envelope, Nest's packet metadata beside pattern and data", async () => {
      const body = await rawBody(true, 'mqtt311-envelope');
      expect(body).toEqual({
        pattern: expect.any(String),
        data: { key: 'k' },
        metadata: { 'x-transaction-id': 'mqtt311-envelope' },
      });
    });
  });
});
