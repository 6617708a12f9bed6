import 'reflect-metadata';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { firstValueFrom } from 'rxjs';
import { TransactionHttpError } from '../../lib/index.js';
import { LocalServer } from './support/local-server.js';
import {
  createHttpClient,
  failureOf,
  type HttpClientHarness,
} from './support/http-client-harness.js';

let server: LocalServer;
let client: HttpClientHarness;

beforeAll(async () => {
  server = await LocalServer.start();
  client = await createHttpClient();
});

afterAll(async () => {
  await client.close();
  await server.close();
});

beforeEach(() => {
  // Back to the echo handler.
  server.handle((_request, response, received) => {
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(JSON.stringify({ method: received.method, url: received.url }));
  });
});

/** Replies with a fixed status, content type and body. */
function reply(status: number, contentType: string | undefined, body: string) {
  server.handle((_request, response) => {
    response.writeHead(status, contentType === undefined ? {} : { 'content-type': contentType });
    response.end(body);
  });
}

describe('TransactionHttpService methods', () => {
  it.each([
    ['get', 'GET'],
    ['delete', 'DELETE'],
    ['head', 'HEAD'],
    ['options', 'OPTIONS'],
  ] as const)('%s() sends a %s request without a body', async (name, method) => {
    const response = await firstValueFrom(client.http[name](server.url(`/items/${name}`)));

    const received = server.requests.at(-1)!;
    expect(received.method).toBe(method);
    expect(received.url).toBe(`/items/${name}`);
    expect(received.body.length).toBe(0);
    expect(response.status).toBe(200);
    expect(response.config).toMatchObject({ method, url: server.url(`/items/${name}`) });
  });

  it.each([
    ['post', 'POST'],
    ['put', 'PUT'],
    ['patch', 'PATCH'],
  ] as const)('%s() sends a %s request with its body', async (name, method) => {
    const response = await firstValueFrom(
      client.http[name](server.url('/items/1'), { quantity: 2 }),
    );

    const received = server.requests.at(-1)!;
    expect(received.method).toBe(method);
    expect(received.url).toBe('/items/1');
    expect(JSON.parse(received.body.toString())).toEqual({ quantity: 2 });
    expect(response.data).toEqual({ method, url: '/items/1' });
  });

  it('post() without data sends no body', async () => {
    await firstValueFrom(client.http.post(server.url('/ping')));

    const received = server.requests.at(-1)!;
    expect(received.method).toBe('POST');
    expect(received.body.length).toBe(0);
    expect(received.headers['content-type']).toBeUndefined();
  });

  it('request() sends the method it is given, in any case, and GET by default', async () => {
    await firstValueFrom(
      client.http.request({ url: server.url('/a'), method: 'patch', data: [1] }),
    );
    await firstValueFrom(client.http.request({ url: server.url('/b') }));
    await firstValueFrom(
      client.http.request({ url: server.url('/c'), method: 'DELETE', data: { reason: 'dup' } }),
    );

    const [patch, get, del] = server.requests.slice(-3);
    expect([patch.method, patch.url, patch.body.toString()]).toEqual(['PATCH', '/a', '[1]']);
    expect([get.method, get.url]).toEqual(['GET', '/b']);
    expect([del.method, del.body.toString()]).toEqual(['DELETE', '{"reason":"dup"}']);
  });

  it('is cold: nothing is sent until subscription, and each subscription sends again', async () => {
    const before = server.requests.length;
    const call = client.http.get(server.url('/cold'));

    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(server.requests.length).toBe(before);

    await firstValueFrom(call);
    await firstValueFrom(call);
    expect(server.requests.length).toBe(before + 2);
  });

  it('passes other fetch options through init', async () => {
    server.handle((_request, response) => {
      response.writeHead(302, { location: '/elsewhere' }).end();
    });

    const error = await failureOf(
      client.http.get(server.url('/moved'), { init: { redirect: 'manual' } }),
    );

    expect(error.code).toBe('ERR_BAD_RESPONSE');
    expect(error.status).toBe(302);
    expect(error.response?.headers.get('location')).toBe('/elsewhere');
  });
});

