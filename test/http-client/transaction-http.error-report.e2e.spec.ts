import 'reflect-metadata';
import { inspect } from 'node:util';
import * as Sentry from '@sentry/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TransactionHttpService as HttpClient } from '../../lib/index.js';
import { SentryEnvelopeServer } from '../fixtures/sentry-envelope-server.js';
import { sentryTestOptions } from '../fixtures/sentry-options.js';
import type { LocalServer as Server } from './support/local-server.js';

// A failed downstream call, as the application sees it: the error points at the line of the
// application that made the call (in its stack, so in Sentry's frames), and prints in a few lines
// with neither body nor headers.
const sentry = await SentryEnvelopeServer.start();
Sentry.init(sentryTestOptions({ dsn: sentry.dsn(1), tracesSampleRate: 0 }));

const { ConsoleLogger, Controller, Get, Inject, Module } = await import('@nestjs/common');
const { firstValueFrom } = await import('rxjs');
const { TransactionHttpError, TransactionHttpService, TransactionModule } =
  await import('../../lib/index.js');
const { startApp } = await import('../fixtures/nest-app.js');
const { closedPort, LocalServer } = await import('./support/local-server.js');

const SECRET_BODY = 'card-number-4111111111111111';
const SECRET_HEADER = 'x-internal-secret';

let downstream: Server;
let refusedUrl: string;
let app: Awaited<ReturnType<typeof startApp>>;
/** The error the controller saw last. */
let seen: unknown;

@Controller()
class CheckoutController {
  constructor(@Inject(TransactionHttpService) private readonly http: HttpClient) {}

  @Get('checkout')
  async checkout(): Promise<unknown> {
    try {
      return await firstValueFrom(this.http.post(downstream.url('/orders'), { card: SECRET_BODY }));
    } catch (error) {
      seen = error;
      throw error;
    }
  }

  @Get('raw')
  async raw(): Promise<unknown> {
    try {
      return await this.http.fetch(refusedUrl);
    } catch (error) {
      seen = error;
      throw error;
    }
  }
}

@Module({ imports: [TransactionModule.forRoot()], controllers: [CheckoutController] })
class CheckoutModule {}

beforeAll(async () => {
  downstream = await LocalServer.start((_request, response) => {
    response.writeHead(502, { 'content-type': 'application/json', [SECRET_HEADER]: 'hunter2' });
    response.end(JSON.stringify({ error: 'down', echo: SECRET_BODY }));
  });
  refusedUrl = `http://127.0.0.1:${await closedPort()}/orders`;
  app = await startApp('express', CheckoutModule);
});

afterAll(async () => {
  await app?.close();
  await downstream?.close();
  await Sentry.close(2_000);
  await sentry.close();
});

type Frame = { filename?: string; function?: string };

/** The frames of the Sentry event tagged `id`, innermost last, as Sentry orders them. */
async function framesOfEventFor(id: string): Promise<Frame[]> {
  await sentry.waitFor(() => sentry.eventsFor(id).length > 0);
  const [event] = sentry.eventsFor(id);
  const values = event!.exception!.values as Array<{ stacktrace?: { frames?: Frame[] } }>;
  return values.at(-1)!.stacktrace!.frames!;
}

describe('a failed call in Sentry', () => {
  it('points at the application’s line that made the call (post())', async () => {
    const response = await fetch(`${app.url}/checkout`, {
      headers: { 'x-transaction-id': 'stack-post' },
    });
    expect(response.status).toBe(500);

    const frames = await framesOfEventFor('stack-post');
    const innermost = frames.at(-1)!;
    expect(innermost.function).toMatch(/CheckoutController\.checkout/);
    expect(innermost.filename).toMatch(/transaction-http\.error-report\.e2e\.spec\.ts$/);
    expect(frames.some((frame) => /transaction-http\.service/.test(frame.filename ?? ''))).toBe(
      false,
    );
  });

  it('points at the application’s line for fetch()’s own network error too', async () => {
    await fetch(`${app.url}/raw`, { headers: { 'x-transaction-id': 'stack-fetch' } });

    const frames = await framesOfEventFor('stack-fetch');
    expect(frames.some((frame) => /CheckoutController\.raw/.test(frame.function ?? ''))).toBe(true);
  });
});

describe('a failed call in the logs', () => {
  let error: InstanceType<typeof TransactionHttpError>;
  beforeAll(async () => {
    await fetch(`${app.url}/checkout`, { headers: { 'x-transaction-id': 'logged-call' } });
    expect(seen).toBeInstanceOf(TransactionHttpError);
    error = seen as InstanceType<typeof TransactionHttpError>;
  });

  it('is a few lines through Nest’s Logger: method, URL, status, ID, the caller', () => {
    const written: string[] = [];
    const logger = new ConsoleLogger('Checkout', { colors: false });
    const write = process.stderr.write;
    process.stderr.write = ((chunk: string) => written.push(String(chunk))) as never;
    try {
      logger.error(error);
    } finally {
      process.stderr.write = write;
    }
    const text = written.join('');

    expect(text).toContain(`Request failed with status 502: POST ${downstream.url('/orders')}`);
    expect(text).toContain('logged-call');
    expect(text).toContain('CheckoutController.checkout');
    expect(text).not.toContain(SECRET_BODY);
    expect(text).not.toContain('hunter2');
    expect(text.trimEnd().split('\n').length).toBeLessThanOrEqual(15);
  });

  it('prints as short with util.inspect and JSON, and keeps bodies and headers on request', () => {
    const printed = inspect(error);
    expect(printed).toContain('status: 502');
    expect(printed).not.toContain(SECRET_BODY);
    expect(printed.split('\n').length).toBeLessThanOrEqual(14);

    expect(JSON.parse(JSON.stringify(error))).toEqual({
      name: 'TransactionHttpError',
      message: `Request failed with status 502: POST ${downstream.url('/orders')}`,
      code: 'ERR_BAD_RESPONSE',
      status: 502,
      method: 'POST',
      url: downstream.url('/orders'),
      transactionId: 'logged-call',
    });

    expect(error.response?.headers.get(SECRET_HEADER)).toBe('hunter2');
    expect(error.config.data).toEqual({ card: SECRET_BODY });
  });
});
