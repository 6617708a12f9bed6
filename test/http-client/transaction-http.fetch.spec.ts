import 'reflect-metadata';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { TransactionModuleOptions } from '../../lib/index.js';
import { echo, LocalServer } from './support/local-server.js';
import { createHttpClient, type HttpClientHarness } from './support/http-client-harness.js';

let serverA: LocalServer;
let serverB: LocalServer;
let client: HttpClientHarness | undefined;

beforeAll(async () => {
  [serverA, serverB] = await Promise.all([LocalServer.start(), LocalServer.start()]);
});

afterAll(async () => {
  await Promise.all([serverA.close(), serverB.close()]);
});

afterEach(async () => {
  await client?.close();
  client = undefined;
});

async function clientWith(options?: TransactionModuleOptions): Promise<HttpClientHarness> {
  client = await createHttpClient(options);
  return client;
}

/** The last request `server` received. */
const last = (server: LocalServer) => server.requests.at(-1)!;

describe('TransactionHttpService.fetch()', () => {
  describe.each([
    ['a string', (url: string) => url],
    ['a URL', (url: string) => new URL(url)],
    ['a Request', (url: string) => new Request(url)],
  ])('with %s as input', (_, input) => {
    it('adds the ID inside a unit of work', async () => {
      const { http, context } = await clientWith();

      const response = await context.run('raw-1', () => http.fetch(input(serverA.url('/raw'))));

      expect(response.status).toBe(200);
      expect(last(serverA).url).toBe('/raw');
      expect(last(serverA).headers['x-transaction-id']).toBe('raw-1');
    });

    it('adds nothing outside any unit of work', async () => {
      const { http } = await clientWith();

      await http.fetch(input(serverA.url('/raw')));

      expect(last(serverA).headers['x-transaction-id']).toBeUndefined();
    });

    it('adds nothing to a URL outside propagationTargets', async () => {
      const { http, context } = await clientWith({
        propagationTargets: [`127.0.0.1:${serverA.port}`],
      });

      await context.run('targeted', async () => {
        await http.fetch(input(serverA.url('/in')));
        await http.fetch(input(serverB.url('/out')));
        await http.fetch(input(serverA.url('/out', 'localhost')));
      });

      expect(serverA.requests.at(-2)!.headers['x-transaction-id']).toBe('targeted');
      expect(last(serverB).headers['x-transaction-id']).toBeUndefined();
      expect(last(serverA).headers['x-transaction-id']).toBeUndefined();
    });

    it('keeps an ID set explicitly in init, in any case', async () => {
      const { http, context } = await clientWith();

      await context.run('ambient', () =>
        http.fetch(input(serverA.url('/explicit')), { headers: { 'X-Transaction-Id': 'mine' } }),
      );

      expect(last(serverA).headers['x-transaction-id']).toBe('mine');
    });

    it('keeps the rest of init: method, body, other headers', async () => {
      const { http, context } = await clientWith();

      await context.run('with-init', () =>
        http.fetch(input(serverA.url('/orders')), {
          method: 'POST',
          body: '{"sku":"A"}',
          headers: { 'content-type': 'application/json', authorization: 'Bearer t' },
        }),
      );

      expect(last(serverA)).toMatchObject({ method: 'POST', url: '/orders' });
      expect(last(serverA).body.toString()).toBe('{"sku":"A"}');
      expect(last(serverA).headers).toMatchObject({
        'content-type': 'application/json',
        authorization: 'Bearer t',
        'x-transaction-id': 'with-init',
      });
    });

    it('resolves a non-2xx answer without throwing, as fetch does', async () => {
      const { http, context } = await clientWith();
      serverA.handle((_request, response) => {
        response.writeHead(503, { 'content-type': 'text/plain' }).end('down');
      });
      try {
        const response = await context.run('raw-503', () => http.fetch(input(serverA.url('/'))));

        expect(response.ok).toBe(false);
        expect(response.status).toBe(503);
        expect(await response.text()).toBe('down');
      } finally {
        serverA.handle(echo);
      }
    });
  });

  describe('with a Request as input', () => {
    it("keeps the Request's method, body and headers, and adds the ID", async () => {
      const { http, context } = await clientWith();
      const request = new Request(serverA.url('/orders'), {
        method: 'PUT',
        body: 'payload',
        headers: { 'x-tenant': 't-1' },
      });

      await context.run('req-put', () => http.fetch(request));

      expect(last(serverA)).toMatchObject({ method: 'PUT', url: '/orders' });
      expect(last(serverA).body.toString()).toBe('payload');
      expect(last(serverA).headers).toMatchObject({
        'x-tenant': 't-1',
        'x-transaction-id': 'req-put',
      });
    });

    it('keeps an ID set on the Request itself, in any case', async () => {
      const { http, context } = await clientWith();
      const request = new Request(serverA.url('/'), { headers: { 'X-TRANSACTION-ID': 'mine' } });

      await context.run('ambient', () => http.fetch(request));

      expect(last(serverA).headers['x-transaction-id']).toBe('mine');
    });

    it('does not change the Request the caller holds', async () => {
      const { http, context } = await clientWith();
      const request = new Request(serverA.url('/'));

      await context.run('not-mutated', () => http.fetch(request));

      expect(request.headers.has('x-transaction-id')).toBe(false);
    });
  });

  it('uses the renamed header', async () => {
    const { http, context } = await clientWith({ header: 'X-Correlation-Id' });

    await context.run('corr-1', () => http.fetch(serverA.url('/')));

    expect(last(serverA).headers['x-correlation-id']).toBe('corr-1');
    expect(last(serverA).headers['x-transaction-id']).toBeUndefined();
  });

  it('forwards nowhere with an empty propagationTargets', async () => {
    const { http, context } = await clientWith({ propagationTargets: [] });

    await context.run('none', () => http.fetch(serverA.url('/')));

    expect(last(serverA).headers['x-transaction-id']).toBeUndefined();
  });

  it('rejects as fetch does when nothing answers', async () => {
    const { http, context } = await clientWith();
    const port = serverB.port;
    await serverB.close();
    try {
      await expect(
        context.run('refused', () => http.fetch(`http://127.0.0.1:${port}/`)),
      ).rejects.toThrow(TypeError);
    } finally {
      serverB = await LocalServer.start();
    }
  });
});
