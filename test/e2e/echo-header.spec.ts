/**
 * The echo header on every kind of response, on both adapters, as it goes on the wire: one line,
 * the request's ID, unless the application set the header itself, whichever way it writes its
 * headers (the framework's reply, `setHeader()`, `writeHead()` with an object or raw lines).
 */
import type { ServerResponse } from 'node:http';
import { Controller, Get, Header, Module, Res } from '@nestjs/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TransactionModule } from '../../lib/index.js';
import { ADAPTERS, type RunningApp, startApp } from '../fixtures/nest-app.js';
import { headerValues, rawGet } from '../fixtures/raw-http.js';

/** Passed to `writeHead()` by every request of one route: it must come out of each unchanged. */
const SHARED_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'content-type': 'text/plain',
});

/** Nest's raw response under either adapter. */
type AnyResponse = ServerResponse | { raw: ServerResponse };
const raw = (response: AnyResponse): ServerResponse =>
  'raw' in response ? response.raw : response;

@Controller()
class EchoController {
  @Get('json')
  json() {
    return { ok: true };
  }

  @Get('own-value')
  @Header('X-Transaction-ID', 'set-by-the-app')
  ownValue() {
    return { ok: true };
  }

  @Get('write-head-object')
  writeHeadObject(@Res() response: AnyResponse) {
    raw(response).writeHead(200, SHARED_HEADERS).end('shared');
  }

  @Get('write-head-own-case')
  writeHeadOwnCase(@Res() response: AnyResponse) {
    raw(response).writeHead(200, 'Fine', { 'X-Transaction-Id': 'written-by-the-app' }).end();
  }

  @Get('write-head-lines')
  writeHeadLines(@Res() response: AnyResponse) {
    raw(response).writeHead(200, ['content-type', 'text/plain', 'x-other', '1']).end('lines');
  }

  @Get('write-head-own-line')
  writeHeadOwnLine(@Res() response: AnyResponse) {
    raw(response).writeHead(200, ['X-TRANSACTION-ID', 'a-raw-line']).end();
  }

  @Get('streamed')
  streamed(@Res() response: AnyResponse) {
    const out = raw(response);
    out.write('first ');
    setTimeout(() => out.end('second'), 5);
  }
}

@Module({ imports: [TransactionModule.forRoot()], controllers: [EchoController] })
class EchoModule {}

describe.each(ADAPTERS)('the echo header on %s', (adapter) => {
  let app: RunningApp;
  beforeAll(async () => {
    app = await startApp(adapter, EchoModule);
  });
  afterAll(() => app?.close());

  /** The transaction ID header lines of a response to `path` sent with `id`. */
  async function echoed(path: string, id = `echo-${adapter}-${path.slice(1)}`) {
    const response = await rawGet(app.port, path, [`X-Transaction-ID: ${id}`]);
    return { id, status: response.status, lines: headerValues(response, 'x-transaction-id') };
  }

  it.each(['/json', '/write-head-object', '/write-head-lines', '/streamed', '/no-such-route'])(
    'gives %s one line with the request ID',
    async (path) => {
      const { id, lines } = await echoed(path);
      expect(lines).toEqual([id]);
    },
  );

  it('lets a value the application set win, however it set it', async () => {
    expect((await echoed('/own-value')).lines).toEqual(['set-by-the-app']);
    expect((await echoed('/write-head-own-case')).lines).toEqual(['written-by-the-app']);
    expect((await echoed('/write-head-own-line')).lines).toEqual(['a-raw-line']);
  });

  it('leaves a header object the application passes to writeHead() as it was', async () => {
    const first = await echoed('/write-head-object', 'first-shared');
    const second = await echoed('/write-head-object', 'second-shared');
    expect([first.lines, second.lines]).toEqual([['first-shared'], ['second-shared']]);
    expect(SHARED_HEADERS).toEqual({ 'content-type': 'text/plain' });
  });

  it('echoes a fresh ID when none came', async () => {
    const response = await rawGet(app.port, '/json');
    expect(headerValues(response, 'x-transaction-id')).toEqual([
      expect.stringMatching(/^[0-9a-f-]{36}$/),
    ]);
  });
});
