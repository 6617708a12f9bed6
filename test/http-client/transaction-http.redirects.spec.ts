import 'reflect-metadata';
import { Readable } from 'node:stream';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { firstValueFrom } from 'rxjs';
import type { TransactionModuleOptions } from '../../lib/index.js';
import { echo, type Handler, LocalServer } from './support/local-server.js';
import {
  createHttpClient,
  failureOf,
  type HttpClientHarness,
} from './support/http-client-harness.js';

/** Where the redirecting server sends each path: `[status, location]`. */
let routes: Record<string, [number, () => string]> = {};

const redirecting: Handler = (request, response, received) => {
  const route = routes[new URL(request.url ?? '/', 'http://x').pathname];
  if (route === undefined) return echo(request, response, received);
  const [status, location] = route;
  response.writeHead(status, { location: location() }).end();
};

let serverA: LocalServer;
let serverB: LocalServer;
let client: HttpClientHarness | undefined;

beforeAll(async () => {
  [serverA, serverB] = await Promise.all([LocalServer.start(redirecting), LocalServer.start()]);
});

afterAll(async () => {
  await Promise.all([serverA.close(), serverB.close()]);
});

afterEach(async () => {
  await client?.close();
  client = undefined;
  routes = {};
});

async function clientWith(options?: TransactionModuleOptions): Promise<HttpClientHarness> {
  client = await createHttpClient(options);
  return client;
}

/** The requests `server` received since `mark` (a count of requests). */
const since = (server: LocalServer, mark: number) => server.requests.slice(mark);

describe('redirects of TransactionHttpService calls', () => {
  it('keeps the ID on a redirect within the same origin', async () => {
    const { http, context } = await clientWith();
    routes['/start'] = [302, () => '/final'];
    const mark = serverA.requests.length;

    const response = await context.run('same-1', () =>
      firstValueFrom(http.get(serverA.url('/start'))),
    );

    expect(response.status).toBe(200);
    expect(since(serverA, mark).map((r) => [r.url, r.headers['x-transaction-id']])).toEqual([
      ['/start', 'same-1'],
      ['/final', 'same-1'],
    ]);
  });

  it.each([
    ['another port', () => serverB.url('/final'), () => serverB],
    ['another host name', () => serverA.url('/final', 'localhost'), () => serverA],
  ])('drops the ID on a redirect to %s', async (_, location, target) => {
    const { http, context } = await clientWith();
    routes['/away'] = [302, location];
    const mark = target().requests.length;

    const response = await context.run('cross-1', () =>
      firstValueFrom(http.get(serverA.url('/away'))),
    );

    expect(response.status).toBe(200);
    const arrived = since(target(), mark).at(-1)!;
    expect(arrived.url).toBe('/final');
    expect(arrived.headers['x-transaction-id']).toBeUndefined();
  });

  it('drops the ID on a redirect to a URL outside propagationTargets', async () => {
    const { http, context } = await clientWith({
      propagationTargets: [`127.0.0.1:${serverA.port}/api/`],
    });
    routes['/api/start'] = [307, () => '/web/final'];
    const mark = serverA.requests.length;

    await context.run('targets-1', () => firstValueFrom(http.get(serverA.url('/api/start'))));

    expect(since(serverA, mark).map((r) => [r.url, r.headers['x-transaction-id']])).toEqual([
      ['/api/start', 'targets-1'],
      ['/web/final', undefined],
    ]);
  });

  it('drops credentials on a redirect to another origin, keeps them within one', async () => {
    const { http, context } = await clientWith();
    routes['/login'] = [302, () => '/home'];
    routes['/leave'] = [302, () => serverB.url('/elsewhere')];
    const headers = { authorization: 'Bearer secret', cookie: 'session=1', 'x-tenant': 't-1' };

    await context.run('creds-1', async () => {
      await firstValueFrom(http.get(serverA.url('/login'), { headers }));
      await firstValueFrom(http.get(serverA.url('/leave'), { headers }));
    });

    expect(serverA.requests.at(-2)!.headers).toMatchObject({
      authorization: 'Bearer secret',
      cookie: 'session=1',
    });
    const away = serverB.requests.at(-1)!.headers;
    expect(away.authorization).toBeUndefined();
    expect(away.cookie).toBeUndefined();
    expect(away['x-tenant']).toBe('t-1');
  });

  it('turns a POST into a GET without body on a 303, as fetch does', async () => {
    const { http, context } = await clientWith();
    routes['/orders'] = [303, () => '/orders/1'];

    const response = await context.run('see-other', () =>
      firstValueFrom(http.post<{ method: string }>(serverA.url('/orders'), { sku: 'A' })),
    );

    const final = serverA.requests.at(-1)!;
    expect(response.data.method).toBe('GET');
    expect(final.method).toBe('GET');
    expect(final.body.length).toBe(0);
    expect(final.headers['content-type']).toBeUndefined();
    expect(final.headers['x-transaction-id']).toBe('see-other');
  });

  it('turns a POST into a GET on a 301 and a 302, but keeps a PUT', async () => {
    const { http, context } = await clientWith();
    routes['/moved'] = [301, () => '/new'];
    routes['/found'] = [302, () => '/new'];

    await context.run('moved', async () => {
      await firstValueFrom(http.post(serverA.url('/moved'), { a: 1 }));
      await firstValueFrom(http.post(serverA.url('/found'), { a: 1 }));
      await firstValueFrom(http.put(serverA.url('/found'), { a: 1 }));
    });

    const finals = serverA.requests.filter((r) => r.url === '/new').slice(-3);
    expect(finals.map((r) => [r.method, r.body.toString()])).toEqual([
      ['GET', ''],
      ['GET', ''],
      ['PUT', '{"a":1}'],
    ]);
  });

  it.each([307, 308])('replays method, body and content-type on a %i', async (status) => {
    const { http, context } = await clientWith();
    routes['/temp'] = [status, () => '/kept'];

    await context.run(`replay-${status}`, () =>
      firstValueFrom(http.post(serverA.url('/temp'), { sku: 'B', qty: 2 })),
    );

    const final = serverA.requests.at(-1)!;
    expect(final).toMatchObject({ method: 'POST', url: '/kept' });
    expect(final.body.toString()).toBe('{"sku":"B","qty":2}');
    expect(final.headers['content-type']).toBe('application/json');
    expect(final.headers['x-transaction-id']).toBe(`replay-${status}`);
  });

  it('fails with ERR_NETWORK when a streamed body would have to be replayed', async () => {
    const { http, context } = await clientWith();
    routes['/upload'] = [307, () => '/upload-here'];
    const stream = Readable.toWeb(Readable.from(['a', 'b'])) as ReadableStream;

    const error = await context.run('stream-307', () =>
      failureOf(http.post(serverA.url('/upload'), stream)),
    );

    expect(error.code).toBe('ERR_NETWORK');
    expect(error.message).toMatch(/replay/i);
  });

  it('gives up after 20 redirects with ERR_NETWORK', async () => {
    const { http, context } = await clientWith();
    routes['/loop'] = [302, () => '/loop'];
    const mark = serverA.requests.length;

    const error = await context.run('loop-1', () => failureOf(http.get(serverA.url('/loop'))));

    expect(error.code).toBe('ERR_NETWORK');
    expect(error.message).toMatch(/redirect/i);
    expect(since(serverA, mark)).toHaveLength(21);
  });

  it("does not follow with init.redirect 'manual': the 3xx is the answer", async () => {
    const { http, context } = await clientWith();
    routes['/manual'] = [302, () => serverB.url('/never')];
    const markB = serverB.requests.length;

    const error = await context.run('manual-1', () =>
      failureOf(http.get(serverA.url('/manual'), { init: { redirect: 'manual' } })),
    );

    expect(error.code).toBe('ERR_BAD_RESPONSE');
    expect(error.status).toBe(302);
    expect(error.response?.headers.get('location')).toBe(serverB.url('/never'));
    expect(serverB.requests.length).toBe(markB);
  });

  it("fails with ERR_NETWORK on a redirect with init.redirect 'error'", async () => {
    const { http, context } = await clientWith();
    routes['/no'] = [302, () => '/final'];

    const error = await context.run('error-1', () =>
      failureOf(http.get(serverA.url('/no'), { init: { redirect: 'error' } })),
    );

    expect(error.code).toBe('ERR_NETWORK');
  });

  it('follows redirects outside any unit of work too', async () => {
    const { http } = await clientWith();
    routes['/plain'] = [302, () => serverB.url('/plain-final')];

    const response = await firstValueFrom(http.get(serverA.url('/plain')));

    expect(response.status).toBe(200);
    expect(serverB.requests.at(-1)!.url).toBe('/plain-final');
  });
});

