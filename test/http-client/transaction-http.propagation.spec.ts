import 'reflect-metadata';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { firstValueFrom } from 'rxjs';
import type { TransactionModuleOptions } from '../../lib/index.js';
import { LocalServer } from './support/local-server.js';
import { createHttpClient, type HttpClientHarness } from './support/http-client-harness.js';

let serverA: LocalServer;
let serverB: LocalServer;

beforeAll(async () => {
  [serverA, serverB] = await Promise.all([LocalServer.start(), LocalServer.start()]);
});

afterAll(async () => {
  await Promise.all([serverA.close(), serverB.close()]);
});

/** A client per test, since options are fixed when the module starts. */
let client: HttpClientHarness | undefined;
async function clientWith(options?: TransactionModuleOptions): Promise<HttpClientHarness> {
  client = await createHttpClient(options);
  return client;
}

afterEach(async () => {
  await client?.close();
  client = undefined;
});

/** GETs `url` in a unit of work with ID `id` and returns the header the server received. */
async function sentHeader(
  { http, context }: HttpClientHarness,
  server: LocalServer,
  url: string,
  id: string | undefined,
  header = 'x-transaction-id',
): Promise<string | string[] | undefined> {
  const call = () => firstValueFrom(http.get(url));
  await (id === undefined ? call() : context.run(id, call));
  return server.requests.at(-1)!.headers[header];
}

describe('forwarding the transaction ID', () => {
  it('adds x-transaction-id to a call made inside a unit of work', async () => {
    const harness = await clientWith();

    const response = await harness.context.run('order-1', () =>
      firstValueFrom(harness.http.post(serverA.url('/orders'), { sku: 'A' })),
    );

    expect(serverA.requests.at(-1)!.headers['x-transaction-id']).toBe('order-1');
    expect(new Headers(response.config.headers).get('x-transaction-id')).toBe('order-1');
  });

  it('adds a generated ID too', async () => {
    const harness = await clientWith();

    const [id, header] = await harness.context.run(undefined, async () => [
      harness.context.id,
      await sentHeader(harness, serverA, serverA.url('/'), undefined),
    ]);

    expect(header).toBe(id);
  });

  it('adds no header outside any unit of work', async () => {
    const harness = await clientWith();

    expect(await sentHeader(harness, serverA, serverA.url('/'), undefined)).toBeUndefined();
  });

  it('keeps the ID across awaits before the call', async () => {
    const harness = await clientWith();

    await harness.context.run('after-await', async () => {
      await new Promise((resolve) => setTimeout(resolve, 5));
      await firstValueFrom(harness.http.get(serverA.url('/later')));
    });

    expect(serverA.requests.at(-1)!.headers['x-transaction-id']).toBe('after-await');
  });

  it('sends the ID of whoever subscribes, not of whoever built the Observable', async () => {
    const harness = await clientWith();
    const call = harness.context.run('builder', () => harness.http.get(serverA.url('/cold')));

    await harness.context.run('subscriber', () => firstValueFrom(call));
    await firstValueFrom(call);

    const [inside, outside] = serverA.requests.slice(-2);
    expect(inside.headers['x-transaction-id']).toBe('subscriber');
    expect(outside.headers['x-transaction-id']).toBeUndefined();
  });

  it.each([
    ['a record, lower case', { 'x-transaction-id': 'mine' }],
    ['a record, other case', { 'X-Transaction-ID': 'mine' }],
    ['a Headers', new Headers({ 'X-TRANSACTION-ID': 'mine' })],
    ['header tuples', [['x-Transaction-Id', 'mine']] as [string, string][]],
  ])('does not overwrite an ID the caller set explicitly (%s)', async (_, headers) => {
    const harness = await clientWith();

    const header = await harness.context.run('ambient', async () => {
      await firstValueFrom(harness.http.get(serverA.url('/explicit'), { headers }));
      return serverA.requests.at(-1)!.headers['x-transaction-id'];
    });

    expect(header).toBe('mine');
  });

  it('sends other caller headers along with the ID', async () => {
    const harness = await clientWith();

    await harness.context.run('with-auth', () =>
      firstValueFrom(
        harness.http.get(serverA.url('/auth'), { headers: { authorization: 'Bearer t' } }),
      ),
    );

    expect(serverA.requests.at(-1)!.headers).toMatchObject({
      authorization: 'Bearer t',
      'x-transaction-id': 'with-auth',
    });
  });
});

describe('option header', () => {
  it('renames the outgoing header', async () => {
    const harness = await clientWith({ header: 'X-Request-ID' });

    await harness.context.run('renamed-1', () =>
      firstValueFrom(harness.http.get(serverA.url('/'))),
    );

    const { headers } = serverA.requests.at(-1)!;
    expect(headers['x-request-id']).toBe('renamed-1');
    expect(headers['x-transaction-id']).toBeUndefined();
  });

  it('keeps an explicit value of the renamed header', async () => {
    const harness = await clientWith({ header: 'x-request-id' });

    await harness.context.run('ambient', () =>
      firstValueFrom(harness.http.get(serverA.url('/'), { headers: { 'X-Request-Id': 'mine' } })),
    );

    expect(serverA.requests.at(-1)!.headers['x-request-id']).toBe('mine');
  });
});

