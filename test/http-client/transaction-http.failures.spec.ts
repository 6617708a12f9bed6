import 'reflect-metadata';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { firstValueFrom } from 'rxjs';
import { closedPort, LocalServer, within } from './support/local-server.js';
import {
  createHttpClient,
  failureOf,
  type HttpClientHarness,
  watchUnhandledRejections,
} from './support/http-client-harness.js';

let server: LocalServer;
let client: HttpClientHarness;
let rejections: ReturnType<typeof watchUnhandledRejections>;

/** Long enough for any connection the client leaves open to be noticed, short for a test. */
const SETTLE_MS = 100;
/** The server must see a connection closed within this; nothing else closes it so soon. */
const CLOSE_WITHIN_MS = 5_000;

beforeAll(async () => {
  server = await LocalServer.start();
  client = await createHttpClient();
});

afterAll(async () => {
  await client.close();
  await server.close();
});

beforeEach(() => {
  rejections = watchUnhandledRejections();
});

afterEach(async () => {
  // A rejection that escaped would surface within a few turns of the event loop.
  await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
  rejections.stop();
  expect(rejections.reasons).toEqual([]);
});

/** A handler that takes the request and never answers. */
const hang = () => server.handle(() => undefined);

describe('failures without an answer', () => {
  it('fails with ERR_NETWORK and the cause when the connection is refused', async () => {
    const port = await closedPort();

    const error = await client.context.run('refused-1', () =>
      failureOf(client.http.get(`http://127.0.0.1:${port}/orders`)),
    );

    expect(error.code).toBe('ERR_NETWORK');
    expect(error.transactionId).toBe('refused-1');
    expect(error.response).toBeUndefined();
    expect(error.status).toBeUndefined();
    expect(error.cause).toBeInstanceOf(Error);
    expect((error.cause as Error & { cause?: { code?: string } }).cause?.code).toBe('ECONNREFUSED');
    expect(error.message).toMatch(
      /^Request failed: GET http:\/\/127\.0\.0\.1:\d+\/orders: .*ECONNREFUSED/,
    );
  });

  it('fails with ERR_NETWORK when the server drops the connection before answering', async () => {
    server.handle((request) => {
      request.socket.destroy();
    });

    const error = await failureOf(client.http.post(server.url('/drop'), { a: 1 }));

    expect(error.code).toBe('ERR_NETWORK');
    expect(error.response).toBeUndefined();
    expect(error.cause).toBeInstanceOf(Error);
  });
});

describe('a connection reset in the middle of the response', () => {
  /** Sends the head and part of a body, then resets the connection. */
  const resetMidBody = (contentType: string) =>
    server.handle((request, response) => {
      response.writeHead(200, { 'content-type': contentType, 'content-length': 1000 });
      response.write('{"items": [1, 2, ', () => {
        setTimeout(() => request.socket.resetAndDestroy(), 20);
      });
    });

  it('fails the call (JSON body), with no unhandled rejection', async () => {
    resetMidBody('application/json');

    const error = await client.context.run('reset-1', () =>
      failureOf(client.http.get(server.url('/reset'))),
    );

    expect(error.transactionId).toBe('reset-1');
    expect(error.status).toBe(200);
    expect(error.cause).toBeInstanceOf(Error);
    expect(['ERR_NETWORK', 'ERR_BAD_BODY']).toContain(error.code);
  });

  it('reports the reset as ERR_NETWORK, not as a body that is not JSON', async () => {
    resetMidBody('text/plain');

    const error = await failureOf(client.http.get(server.url('/reset-text')));

    // ERR_BAD_BODY is documented as "the response said JSON but its body was not"; this body
    // is text and was cut off by the network.
    expect(error.code).toBe('ERR_NETWORK');
  });
});

