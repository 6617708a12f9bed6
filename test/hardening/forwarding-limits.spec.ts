/**
 * Forwarding limits of `TransactionHttpService`, over real connections to local servers on
 * several ports and host names (127.0.0.1, localhost and [::1] when this machine has it: each
 * is an origin of its own):
 *
 * - with `propagationTargets`, no call to a URL outside them carries the ID;
 * - a redirect (301/302/303/307/308) keeps the ID only on the same origin as the first call, and
 *   only while the URL is a target; once dropped, it never comes back;
 * - `Authorization`, `Proxy-Authorization` and `Cookie` are dropped on a redirect to another
 *   origin; 303 (and 301/302 after a POST) turns the call into a body-less GET;
 * - redirect loops, garbage `Location` headers and unreplayable bodies end with an error, never a
 *   hang.
 *
 * What each server received is asserted, not what the client meant to send.
 */
import 'reflect-metadata';
import { Readable } from 'node:stream';
import { Test, type TestingModule } from '@nestjs/testing';
import { firstValueFrom } from 'rxjs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  TransactionContext,
  TransactionHttpError,
  TransactionHttpService,
  TransactionModule,
  type TransactionModuleOptions,
} from '../../lib/index.js';
import { ProcessFailures } from './support/process-failures.js';
import {
  type Handler,
  hasIpv6Loopback,
  RecordingServer,
  type Received,
} from './support/servers.js';

const HEADER = 'x-transaction-id';
const ID = 'fwd-0001';
const REDIRECTS = [301, 302, 303, 307, 308] as const;

/**
 * `/r/<status>?to=<location>` answers `<status>` with that `Location`; `/loop` redirects to
 * itself; anything else answers 200 with JSON.
 */
const redirecting: Handler = (request, response) => {
  const url = new URL(request.url ?? '/', 'http://x');
  const status = /^\/r\/(\d{3})$/.exec(url.pathname)?.[1];
  if (status !== undefined) {
    response.writeHead(Number(status), { location: url.searchParams.get('to') ?? '/' });
    response.end('moved');
  } else if (url.pathname === '/loop') {
    response.writeHead(302, { location: '/loop' }).end();
  } else {
    response.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
  }
};

const ipv6 = await hasIpv6Loopback();
let a: RecordingServer;
let b: RecordingServer;
let v6: RecordingServer | undefined;
const servers = () => [a, b, ...(v6 ? [v6] : [])];
const failures = new ProcessFailures();

beforeAll(async () => {
  a = await RecordingServer.start(redirecting);
  b = await RecordingServer.start(redirecting);
  if (ipv6) v6 = await RecordingServer.start(redirecting, '::1');
});

afterAll(async () => {
  failures.dispose();
  await Promise.all(servers().map((server) => server.close()));
});

let moduleRef: TestingModule | undefined;
afterEach(async () => {
  await moduleRef?.close();
  moduleRef = undefined;
  for (const server of servers()) server.received.length = 0;
  const errors = failures.take();
  expect(errors, failures.describe(errors)).toEqual([]);
});

/** The service and a runner that makes calls inside transaction `ID`. */
async function client(options: TransactionModuleOptions = {}) {
  moduleRef = await Test.createTestingModule({
    imports: [TransactionModule.forRoot(options)],
  }).compile();
  const http = moduleRef.get(TransactionHttpService);
  const context = moduleRef.get(TransactionContext);
  return { http, within: <T>(fn: () => Promise<T>) => context.run(ID, fn) };
}

/** A one-shot body: an async generator of two chunks, `order=3` in all. */
async function* chunks(): AsyncGenerator<Uint8Array> {
  yield new TextEncoder().encode('order=');
  yield new TextEncoder().encode('3');
}

/** A URL on `server` that answers `status`, redirecting to `to`. */
function redirect(server: RecordingServer, status: number, to: string): string {
  return server.url(`/r/${status}?to=${encodeURIComponent(to)}`);
}

/** The one request `server` received on `path`. */
function only(server: RecordingServer, path: string): Received {
  const received = server.to(path);
  expect(received).toHaveLength(1);
  return received[0];
}

