/**
 * Failures below us: the downstream service a handler calls with `TransactionHttpService` refuses
 * the connection, resets it (before answering, or halfway through the body), never answers,
 * answers with invalid JSON under `application/json`, or does not speak HTTP at all.
 *
 * Each time the call fails with a `TransactionHttpError` carrying the transaction ID, a code and
 * the cause; the handler lets it escape, and the user sees a 500 with the ID echoed and exactly
 * one Sentry event tagged with it. Nothing reaches `unhandledRejection`/`uncaughtException`.
 * Express and Fastify alike, with the real Sentry SDK.
 */
import 'reflect-metadata';
import type { Socket } from 'node:net';
import * as Sentry from '@sentry/node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SentryEnvelopeServer } from '../fixtures/sentry-envelope-server.js';
import { sentryTestOptions } from '../fixtures/sentry-options.js';
import { ProcessFailures } from './support/process-failures.js';
import { closedPort, portOf, RecordingServer, startTcpServer } from './support/servers.js';

const sentry = await SentryEnvelopeServer.start();
Sentry.init(sentryTestOptions({ dsn: sentry.dsn(1), tracesSampleRate: 0 }));

const { escapedErrors, startProbeApp } = await import('./support/probe-app.js');
const { TransactionContext, TransactionHttpError, TransactionHttpService } =
  await import('../../lib/index.js');
type INestApplication = import('@nestjs/common').INestApplication;

const HEADER = 'x-transaction-id';
const failures = new ProcessFailures();

/** A request a TCP peer read, and whether its connection has closed since. */
interface PeerRequest {
  head: string;
  closed: boolean;
}

/** A TCP peer that answers every request with `reply`, recording what it received. */
async function peer(reply: (socket: Socket) => void) {
  const requests: PeerRequest[] = [];
  const server = await startTcpServer((socket) => {
    let request: PeerRequest | undefined;
    socket.once('close', () => {
      if (request) request.closed = true;
    });
    socket.on('data', (chunk: Buffer) => {
      if (request) return void (request.head += chunk.toString('latin1'));
      request = { head: chunk.toString('latin1'), closed: false };
      requests.push(request);
      reply(socket);
    });
  });
  return { ...server, requests, url: `http://127.0.0.1:${server.port}/downstream` };
}

const hanging = await peer(() => undefined);
const resetEarly = await peer((socket) => socket.resetAndDestroy());
const resetMidBody = await peer((socket) => {
  socket.write(
    'HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 1000\r\n\r\n{"part',
  );
  // Late enough that the client has the head and is reading the body.
  setTimeout(() => socket.resetAndDestroy(), 300);
});
const notHttp = await peer((socket) => {
  socket.end(Buffer.from([0x00, 0xff, 0x13, 0x37, ...Buffer.from('SSH-2.0-OpenSSH_9.6\r\n\r\n')]));
});
const badJson = await RecordingServer.start((_request, response) => {
  response.writeHead(200, { 'content-type': 'application/json' }).end('{"broken": tru');
});
const failing = await RecordingServer.start((_request, response) => {
  response.writeHead(503, { 'content-type': 'application/json' }).end('{"down":true}');
});
const refusedUrl = `http://127.0.0.1:${await closedPort()}/downstream`;

afterAll(async () => {
  failures.dispose();
  await Sentry.close(2_000);
  for (const server of [hanging, resetEarly, resetMidBody, notHttp, badJson, failing]) {
    await server.close();
  }
  await sentry.close();
});

afterEach(() => {
  const errors = failures.take();
  expect(errors, failures.describe(errors)).toEqual([]);
});

const cases = [
  { name: 'refused', url: () => refusedUrl, code: 'ERR_NETWORK', cause: /ECONNREFUSED/ },
  {
    name: 'reset-before-answer',
    url: () => resetEarly.url,
    code: 'ERR_NETWORK',
    cause: /ECONNRESET|closed/,
  },
  { name: 'reset-mid-body', url: () => resetMidBody.url, code: 'ERR_NETWORK', cause: /ECONNRESET/ },
  {
    name: 'timeout',
    url: () => `${hanging.url}?t=1`,
    timeout: 300,
    code: 'ETIMEDOUT',
    cause: /TimeoutError|abort/i,
  },
  {
    name: 'invalid-json',
    url: () => badJson.url('/downstream'),
    code: 'ERR_BAD_BODY',
    cause: /JSON/,
  },
  // Node 20's undici gives the parser error its code; 22 and 24 only their message.
  {
    name: 'not-http',
    url: () => notHttp.url,
    code: 'ERR_NETWORK',
    cause: /HPE_INVALID_CONSTANT|HTTPParserError: Response does not match the HTTP\/1\.1 protocol/,
  },
  { name: 'status-503', url: () => failing.url('/downstream'), code: 'ERR_BAD_RESPONSE' },
] as const;

