import 'reflect-metadata';
import { HttpService } from '@nestjs/axios';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalServer } from '../http-client/support/local-server.js';
import type { RunningApp } from '../fixtures/nest-app.js';
import { callThrough, startForwardingApp } from './support/forwarding-app.js';
import {
  CLIENT_NAMES,
  CLIENTS,
  NODE_HTTP_CLIENTS,
  NODE_HTTP_FORWARDS,
  GOT_UNAVAILABLE,
} from './support/http-clients.js';

// Every client an application may already use, called from a Nest request with no code for the
// ID, to real servers on 127.0.0.1 that record what arrived. `allowed` and `other` are propagation
// targets, `outside` is not.
let allowed: LocalServer;
let other: LocalServer;
let outside: LocalServer;
let app: RunningApp;

beforeAll(async () => {
  [allowed, other, outside] = await Promise.all([
    LocalServer.start(),
    LocalServer.start(),
    LocalServer.start(),
  ]);
  for (const [server, target] of [
    [allowed, other],
    [other, allowed],
  ] as const) {
    server.handle((request, response, received) => {
      if (request.url === '/to-other-origin') {
        response.writeHead(302, { location: target.url('/landed') }).end();
      } else if (request.url === '/to-same-origin') {
        response.writeHead(302, { location: '/landed' }).end();
      } else if (request.url?.startsWith('/hop?')) {
        response.writeHead(302, { location: request.url.replace('/hop?', '/landed?') }).end();
      } else {
        response.writeHead(200, { 'content-type': 'text/plain' });
        response.end(String(received.headers['x-transaction-id'] ?? '-'));
      }
    });
  }
  app = await startForwardingApp({
    propagationTargets: [`${allowed.origin}/`, `${other.origin}/`],
  });
});

afterAll(async () => {
  await app?.close();
  await Promise.all([allowed?.close(), other?.close(), outside?.close()]);
});

describe.each(CLIENT_NAMES)('%s inside a Nest request', (client) => {
  const forwards = !NODE_HTTP_CLIENTS.has(client) || NODE_HTTP_FORWARDS;

  it.runIf(forwards)('forwards the request’s ID to an allowed target, once', async () => {
    const body = await callThrough(app, client, allowed.url('/'), `${safe(client)}-allowed`);

    expect(body).toBe(`${safe(client)}-allowed`);
    expect(allowed.headerLines('x-transaction-id')).toEqual([`${safe(client)}-allowed`]);
  });

  it.runIf(!forwards)(
    'does not forward on Node.js 20: it has no channel where a node:http request takes a header',
    async () => {
      expect(await callThrough(app, client, allowed.url('/'), `${safe(client)}-node20`)).toBe('-');
    },
  );

  it('sends nothing to a URL propagationTargets does not allow', async () => {
    await callThrough(app, client, outside.url('/'), `${safe(client)}-outside`);

    expect(outside.headerLines('x-transaction-id')).toEqual([]);
  });

  it('keeps a header the call set itself', async () => {
    await callThrough(app, client, allowed.url('/'), `${safe(client)}-request`, 'chosen-by-caller');

    expect(allowed.headerLines('x-transaction-id')).toEqual(['chosen-by-caller']);
  });

  it.runIf(forwards)('keeps the ID on a redirect to the same origin', async () => {
    const body = await callThrough(
      app,
      client,
      allowed.url('/to-same-origin'),
      `${safe(client)}-same`,
    );

    expect(allowed.requests.at(-1)!.url).toBe('/landed');
    if (client === 'undici.request') {
      // undici's redirect interceptor makes the hop in the async context of the socket, which an
      // earlier request may have opened: such a hop cannot be told from that request's own call,
      // and gets nothing rather than its ID.
      expect([`${safe(client)}-same`, '-']).toContain(body);
    } else {
      expect(body).toBe(`${safe(client)}-same`);
    }
  });

  it.runIf(forwards)('drops the ID on a redirect to another origin', async () => {
    const body = await callThrough(
      app,
      client,
      allowed.url('/to-other-origin'),
      `${safe(client)}-x`,
    );

    expect(allowed.headerLines('x-transaction-id')).toEqual([`${safe(client)}-x`]);
    expect(other.requests.at(-1)!.url).toBe('/landed');
    expect(body).toBe('-');
  });

  it('sends nothing outside any unit of work', async () => {
    const body = await CLIENTS[client]!(allowed.url('/'), app.app.get(HttpService));

    expect(body).toBe('-');
  });
});

describe('a redirect left unfollowed', () => {
  it('never hands its ID to another request’s call to the same URL', async () => {
    expect(
      await callThrough(app, 'fetch, redirect: manual', allowed.url('/to-same-origin'), 'left'),
    ).toBe('302');

    const body = await callThrough(app, 'fetch', allowed.url('/landed'), 'next-request');

    expect(body).not.toBe('left');
  });
});

describe('TransactionHttpService with the instrumentation on', () => {
  it('sends the ID once', async () => {
    const body = await callThrough(app, 'TransactionHttpService', allowed.url('/'), 'ths-once');

    expect(body).toBe('ths-once');
    expect(allowed.headerLines('x-transaction-id')).toEqual(['ths-once']);
  });

  it('still drops it on a redirect to another origin', async () => {
    const url = allowed.url('/to-other-origin');
    expect(await callThrough(app, 'TransactionHttpService', url, 'ths-x')).toBe('-');
  });
});

describe.each(['fetch', 'axios', 'undici.request'])('200 concurrent requests with %s', (client) => {
  it.runIf(!NODE_HTTP_CLIENTS.has(client) || NODE_HTTP_FORWARDS)(
    'each downstream call carries the ID of the request that made it',
    async () => {
      const ids = Array.from({ length: 200 }, (_, i) => `${safe(client)}-concurrent-${i}`);

      const bodies = await Promise.all(
        ids.map((id) => callThrough(app, client, allowed.url('/'), id)),
      );

      expect(bodies).toEqual(ids);
    },
  );
});

/** A client's name as a valid transaction ID part (`@nestjs/axios` → `nestjs-axios`). */
function safe(client: string): string {
  return client.replace(/[^A-Za-z0-9.]+/g, '-').replace(/^-/, '');
}

describe.each(['fetch', 'axios', 'got'])('100 concurrent redirected calls with %s', (client) => {
  it.runIf(
    (!NODE_HTTP_CLIENTS.has(client) || NODE_HTTP_FORWARDS) &&
      (client !== 'got' || GOT_UNAVAILABLE === undefined),
  )('each hop carries the ID of the request that made the call', async () => {
    const ids = Array.from({ length: 100 }, (_, i) => `${client}-hop-${i}`);

    const bodies = await Promise.all(
      ids.map((id, i) => callThrough(app, client, allowed.url(`/hop?n=${i}`), id)),
    );

    expect(bodies).toEqual(ids);
  });
});
