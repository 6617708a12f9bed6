import * as Sentry from '@sentry/node';
import type { INestApplication } from '@nestjs/common';
import { WebSocket } from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SentryEnvelopeServer } from '../fixtures/sentry-envelope-server.js';
import { sentryTestOptions } from '../fixtures/sentry-options.js';
import { summary } from '../fixtures/sentry-events.js';
import { seen, startGatewayApp, type OrderMessage } from './support/gateway-app.js';

// Plain WebSocket gateways (@nestjs/platform-ws) with nothing but forRoot(): one ID per
// connection from the upgrade request's header (Node clients) or query parameter (browsers),
// echoed on the upgrade response; one unit of work per message.
const HEADER = 'x-transaction-id';

let sentry: SentryEnvelopeServer;
let app: INestApplication;
let port: number;
const clients: WebSocket[] = [];

beforeAll(async () => {
  sentry = await SentryEnvelopeServer.start();
  Sentry.init(sentryTestOptions({ dsn: sentry.dsn(1) }));
  ({ app, port } = await startGatewayApp('ws'));
});

afterAll(async () => {
  for (const client of clients) client.terminate();
  await app?.close();
  await Sentry.close(2_000);
  await sentry?.close();
});

interface Connection {
  readonly client: WebSocket;
  /** The ID the server gave the connection, from the upgrade response. */
  readonly id: string | undefined;
  /** Sends an order and resolves with the server's answer to it. */
  order(message: OrderMessage): Promise<{ n: number; id: string }>;
}

async function connect(
  options: { query?: string; headers?: Record<string, string>; to?: number } = {},
): Promise<Connection> {
  const client = new WebSocket(`ws://127.0.0.1:${options.to ?? port}/${options.query ?? ''}`, {
    headers: options.headers,
  });
  clients.push(client);
  const answers = new Map<number, (answer: { n: number; id: string }) => void>();
  client.on('message', (raw) => {
    const answer = JSON.parse(String(raw)) as { n: number; id: string };
    answers.get(answer.n)?.(answer);
  });
  const id = await new Promise<string | undefined>((resolve, reject) => {
    let echoed: string | undefined;
    client.once('upgrade', (response) => (echoed = response.headers[HEADER] as string));
    client.once('open', () => resolve(echoed));
    client.once('error', reject);
  });
  return {
    client,
    id,
    order: (message) =>
      new Promise((resolve) => {
        answers.set(message.n, resolve);
        client.send(JSON.stringify({ event: 'order', data: message }));
      }),
  };
}

describe('ws connections', () => {
  it("take a Node client's upgrade header, for the connection, its guards and handlers", async () => {
    const id = 'ws-header-5e1d';
    const connection = await connect({ headers: { [HEADER]: id } });
    expect(connection.id).toBe(id);
    expect(await connection.order({ n: 1 })).toEqual({ n: 1, id });
    expect(seen.filter((s) => s.id === id).map((s) => s.where)).toEqual([
      'connect',
      'guard',
      'handler',
    ]);
  });

  it('take the query parameter a browser can set', async () => {
    const id = 'ws-query-77aa';
    const connection = await connect({ query: `?${HEADER}=${id}` });
    expect(connection.id).toBe(id);
    expect(await connection.order({ n: 2 })).toEqual({ n: 2, id });
  });

  it('get a fresh ID, echoed on the upgrade, when none or an invalid one is sent', async () => {
    const none = await connect();
    const invalid = await connect({ query: `?${HEADER}=${encodeURIComponent('bad id;drop')}` });
    for (const connection of [none, invalid]) {
      expect(connection.id).toMatch(/^[0-9a-f-]{36}$/);
      expect(await connection.order({ n: 3 })).toEqual({ n: 3, id: connection.id });
    }
    expect(seen.some((s) => s.id === 'bad id;drop')).toBe(false);
  });

  it('run a message that carries its own ID as a transaction of its own', async () => {
    const connection = await connect({ headers: { [HEADER]: 'ws-connection-3' } });
    expect(await connection.order({ n: 4, [HEADER]: 'ws-click-9' })).toEqual({
      n: 4,
      id: 'ws-click-9',
    });
    expect(await connection.order({ n: 5 })).toEqual({ n: 5, id: 'ws-connection-3' });
  });

  it('run handleDisconnect under the connection ID', async () => {
    const id = 'ws-leaving-8';
    const connection = await connect({ headers: { [HEADER]: id } });
    connection.client.close();
    await expect.poll(() => seen.some((s) => s.where === 'disconnect' && s.id === id)).toBe(true);
  });
});

describe('ws under load, with Sentry', () => {
  it('50 connections × 4 messages, half failing: each failure once, with its own ID', async () => {
    sentry.clear();
    const connections = await Promise.all(
      Array.from({ length: 50 }, (_, c) => connect({ query: `?${HEADER}=ws-load-${c}` })),
    );
    await Promise.all(
      connections.flatMap((connection, c) =>
        [0, 1, 2, 3].map(async (m) => {
          const n = c * 4 + m;
          if (m % 2 === 1) {
            connection.client.send(JSON.stringify({ event: 'order', data: { n, fail: true } }));
          } else {
            expect(await connection.order({ n })).toEqual({ n, id: `ws-load-${c}` });
          }
        }),
      ),
    );
    await sentry.waitFor((events) => events.length >= 100);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(sentry.events).toHaveLength(100);
    for (const event of sentry.events) {
      const [, n, id] = /^order (\d+) failed in (\S+)$/.exec(summary(event) ?? '')!;
      expect(event.tags?.transaction_id).toBe(id);
      expect(id).toBe(`ws-load-${Math.floor(Number(n) / 4)}`);
    }
  });
});

describe('ws with invalid: reject', () => {
  it('closes the connection with 1008 and a clear reason', async () => {
    const strict = await startGatewayApp('ws', { invalid: 'reject' });
    try {
      const client = new WebSocket(
        `ws://127.0.0.1:${strict.port}/?${HEADER}=${encodeURIComponent('bad id!')}`,
      );
      clients.push(client);
      const [code, reason] = await new Promise<[number, string]>((resolve) =>
        client.once('close', (closeCode, closeReason) => resolve([closeCode, String(closeReason)])),
      );
      expect(code).toBe(1008);
      expect(reason).toBe(`Invalid ${HEADER}: send one valid transaction ID.`);
      const ok = await connect({ headers: { [HEADER]: 'ws-strict-ok' }, to: strict.port });
      expect(await ok.order({ n: 6 })).toEqual({ n: 6, id: 'ws-strict-ok' });
    } finally {
      await strict.app.close();
    }
  });
});
