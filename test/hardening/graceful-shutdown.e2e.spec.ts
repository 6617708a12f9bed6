/**
 * Graceful shutdown, on Express and Fastify with the real Sentry SDK: requests in flight when
 * `app.close()` is called finish normally, with their own transaction IDs (echoed, seen by the
 * handler, tagged on their Sentry events), while the server stops accepting connections at once.
 *
 * Afterwards, with the applications and Sentry closed, the process holds no more active
 * resources (timers, sockets, servers…) than before the first application started: nothing of
 * the library is left behind. Signal-driven shutdown (`enableShutdownHooks`) is exercised by the
 * soak run, whose services exit on SIGTERM; here `close()` is called directly, since a signal
 * would end the test worker.
 */
import 'reflect-metadata';
import { get } from 'node:http';
import { connect } from 'node:net';
import * as Sentry from '@sentry/node';
import { afterAll, describe, expect, it } from 'vitest';
import { SentryEnvelopeServer } from '../fixtures/sentry-envelope-server.js';
import { sentryTestOptions } from '../fixtures/sentry-options.js';
import { ProcessFailures } from './support/process-failures.js';
import { portOf } from './support/servers.js';

const sentry = await SentryEnvelopeServer.start();
Sentry.init(sentryTestOptions({ dsn: sentry.dsn(1), tracesSampleRate: 0 }));

const { inFlight, startProbeApp } = await import('./support/probe-app.js');

const HEADER = 'x-transaction-id';
const IN_FLIGHT = 10;
const HANDLER_MS = 1_500;
const failures = new ProcessFailures();

/** Active resources by type, e.g. `{ Timeout: 2, TCPSocketWrap: 1 }`. */
function resources(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const type of process.getActiveResourcesInfo()) counts[type] = (counts[type] ?? 0) + 1;
  return counts;
}

/** Whether a new TCP connection to `port` is refused. */
function refuses(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(true));
  });
}

/**
 * `GET /slow/<HANDLER_MS>` on a connection of its own that closes after the response, as a
 * load balancer draining a node would: a keep-alive client would hold Fastify's `close()` open
 * until its idle connections time out (Fastify's behaviour, with or without this library).
 */
function slowGet(port: number, id: string) {
  return new Promise<{ status: number; echoed: unknown; body: unknown; at: number }>(
    (resolve, reject) => {
      const request = get(
        {
          host: '127.0.0.1',
          port,
          path: `/slow/${HANDLER_MS}?capture=1`,
          agent: false,
          headers: { [HEADER]: id },
        },
        (response) => {
          let text = '';
          response.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
          response.on('end', () =>
            resolve({
              status: response.statusCode ?? 0,
              echoed: response.headers[HEADER],
              body: JSON.parse(text),
              at: performance.now(),
            }),
          );
        },
      );
      request.on('error', reject);
    },
  );
}

// Taken before any application exists; compared once everything is closed.
const resourcesBefore = resources();

afterAll(() => failures.dispose());

describe.each(['express', 'fastify'] as const)('%s', (adapter) => {
  it('finishes in-flight requests with their IDs and refuses new connections once closing', async () => {
    const app = await startProbeApp({ adapter });
    const port = portOf(app);

    const ids = Array.from({ length: IN_FLIGHT }, (_, i) => `shutdown-${adapter}-${i}`);
    const requests = ids.map((id) => slowGet(port, id));
    // Every request inside its handler before the shutdown starts.
    for (let i = 0; i < 250 && inFlight.slow < IN_FLIGHT; i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(inFlight.slow).toBe(IN_FLIGHT);

    const closing = app.close().then(() => performance.now());
    let refusedAt: number | undefined;
    for (let i = 0; i < 100 && refusedAt === undefined; i++) {
      if (await refuses(port)) refusedAt = performance.now();
      else await new Promise((resolve) => setTimeout(resolve, 10));
    }
    const answers = await Promise.all(requests);
    const closedAt = await closing;

    expect(refusedAt).toBeDefined();
    expect(refusedAt!).toBeLessThan(Math.min(...answers.map((a) => a.at)));
    for (const [i, answer] of answers.entries()) {
      expect(answer.status).toBe(200);
      expect(answer.echoed).toBe(ids[i]);
      expect(answer.body).toEqual({ id: ids[i], context: ids[i] });
    }
    expect(closedAt).toBeGreaterThanOrEqual(Math.max(...answers.map((a) => a.at)) - 50);

    await sentry.waitFor(() => ids.every((id) => sentry.eventsFor(id).length === 1));
    for (const id of ids) expect(sentry.eventsFor(id)[0].message).toBe(`slow ${id}`);
    expect(failures.errors, failures.describe()).toEqual([]);
  });
});

describe('after every application and Sentry have closed', () => {
  it('leaves no more active resources than there were before', async () => {
    expect(await Sentry.close(5_000)).toBe(true);
    // The envelope endpoint lives in this process: its end of the SDK's keep-alive connections
    // would count. Sockets closed by a peer finish closing on the next turns of the event loop.
    await sentry.close();
    await new Promise((resolve) => setTimeout(resolve, 100));
    const after = resources();

    const grown = Object.entries(after).filter(([type, n]) => n > (resourcesBefore[type] ?? 0));
    expect(
      grown,
      `before ${JSON.stringify(resourcesBefore)}, after ${JSON.stringify(after)}`,
    ).toEqual([]);
    await sentry.close();
  });
});