describe('option propagationTargets', () => {
  it('forwards to matching string targets only (other port, other host name: no header)', async () => {
    const harness = await clientWith({ propagationTargets: [`127.0.0.1:${serverA.port}`] });

    expect(await sentHeader(harness, serverA, serverA.url('/in'), 'tx-1')).toBe('tx-1');
    expect(await sentHeader(harness, serverB, serverB.url('/other-port'), 'tx-2')).toBeUndefined();
    expect(
      await sentHeader(harness, serverA, serverA.url('/other-name', 'localhost'), 'tx-3'),
    ).toBeUndefined();
  });

  it('forwards to URLs that a RegExp target matches', async () => {
    const harness = await clientWith({ propagationTargets: [/^http:\/\/localhost:\d+\//] });

    expect(await sentHeader(harness, serverA, serverA.url('/a', 'localhost'), 'rx-1')).toBe('rx-1');
    expect(await sentHeader(harness, serverB, serverB.url('/b', 'localhost'), 'rx-2')).toBe('rx-2');
    expect(await sentHeader(harness, serverA, serverA.url('/c'), 'rx-3')).toBeUndefined();
  });

  it('takes strings and RegExps together', async () => {
    const harness = await clientWith({
      propagationTargets: [`127.0.0.1:${serverA.port}/api/`, new RegExp(`:${serverB.port}/`)],
    });

    expect(await sentHeader(harness, serverA, serverA.url('/api/x'), 'm-1')).toBe('m-1');
    expect(await sentHeader(harness, serverA, serverA.url('/web/x'), 'm-2')).toBeUndefined();
    expect(await sentHeader(harness, serverB, serverB.url('/any', 'localhost'), 'm-3')).toBe('m-3');
  });

  it('matches a global RegExp on every call, not every other one', async () => {
    const harness = await clientWith({ propagationTargets: [/127\.0\.0\.1/g] });

    for (let call = 0; call < 4; call++) {
      expect(await sentHeader(harness, serverA, serverA.url(`/g${call}`), `g-${call}`)).toBe(
        `g-${call}`,
      );
    }
  });

  it('matches the URL built from baseURL and params', async () => {
    const harness = await clientWith({ propagationTargets: [/\/api\/.*\?v=2$/] });

    await harness.context.run('built', () =>
      firstValueFrom(harness.http.get('/api/items', { baseURL: serverA.origin, params: { v: 2 } })),
    );

    expect(serverA.requests.at(-1)!.headers['x-transaction-id']).toBe('built');
  });

  it('forwards nowhere with an empty list', async () => {
    const harness = await clientWith({ propagationTargets: [] });

    expect(await sentHeader(harness, serverA, serverA.url('/'), 'none-1')).toBeUndefined();
    expect(
      await sentHeader(harness, serverB, serverB.url('/', 'localhost'), 'none-2'),
    ).toBeUndefined();
  });

  it('still sends an ID the caller set explicitly to a URL outside the targets', async () => {
    const harness = await clientWith({ propagationTargets: [] });

    await harness.context.run('ambient', () =>
      firstValueFrom(
        harness.http.get(serverA.url('/'), { headers: { 'x-transaction-id': 'explicit' } }),
      ),
    );

    expect(serverA.requests.at(-1)!.headers['x-transaction-id']).toBe('explicit');
  });
});

describe('concurrency', () => {
  it('sends each of 200 overlapping calls from 200 units of work with its own ID', async () => {
    const harness = await clientWith();
    const CALLS = 200;
    const barrier = new LocalBarrier(CALLS);
    serverA.handle(async (_request, response) => {
      // Hold every answer until all calls are in flight, so they truly overlap.
      await barrier.arrive();
      response.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    });
    const before = serverA.requests.length;

    const sent = await Promise.all(
      Array.from({ length: CALLS }, (_, flow) =>
        harness.context.run(flow % 2 === 0 ? `flow-${flow}` : undefined, async () => {
          // Stagger the calls across turns of the event loop.
          await new Promise((resolve) => setTimeout(resolve, flow % 7));
          const id = harness.context.id;
          await firstValueFrom(harness.http.get(serverA.url(`/flow/${flow}`)));
          return { flow, id };
        }),
      ),
    );

    const received = new Map(
      serverA.requests
        .slice(before)
        .map((request) => [request.url, request.headers['x-transaction-id']]),
    );
    expect(barrier.maxWaiting).toBe(CALLS);
    expect(received.size).toBe(CALLS);
    for (const { flow, id } of sent) expect(received.get(`/flow/${flow}`)).toBe(id);
    expect(new Set(sent.map(({ id }) => id)).size).toBe(CALLS);
  });
});

/**
 * Lets `count` parties wait for each other; gives up after a while so that a client that cannot
 * open that many connections at once fails the test instead of hanging it.
 */
class LocalBarrier {
  maxWaiting = 0;
  private waiting: Array<() => void> = [];
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly count: number,
    timeoutMs = 15_000,
  ) {
    this.timer = setTimeout(() => this.release(), timeoutMs);
  }

  arrive(): Promise<void> {
    return new Promise((resolve) => {
      this.waiting.push(resolve);
      this.maxWaiting = Math.max(this.maxWaiting, this.waiting.length);
      if (this.waiting.length >= this.count) this.release();
    });
  }

  private release(): void {
    clearTimeout(this.timer);
    for (const resolve of this.waiting.splice(0)) resolve();
  }
}