describe('timeout', () => {
  it('fails with ETIMEDOUT and closes the connection when no answer comes in time', async () => {
    hang();

    const failure = client.context.run('slow-1', () =>
      failureOf(client.http.get(server.url('/slow'), { timeout: 150 })),
    );
    const received = await server.nextRequest();
    const error = await failure;

    expect(error.code).toBe('ETIMEDOUT');
    expect(error.message).toBe(`Timeout of 150 ms exceeded: GET ${server.url('/slow')}`);
    expect(error.transactionId).toBe('slow-1');
    await within(received.closed, CLOSE_WITHIN_MS, 'server sees the connection closed');
    expect(received.answered()).toBe(false);
  });

  it('fails with ETIMEDOUT when the body stalls after the head', async () => {
    server.handle((_request, response) => {
      response.writeHead(200, { 'content-type': 'application/json', 'content-length': 100 });
      response.write('{"partial":');
    });

    const failure = failureOf(client.http.get(server.url('/stall'), { timeout: 150 }));
    const received = await server.nextRequest();
    const error = await failure;

    expect(error.code).toBe('ETIMEDOUT');
    expect(error.status).toBe(200);
    await within(received.closed, CLOSE_WITHIN_MS, 'server sees the connection closed');
  });

  it('does not fail a call that answers in time', async () => {
    server.handle((_request, response) => {
      response.writeHead(200, { 'content-type': 'text/plain' }).end('quick');
    });

    const response = await firstValueFrom(
      client.http.get(server.url('/quick'), { timeout: 5_000 }),
    );

    expect(response.data).toBe('quick');
  });
});

describe("the caller's signal", () => {
  it('fails with ERR_CANCELED and closes the connection when aborted', async () => {
    hang();
    const controller = new AbortController();

    const failure = client.context.run('cancel-1', () =>
      failureOf(client.http.get(server.url('/cancel'), { signal: controller.signal })),
    );
    const received = await server.nextRequest();
    controller.abort();
    const error = await failure;

    expect(error.code).toBe('ERR_CANCELED');
    expect(error.transactionId).toBe('cancel-1');
    expect(error.message).toBe(`Request aborted: GET ${server.url('/cancel')}`);
    await within(received.closed, CLOSE_WITHIN_MS, 'server sees the connection closed');
    expect(received.answered()).toBe(false);
  });

  it('fails with ERR_CANCELED without sending when already aborted', async () => {
    const before = server.requests.length;

    const error = await failureOf(
      client.http.post(server.url('/never'), { a: 1 }, { signal: AbortSignal.abort() }),
    );

    expect(error.code).toBe('ERR_CANCELED');
    await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
    expect(server.requests.length).toBe(before);
  });

  it('wins over a timeout that has not elapsed', async () => {
    hang();
    const controller = new AbortController();

    const failure = failureOf(
      client.http.get(server.url('/both'), { signal: controller.signal, timeout: 20_000 }),
    );
    await server.nextRequest();
    controller.abort();

    expect((await failure).code).toBe('ERR_CANCELED');
  });
});

describe('unsubscribing', () => {
  it('aborts the call: the server sees the connection closed, the subscriber hears nothing', async () => {
    hang();
    const heard: string[] = [];

    const subscription = client.context.run('unsub-1', () =>
      client.http.get(server.url('/unsubscribe')).subscribe({
        next: () => heard.push('next'),
        error: (error: unknown) => heard.push(`error ${String(error)}`),
        complete: () => heard.push('complete'),
      }),
    );
    const received = await server.nextRequest();
    expect(received.headers['x-transaction-id']).toBe('unsub-1');
    subscription.unsubscribe();

    await within(received.closed, CLOSE_WITHIN_MS, 'server sees the connection closed');
    expect(received.answered()).toBe(false);
    await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
    expect(heard).toEqual([]);
  });

  it('aborts while the body is still coming', async () => {
    server.handle((_request, response) => {
      response.writeHead(200, { 'content-type': 'text/plain', 'content-length': 1_000_000 });
      response.write('first part');
    });
    const heard: string[] = [];

    const subscription = client.http
      .get(server.url('/long-body'))
      .subscribe({ next: () => heard.push('next'), error: () => heard.push('error') });
    const received = await server.nextRequest();
    // Let the head reach the client, so the abort lands while the body is read.
    await new Promise((resolve) => setTimeout(resolve, 50));
    subscription.unsubscribe();

    await within(received.closed, CLOSE_WITHIN_MS, 'server sees the connection closed');
    expect(heard).toEqual([]);
  });
});