describe('propagationTargets', () => {
  it('forwards the ID only to URLs that match a target, whatever the port or host name', async () => {
    const { http, within } = await client({
      propagationTargets: [a.url('/'), /^http:\/\/localhost:\d+\/internal\//],
    });
    const calls: Array<[url: string, server: RecordingServer, path: string, carries: boolean]> = [
      [a.url('/x'), a, '/x', true],
      [a.url('/y', 'localhost'), a, '/y', false],
      [a.url('/internal/z', 'localhost'), a, '/internal/z', true],
      [b.url('/x'), b, '/x', false],
      [b.url('/internal/w', 'localhost'), b, '/internal/w', true],
      [b.url('/internal/v'), b, '/internal/v', false],
    ];
    if (v6) calls.push([v6.url('/x'), v6, '/x', false]);

    for (const [url, server, path, carries] of calls) {
      await within(() => firstValueFrom(http.get(url)));
      expect(only(server, path).headers[HEADER], url).toBe(carries ? ID : undefined);
    }
  });

  it('applies to the raw fetch() and to Request objects as well', async () => {
    const { http, within } = await client({ propagationTargets: [a.url('/')] });

    await within(() => http.fetch(b.url('/raw')));
    await within(() => http.fetch(new Request(b.url('/request'), { method: 'POST', body: 'x' })));
    await within(() => http.fetch(new Request(a.url('/request'), { method: 'POST', body: 'x' })));

    expect(only(b, '/raw').headers[HEADER]).toBeUndefined();
    expect(only(b, '/request').headers[HEADER]).toBeUndefined();
    expect(only(a, '/request').headers[HEADER]).toBe(ID);
  });

  it('forwards nothing with an empty list', async () => {
    const { http, within } = await client({ propagationTargets: [] });

    await within(() => firstValueFrom(http.get(a.url('/none'))));

    expect(only(a, '/none').headers[HEADER]).toBeUndefined();
  });

  it('matches a string target anywhere in the URL, so anchor a RegExp to pin an origin', async () => {
    // String targets are substrings, as in Sentry's tracePropagationTargets: a target named in
    // the query string of another host matches. The README advises anchored RegExps.
    const loose = await client({ propagationTargets: [a.url('/')] });
    await loose.within(() =>
      firstValueFrom(loose.http.get(`${b.url('/loose')}?next=${a.url('/')}`)),
    );
    expect(only(b, '/loose').headers[HEADER]).toBe(ID);
    await moduleRef!.close();

    const origin = new RegExp(`^${a.url('/').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`);
    const strict = await client({ propagationTargets: [origin] });
    await strict.within(() =>
      firstValueFrom(strict.http.get(`${b.url('/strict')}?next=${a.url('/')}`)),
    );
    expect(only(b, '/strict').headers[HEADER]).toBeUndefined();
  });
});

describe('redirects', () => {
  it.each(REDIRECTS)('%i keeps the ID on the same origin', async (status) => {
    const { http, within } = await client();

    const response = await within(() => firstValueFrom(http.get(redirect(a, status, '/same'))));

    expect(response.status).toBe(200);
    expect(only(a, `/r/${status}`).headers[HEADER]).toBe(ID);
    expect(only(a, '/same').headers[HEADER]).toBe(ID);
  });

  it.each(REDIRECTS)('%i drops the ID on the way to another port', async (status) => {
    const { http, within } = await client();

    await within(() => firstValueFrom(http.get(redirect(a, status, b.url('/port')))));

    expect(only(a, `/r/${status}`).headers[HEADER]).toBe(ID);
    expect(only(b, '/port').headers[HEADER]).toBeUndefined();
  });

  it.each(REDIRECTS)(
    '%i drops the ID on the way to another host name of the same server',
    async (status) => {
      const { http, within } = await client();

      await within(() =>
        firstValueFrom(http.get(redirect(a, status, a.url('/host', 'localhost')))),
      );

      expect(only(a, '/host').headers[HEADER]).toBeUndefined();
    },
  );

  it.skipIf(!ipv6)('drops the ID on the way from 127.0.0.1 to [::1]', async () => {
    const { http, within } = await client();

    await within(() => firstValueFrom(http.get(redirect(a, 307, v6!.url('/v6')))));

    expect(only(v6!, '/v6').headers[HEADER]).toBeUndefined();
  });

  it('drops the ID on a protocol-relative Location to another host', async () => {
    const { http, within } = await client();

    await within(() =>
      firstValueFrom(http.get(redirect(a, 302, `//localhost:${a.port}/relative`))),
    );

    expect(only(a, '/relative').headers[HEADER]).toBeUndefined();
  });

  it('drops the ID on a redirect to another origin even when that origin is a target', async () => {
    const { http, within } = await client({ propagationTargets: [a.url('/'), b.url('/')] });

    await within(() => firstValueFrom(http.get(redirect(a, 307, b.url('/target')))));

    expect(only(b, '/target').headers[HEADER]).toBeUndefined();
  });

  it('drops the ID on a same-origin redirect to a URL outside the targets', async () => {
    const { http, within } = await client({ propagationTargets: [/\/r\/\d{3}/] });

    await within(() => firstValueFrom(http.get(redirect(a, 302, '/outside'))));

    expect(only(a, '/r/302').headers[HEADER]).toBe(ID);
    expect(only(a, '/outside').headers[HEADER]).toBeUndefined();
  });

  it('does not bring the ID back when a chain returns to the first origin', async () => {
    const { http, within } = await client();
    const back = redirect(b, 302, a.url('/back'));

    await within(() => firstValueFrom(http.get(redirect(a, 302, back))));

    expect(only(b, '/r/302').headers[HEADER]).toBeUndefined();
    expect(only(a, '/back').headers[HEADER]).toBeUndefined();
  });

  it('turns a POST into a body-less GET on 303, and on 301/302 as fetch does', async () => {
    const { http, within } = await client();

    for (const status of [301, 302, 303]) {
      await within(() =>
        firstValueFrom(http.post(redirect(a, status, `/got-${status}`), { order: 1 })),
      );
      const final = only(a, `/got-${status}`);
      expect(final.method).toBe('GET');
      expect(final.body).toBe('');
      expect(final.headers['content-type']).toBeUndefined();
      expect(final.headers[HEADER]).toBe(ID);
    }
  });

  it('replays a POST and its body on 307 and 308', async () => {
    const { http, within } = await client();

    for (const status of [307, 308]) {
      await within(() =>
        firstValueFrom(http.post(redirect(a, status, b.url(`/post-${status}`)), { order: 2 })),
      );
      const final = only(b, `/post-${status}`);
      expect(final.method).toBe('POST');
      expect(JSON.parse(final.body)).toEqual({ order: 2 });
      expect(final.headers[HEADER]).toBeUndefined();
    }
  });

  it('drops Authorization, Proxy-Authorization and Cookie to another origin, keeps them on the same one', async () => {
    const { http, within } = await client();
    const headers = {
      authorization: 'Bearer secret-token',
      'proxy-authorization': 'Basic cHJveHk=',
      cookie: 'session=abc',
    };

    await within(() => firstValueFrom(http.get(redirect(a, 302, '/same-auth'), { headers })));
    await within(() =>
      firstValueFrom(http.get(redirect(a, 307, b.url('/other-auth')), { headers })),
    );

    expect(only(a, '/same-auth').headers).toMatchObject(headers);
    const crossed = only(b, '/other-auth').headers;
    expect(crossed.authorization).toBeUndefined();
    expect(crossed['proxy-authorization']).toBeUndefined();
    expect(crossed.cookie).toBeUndefined();
  });

  it('ends a redirect loop with a TransactionHttpError, after a bounded number of hops', async () => {
    const { http, within } = await client();

    const error = await within(() => firstValueFrom(http.get(a.url('/loop')))).catch((e) => e);

    expect(error).toBeInstanceOf(TransactionHttpError);
    expect(error).toMatchObject({ code: 'ERR_NETWORK', transactionId: ID });
    expect(String(error.cause)).toMatch(/redirect/i);
    expect(a.to('/loop').length).toBeLessThanOrEqual(21);
  });

  it('ends a loop between two origins the same way', async () => {
    const { http, within } = await client();
    // a → b → a → …: each server redirects to the other.
    let hops = 0;
    a.handle((_request, response) => {
      hops++;
      response.writeHead(302, { location: b.url('/bounce') }).end();
    });
    b.handle((_request, response) => {
      hops++;
      response.writeHead(302, { location: a.url('/bounce') }).end();
    });
    try {
      const error = await within(() => firstValueFrom(http.get(a.url('/bounce')))).catch((e) => e);

      expect(error).toBeInstanceOf(TransactionHttpError);
      expect(error.code).toBe('ERR_NETWORK');
      expect(hops).toBeLessThanOrEqual(21);
      expect(b.received.every((r) => r.headers[HEADER] === undefined)).toBe(true);
    } finally {
      a.handle(redirecting);
      b.handle(redirecting);
    }
  });

  it('fails, without hanging, on a Location that is not a URL', async () => {
    const { http, within } = await client();

    const error = await within(() =>
      firstValueFrom(http.get(redirect(a, 302, 'http://[not-an-ip'))),
    ).catch((e) => e);

    expect(error).toBeInstanceOf(TransactionHttpError);
    expect(error).toMatchObject({ code: 'ERR_NETWORK', transactionId: ID });
  });

  it('fails, without hanging, when a 307 asks to replay a streamed body', async () => {
    const { http, within } = await client();
    const body = new ReadableStream({
      start(controller) {
        controller.enqueue(new TextEncoder().encode('streamed'));
        controller.close();
      },
    });

    const error = await within(() =>
      firstValueFrom(http.post(redirect(a, 307, '/replayed'), body)),
    ).catch((e) => e);

    expect(error).toBeInstanceOf(TransactionHttpError);
    expect(String(error.cause)).toMatch(/replay/);
    expect(a.to('/replayed')).toEqual([]);
  });

  // Fails today: follow-redirects.ts refuses to replay only `ReadableStream` bodies. An async
  // iterable (which Node's fetch accepts with `duplex: 'half'`) is replayed after it was
  // consumed, so the next hop gets an empty POST and the call "succeeds". Plain `fetch` (no ID
  // carried) fails such a redirect, as the Fetch standard says.
  it.each([
    ['an async generator', () => chunks()],
    ['a Node.js Readable', () => Readable.from(['order=', '3'])],
  ])('fails, without sending an empty body, when a 307 asks to replay %s', async (_, body) => {
    const { http, within } = await client();

    const outcome = await within(() =>
      firstValueFrom(
        http.post(redirect(a, 307, '/replayed-iterable'), body(), {
          init: { duplex: 'half' } as RequestInit,
        }),
      ),
    ).then(
      (response) => ({ status: response.status, error: undefined }),
      (error: unknown) => ({ status: undefined, error }),
    );

    expect(only(a, '/r/307').body).toBe('order=3');
    expect(a.to('/replayed-iterable').map((r) => r.body)).not.toContain('');
    expect(outcome.error).toBeInstanceOf(TransactionHttpError);
    expect(String((outcome.error as Error).cause)).toMatch(/replay/);
  });
});