describe('redirects of TransactionHttpService.fetch()', () => {
  it('keeps the ID within the origin and drops it across origins', async () => {
    const { http, context } = await clientWith();
    routes['/hop'] = [302, () => '/landing'];
    routes['/exit'] = [302, () => serverB.url('/landing')];

    await context.run('raw-redirect', async () => {
      await http.fetch(serverA.url('/hop'));
      await http.fetch(new Request(serverA.url('/exit')));
    });

    expect(serverA.requests.filter((r) => r.url === '/landing').at(-1)!.headers).toMatchObject({
      'x-transaction-id': 'raw-redirect',
    });
    expect(serverB.requests.at(-1)!.headers['x-transaction-id']).toBeUndefined();
  });

  it('replays the body of a Request on a 307', async () => {
    const { http, context } = await clientWith();
    routes['/post'] = [307, () => '/posted'];

    const response = await context.run('raw-307', () =>
      http.fetch(new Request(serverA.url('/post'), { method: 'POST', body: 'payload' })),
    );

    expect(response.status).toBe(200);
    const final = serverA.requests.at(-1)!;
    expect(final).toMatchObject({ method: 'POST', url: '/posted' });
    expect(final.body.toString()).toBe('payload');
    expect(final.headers['x-transaction-id']).toBe('raw-307');
  });

  it("returns the 3xx itself with redirect: 'manual'", async () => {
    const { http, context } = await clientWith();
    routes['/m'] = [302, () => serverB.url('/never')];

    const response = await context.run('raw-manual', () =>
      http.fetch(serverA.url('/m'), { redirect: 'manual' }),
    );

    expect(response.status).toBe(302);
  });
});
