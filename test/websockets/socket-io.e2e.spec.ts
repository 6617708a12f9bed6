import * as Sentry from '@sentry/node';
import type { INestApplication } from '@nestjs/common';
import { io, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SentryEnvelopeServer } from '../fixtures/sentry-envelope-server.js';
import { sentryTestOptions } from '../fixtures/sentry-options.js';
import { summary } from '../fixtures/sentry-events.js';
import { seen, startGatewayApp, type OrderMessage } from './support/gateway-app.js';

// socket.io gateways with nothing but forRoot(): one ID per connection, read from what a browser
// can send (the `auth` payload) or a Node client's handshake header; one unit of work per message.
const HEADER = 'x-transaction-id';

let sentry: SentryEnvelopeServer;
let app: INestApplication;
let url: string;
const sockets: Socket[] = [];

beforeAll(async () => {
  sentry = await SentryEnvelopeServer.start();
  Sentry.init(sentryTestOptions({ dsn: sentry.dsn(1) }));
  const started = await startGatewayApp('socket.io');
  app = started.app;
  url = `http://127.0.0.1:${started.port}`;
});

afterAll(async () => {
  for (const socket of sockets) socket.disconnect();
  await app?.close();
  await Sentry.close(2_000);
  await sentry?.close();
});

/** Connects and resolves with the socket and the ID the server gave back for the connection. */
async function connect(
  options: { auth?: Record<string, string>; extraHeaders?: Record<string, string> } = {},
): Promise<{ socket: Socket; id: string }> {
  const socket = io(url, { transports: ['websocket'], forceNew: true, ...options });
  sockets.push(socket);
  const id = await new Promise<string>((resolve, reject) => {
    socket.once(HEADER, resolve);
    socket.once('connect_error', reject);
  });
  return { socket, id };
}

function order(socket: Socket, message: OrderMessage): Promise<{ n: number; id: string }> {
  return socket.emitWithAck('order', message);
}

describe('socket.io connections', () => {
  it('take the ID a browser sends in `auth`, for the connection, its guards and handlers', async () => {
    const id = 'io-auth-1f3a';
    const { socket, id: given } = await connect({ auth: { [HEADER]: id } });
    expect(given).toBe(id);
    expect(await order(socket, { n: 1 })).toEqual({ n: 1, id });
    expect(await order(socket, { n: 2 })).toEqual({ n: 2, id });
    expect(seen.filter((s) => s.id === id).map((s) => s.where)).toEqual([
      'connect',
      'guard',
      'handler',
      'guard',
      'handler',
    ]);
  });

  it("take a Node client's handshake header", async () => {
    const id = 'io-header-9b2c';
    const { socket, id: given } = await connect({ extraHeaders: { [HEADER]: id } });
    expect(given).toBe(id);
    expect(await order(socket, { n: 3 })).toEqual({ n: 3, id });
  });

  it('get a fresh ID when none or an invalid one is sent, and the client learns it', async () => {
    const none = await connect();
    const invalid = await connect({ auth: { [HEADER]: 'bad id\r\nx' } });
    for (const { socket, id } of [none, invalid]) {
      expect(id).toMatch(/^[0-9a-f-]{36}$/);
      expect(await order(socket, { n: 4 })).toEqual({ n: 4, id });
    }
    expect(none.id).not.toBe(invalid.id);
    expect(seen.some((s) => s.id === 'bad id\r\nx')).toBe(false);
  });

  it('run a message that carries its own ID as a transaction of its own', async () => {
    const { socket, id } = await connect({ auth: { [HEADER]: 'io-connection-77' } });
    expect(await order(socket, { n: 5, [HEADER]: 'io-place-order-click' })).toEqual({
      n: 5,
      id: 'io-place-order-click',
    });
    expect(await order(socket, { n: 6 })).toEqual({ n: 6, id });
  });

  it('run handleDisconnect under the connection ID', async () => {
    const id = 'io-leaving-42';
    const { socket } = await connect({ auth: { [HEADER]: id } });
    socket.disconnect();
    await expect.poll(() => seen.some((s) => s.where === 'disconnect' && s.id === id)).toBe(true);
  });
});

describe('socket.io under load, with Sentry', () => {
  it('50 connections × 4 messages, half failing: each failure once, with its own ID', async () => {
    sentry.clear();
    const connections = await Promise.all(
      Array.from({ length: 50 }, (_, c) => connect({ auth: { [HEADER]: `io-load-${c}` } })),
    );
    await Promise.all(
      connections.flatMap(({ socket }, c) =>
        [0, 1, 2, 3].map(async (m) => {
          const n = c * 4 + m;
          const fail = m % 2 === 1;
          socket.emit('order', { n, fail });
          if (!fail)
            expect(await order(socket, { n: n + 10_000 })).toMatchObject({ id: `io-load-${c}` });
        }),
      ),
    );
    await sentry.waitFor((events) => events.length >= 100);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(sentry.events).toHaveLength(100);
    for (const event of sentry.events) {
      const [, n, id] = /^order (\d+) failed in (\S+)$/.exec(summary(event) ?? '')!;
      expect(event.tags?.transaction_id).toBe(id);
      expect(id).toBe(`io-load-${Math.floor(Number(n) / 4)}`);
    }
    expect(new Set(sentry.events.map(summary)).size).toBe(100);
  });

  it('does not report a WsException: it is an answer', async () => {
    sentry.clear();
    const { socket } = await connect({ auth: { [HEADER]: 'io-refused-1' } });
    const answer = new Promise((resolve) => socket.once('exception', resolve));
    socket.emit('refuse', {});
    expect(await answer).toMatchObject({ message: 'not allowed' });
    // A failure next to it is reported, so the WsException had its chance to be.
    socket.emit('order', { n: 7, fail: true });
    await sentry.waitFor((events) => events.length >= 1);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(sentry.events.map(summary)).toEqual(['order 7 failed in io-refused-1']);
  });
});

describe('socket.io with invalid: reject', () => {
  it('refuses the connection with a clear reason, and the app keeps serving', async () => {
    const strict = await startGatewayApp('socket.io', { invalid: 'reject', require: true });
    try {
      const strictUrl = `http://127.0.0.1:${strict.port}`;
      const refusal = (auth?: Record<string, string>) =>
        new Promise<string>((resolve) => {
          const socket = io(strictUrl, { transports: ['websocket'], forceNew: true, auth });
          sockets.push(socket);
          socket.once('connect_error', (error) => resolve(error.message));
        });
      expect(await refusal({ [HEADER]: 'bad id!' })).toBe(
        `Invalid ${HEADER}: send one valid transaction ID.`,
      );
      expect(await refusal()).toBe(
        `Missing ${HEADER}: this service must be called with a transaction ID.`,
      );
      const socket = io(strictUrl, {
        transports: ['websocket'],
        forceNew: true,
        auth: { [HEADER]: 'io-strict-ok' },
      });
      sockets.push(socket);
      expect(await socket.emitWithAck('order', { n: 8 })).toEqual({ n: 8, id: 'io-strict-ok' });
    } finally {
      await strict.app.close();
    }
  });
});