describe('request bodies', () => {
  it('sends a plain object as JSON with content-type application/json', async () => {
    const order = { id: 7, lines: [{ sku: 'A', qty: 1 }], note: 'ünïcode' };

    await firstValueFrom(client.http.post(server.url('/orders'), order));

    const received = server.requests.at(-1)!;
    expect(received.headers['content-type']).toBe('application/json');
    expect(JSON.parse(received.body.toString('utf8'))).toEqual(order);
  });

  it('sends an array as JSON', async () => {
    await firstValueFrom(client.http.put(server.url('/tags'), ['a', 'b']));

    const received = server.requests.at(-1)!;
    expect(received.headers['content-type']).toBe('application/json');
    expect(received.body.toString()).toBe('["a","b"]');
  });

  it('sends an object without prototype as JSON', async () => {
    const data = Object.assign(Object.create(null) as object, { a: 1 });

    await firstValueFrom(client.http.post(server.url('/bare'), data));

    expect(server.requests.at(-1)!.body.toString()).toBe('{"a":1}');
  });

  it('keeps a content-type the caller set, in any case', async () => {
    await firstValueFrom(
      client.http.post(
        server.url('/vnd'),
        { data: { type: 'orders' } },
        { headers: { 'Content-Type': 'application/vnd.api+json' } },
      ),
    );

    const received = server.requests.at(-1)!;
    expect(received.headers['content-type']).toBe('application/vnd.api+json');
    expect(received.body.toString()).toBe('{"data":{"type":"orders"}}');
  });

  it('passes a string through as it is', async () => {
    await firstValueFrom(client.http.post(server.url('/text'), 'plain "text", not JSON'));

    const received = server.requests.at(-1)!;
    expect(received.body.toString()).toBe('plain "text", not JSON');
    expect(received.headers['content-type']).toBe('text/plain;charset=UTF-8');
  });

  it('passes URLSearchParams through as a form', async () => {
    await firstValueFrom(
      client.http.post(server.url('/form'), new URLSearchParams({ name: 'a b', tag: '&' })),
    );

    const received = server.requests.at(-1)!;
    expect(received.body.toString()).toBe('name=a+b&tag=%26');
    expect(received.headers['content-type']).toBe(
      'application/x-www-form-urlencoded;charset=UTF-8',
    );
  });

  it('passes a Buffer through byte for byte, not as JSON', async () => {
    const bytes = Buffer.from([0x00, 0xff, 0x7b, 0x22, 0x0a]);

    await firstValueFrom(
      client.http.put(server.url('/blob'), bytes, {
        headers: { 'content-type': 'application/octet-stream' },
      }),
    );

    const received = server.requests.at(-1)!;
    expect(received.body.equals(bytes)).toBe(true);
    expect(received.headers['content-type']).toBe('application/octet-stream');
  });

  it('streams a ReadableStream body', async () => {
    const stream = Readable.toWeb(Readable.from(['chunk-1,', 'chunk-2'])) as ReadableStream;

    await firstValueFrom(client.http.post(server.url('/stream'), stream));

    expect(server.requests.at(-1)!.body.toString()).toBe('chunk-1,chunk-2');
  });
});

describe('URLs', () => {
  it('appends params to the query, leaving out undefined and null', async () => {
    await firstValueFrom(
      client.http.get(server.url('/search?sort=asc'), {
        params: { q: 'a b&c', page: 2, exact: true, none: undefined, nil: null },
      }),
    );

    const url = new URL(server.requests.at(-1)!.url, server.origin);
    expect(url.pathname).toBe('/search');
    expect([...url.searchParams]).toEqual([
      ['sort', 'asc'],
      ['q', 'a b&c'],
      ['page', '2'],
      ['exact', 'true'],
    ]);
  });

  it('resolves a path against baseURL', async () => {
    const response = await firstValueFrom(
      client.http.get('/orders/1', { baseURL: server.origin, params: { full: 1 } }),
    );

    expect(server.requests.at(-1)!.url).toBe('/orders/1?full=1');
    expect(response.config.url).toBe(server.url('/orders/1?full=1'));
  });

  // `baseURL` is documented as a "prefix" and the service as shaped like axios, whose
  // `combineURLs` joins the two; `new URL(url, baseURL)` instead drops the base path for
  // '/orders/1' and its last segment for 'orders/2'.
  it('prefixes a relative url with the path of baseURL, as axios does', async () => {
    await firstValueFrom(client.http.get('/orders/1', { baseURL: `${server.origin}/api/v2` }));
    await firstValueFrom(client.http.get('orders/2', { baseURL: `${server.origin}/api/v2` }));

    expect(server.requests.slice(-2).map((received) => received.url)).toEqual([
      '/api/v2/orders/1',
      '/api/v2/orders/2',
    ]);
  });

  it('ignores baseURL for an absolute url', async () => {
    await firstValueFrom(
      client.http.get(server.url('/absolute'), { baseURL: 'http://127.0.0.1:1' }),
    );

    expect(server.requests.at(-1)!.url).toBe('/absolute');
  });

  it('fails with ERR_INVALID_URL, without sending, for a URL it cannot build', async () => {
    const before = server.requests.length;

    const relative = await failureOf(client.http.get('/no-base'));
    const garbage = await failureOf(client.http.get('http://'));

    expect(relative.code).toBe('ERR_INVALID_URL');
    expect(relative.cause).toBeInstanceOf(TypeError);
    expect(relative.config.url).toBe('/no-base');
    expect(garbage.code).toBe('ERR_INVALID_URL');
    expect(server.requests.length).toBe(before);
  });
});

