import 'reflect-metadata';
import { type AddressInfo, connect, createServer } from 'node:net';
import { Transport } from '@nestjs/microservices';
import { describe } from 'vitest';
import { headerRecord } from '../fixtures/raw-headers.js';
import { describeTransport } from './transport.suite.js';

// The reference carrier: Nest's packet metadata over TCP. No broker: each application listens
// on a port of its own.
const PORTS: Record<string, number> = {
  receiver: await freePort(),
  plain: await freePort(),
  strict: await freePort(),
};
const options = (app: string) => ({ host: '127.0.0.1', port: PORTS[app] });

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('TCP', () => {
  describeTransport({
    name: 'TCP',
    server: (app) => ({ transport: Transport.TCP, options: options(app) }),
    client: (app) => ({ transport: Transport.TCP, options: options(app) }),
    async sendRaw(app, pattern, data, headers) {
      // Nest's framing: the JSON's length, '#', the JSON.
      const metadata = headers.length > 0 ? headerRecord(headers) : undefined;
      const json = JSON.stringify({ pattern, data, metadata });
      const socket = connect(options(app));
      await new Promise<void>((resolve, reject) => {
        socket.once('error', reject);
        socket.once('connect', () => socket.end(`${json.length}#${json}`, resolve));
      });
    },
    hostile: ['a'.repeat(5_000), 'x\r\ninjected', 'é-accent', '\u0000nul', '<script>'],
  });
});