/** Polls `condition` every 20 ms for up to 2 s. */
async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 100 && !condition(); i++) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** The cause chain of an error as one string: messages and codes. */
function causeChain(error: unknown): string {
  const parts: string[] = [];
  let current = error;
  for (let depth = 0; depth < 5 && current instanceof Error; depth++) {
    const code = (current as { code?: unknown }).code;
    parts.push(
      `${current.name}: ${current.message}${typeof code === 'string' ? ` (${code})` : ''}`,
    );
    current = (current as { cause?: unknown }).cause;
  }
  return parts.join(' <- ');
}

describe.each(['express', 'fastify'] as const)('%s calling a failing downstream', (adapter) => {
  let app: INestApplication;
  beforeAll(async () => {
    app = await startProbeApp({ adapter });
  });
  afterAll(() => app.close());

  it.each(cases)(
    '$name: 500 to the user, a TransactionHttpError with ID and cause, one tagged event',
    async (failure) => {
      const id = `down-${adapter}-${failure.name}`;
      const query = new URLSearchParams({ url: failure.url() });
      if ('timeout' in failure) query.set('timeout', String(failure.timeout));
      const started = performance.now();

      const response = await fetch(`http://127.0.0.1:${portOf(app)}/call?${query}`, {
        headers: { [HEADER]: id },
      });

      expect(response.status).toBe(500);
      expect(response.headers.get(HEADER)).toBe(id);
      expect(performance.now() - started).toBeLessThan(10_000);

      const error = escapedErrors.at(-1) as InstanceType<typeof TransactionHttpError>;
      expect(error).toBeInstanceOf(TransactionHttpError);
      expect(error.code, causeChain(error)).toBe(failure.code);
      expect(error.transactionId).toBe(id);
      expect(error.config.url).toContain('/downstream');
      if ('cause' in failure) {
        expect(error.cause).toBeDefined();
        expect(causeChain(error.cause)).toMatch(failure.cause);
      } else {
        expect(error.status).toBe(503);
      }

      await sentry.waitFor(() => sentry.eventsFor(id).length > 0);
      expect(await Sentry.flush(5_000)).toBe(true);
      const events = sentry.eventsFor(id);
      expect(events).toHaveLength(1);
      const values = events[0].exception?.values ?? [];
      expect(values.at(-1)?.type).toBe('TransactionHttpError');
      // Sentry 11 puts the mechanism on the error reported, 10 on the innermost of its causes:
      // either way the event is unhandled.
      const carrier = Number(Sentry.SDK_VERSION.split('.')[0]) >= 11 ? values.at(-1) : values[0];
      expect(carrier?.mechanism).toMatchObject({ handled: false });
    },
  );

  it('sent the ID to the peers that read the request', () => {
    for (const [server, name] of [
      [hanging, 'timeout'],
      [resetEarly, 'reset-before-answer'],
      [notHttp, 'not-http'],
    ] as const) {
      expect(server.requests.map((r) => r.head).join('\n')).toContain(
        `${HEADER}: down-${adapter}-${name}`,
      );
    }
  });
});

describe('a call given up before it settles', () => {
  it('aborts the connection on unsubscribe, with no unhandled rejection', async () => {
    const app = await startProbeApp({ adapter: 'express' });
    try {
      const http = app.get(TransactionHttpService);
      const context = app.get(TransactionContext);
      let settled = false;

      const subscription = context.run('given-up-1', () =>
        http.get(`${hanging.url}?abandoned=1`).subscribe({
          next: () => (settled = true),
          error: () => (settled = true),
        }),
      );
      const arrived = () => hanging.requests.find((r) => r.head.includes('abandoned=1'));
      await until(() => arrived() !== undefined);
      const request = arrived()!;
      expect(request.head).toContain(`${HEADER}: given-up-1`);
      expect(request.closed).toBe(false);
      subscription.unsubscribe();
      await until(() => request.closed);

      expect(request.closed).toBe(true);
      expect(settled).toBe(false);
    } finally {
      await app.close();
    }
  });
});