describe('responses', () => {
  it('parses application/json', async () => {
    reply(200, 'application/json; charset=utf-8', '{"total":3,"items":["a"]}');

    const response = await firstValueFrom(client.http.get<{ total: number }>(server.url('/')));

    expect(response.data).toEqual({ total: 3, items: ['a'] });
  });

  it('parses application/problem+json', async () => {
    reply(200, 'application/problem+json', '{"title":"ok"}');

    const { data } = await firstValueFrom(client.http.get(server.url('/')));

    expect(data).toEqual({ title: 'ok' });
  });

  it('parses JSON scalars', async () => {
    reply(200, 'application/json', '42');

    expect((await firstValueFrom(client.http.get(server.url('/')))).data).toBe(42);
  });

  it.each([
    ['text/plain', 'hello'],
    ['text/html; charset=utf-8', '<p>{"not":"parsed"}</p>'],
    [undefined, '{"no":"content-type"}'],
  ])('gives the body as text for content-type %s', async (type, body) => {
    reply(200, type, body);

    expect((await firstValueFrom(client.http.get(server.url('/')))).data).toBe(body);
  });

  it('gives undefined for an empty JSON body, and the empty string for empty text', async () => {
    reply(200, 'application/json', '');
    const json = await firstValueFrom(client.http.get(server.url('/')));
    reply(200, 'text/plain', '');
    const text = await firstValueFrom(client.http.get(server.url('/')));

    expect(json.data).toBeUndefined();
    expect(text.data).toBe('');
  });

  it('gives undefined for a 204 and for a HEAD response that says JSON', async () => {
    server.handle((_request, response) => {
      response.writeHead(204, { 'content-type': 'application/json' }).end();
    });
    const noContent = await firstValueFrom(client.http.delete(server.url('/items/1')));
    server.handle((_request, response) => {
      response.writeHead(200, { 'content-type': 'application/json', 'content-length': 13 }).end();
    });
    const head = await firstValueFrom(client.http.head(server.url('/items/1')));

    expect(noContent.status).toBe(204);
    expect(noContent.data).toBeUndefined();
    expect(head.data).toBeUndefined();
  });

  it('gives status, statusText and the response headers as Headers', async () => {
    server.handle((_request, response) => {
      response.writeHead(201, 'Created Here', { 'x-order-id': '77', 'content-type': 'text/plain' });
      response.end('made');
    });

    const response = await firstValueFrom(client.http.post(server.url('/orders'), { a: 1 }));

    expect(response.status).toBe(201);
    expect(response.statusText).toBe('Created Here');
    expect(response.headers).toBeInstanceOf(Headers);
    expect(response.headers.get('X-Order-Id')).toBe('77');
  });
});

describe('failures the server answers', () => {
  it.each([400, 404, 409, 500, 503])(
    'a %i fails with ERR_BAD_RESPONSE, its status and its parsed body',
    async (status) => {
      reply(status, 'application/problem+json', JSON.stringify({ status, title: 'nope' }));

      const error = await failureOf(client.http.get(server.url('/orders/9')));

      expect(error).toBeInstanceOf(TransactionHttpError);
      expect(error).toBeInstanceOf(Error);
      expect(error.name).toBe('TransactionHttpError');
      expect(error.code).toBe('ERR_BAD_RESPONSE');
      expect(error.status).toBe(status);
      expect(error.response?.status).toBe(status);
      expect(error.response?.data).toEqual({ status, title: 'nope' });
      expect(error.message).toBe(
        `Request failed with status ${status}: GET ${server.url('/orders/9')}`,
      );
      expect(error.config).toMatchObject({ method: 'GET', url: server.url('/orders/9') });
    },
  );

  it('gives a text body of a non-2xx as text', async () => {
    reply(502, 'text/html', '<h1>Bad Gateway</h1>');

    const error = await failureOf(client.http.post(server.url('/x'), { a: 1 }));

    expect(error.code).toBe('ERR_BAD_RESPONSE');
    expect(error.response?.data).toBe('<h1>Bad Gateway</h1>');
  });

  it('keeps the status of a non-2xx whose body says JSON but is not', async () => {
    reply(502, 'application/json', '<html>Bad Gateway</html>');

    const error = await failureOf(client.http.get(server.url('/proxy')));

    expect(error.status).toBe(502);
    expect(['ERR_BAD_RESPONSE', 'ERR_BAD_BODY']).toContain(error.code);
  });

  it('carries the transaction ID of the call', async () => {
    reply(500, 'application/json', '{}');

    const inside = await client.context.run('checkout-500', () =>
      failureOf(client.http.get(server.url('/'))),
    );
    const outside = await failureOf(client.http.get(server.url('/')));

    expect(inside.transactionId).toBe('checkout-500');
    expect(outside.transactionId).toBeUndefined();
  });

  it('fails with ERR_BAD_BODY when a body said JSON but is not', async () => {
    reply(200, 'application/json', '{"truncated": ');

    const error = await failureOf(client.http.get(server.url('/broken')));

    expect(error.code).toBe('ERR_BAD_BODY');
    expect(error.cause).toBeInstanceOf(SyntaxError);
    expect(error.status).toBe(200);
    expect(error.message).toMatch(
      /^Response body is not valid JSON: GET http:\/\/127\.0\.0\.1:\d+\/broken/,
    );
  });
});
