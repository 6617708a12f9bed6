import { createServer, type IncomingMessage, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import 'reflect-metadata';
import { readTransactionHeader } from '../../lib/http/read-transaction-header.js';
import { TransactionIdPolicy } from '../../lib/index.js';
import { REJECTED } from '../../lib/id/transaction-id.policy.js';
import { compileTransactionModule } from './support/testing-module.js';

/**
 * A real Node.js server, so header joining and `rawHeaders` are Node's own. Requests are written
 * byte for byte over a socket: no client would send repeated header lines on request.
 */
let server: Server;
let received: (request: IncomingMessage) => void = () => undefined;

beforeAll(async () => {
  server = createServer((request, response) => {
    received(request);
    response.end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

/** Sends a GET with the given header lines and returns the request as Node.js parsed it. */
function receive(headerLines: string[]): Promise<IncomingMessage> {
  const { port } = server.address() as AddressInfo;
  return new Promise((resolve, reject) => {
    received = resolve;
    const socket = connect(port, '127.0.0.1');
    socket.on('error', reject);
    socket.on('data', () => socket.end());
    socket.write(
      ['GET / HTTP/1.1', 'Host: 127.0.0.1', 'Connection: close', ...headerLines, '', ''].join(
        '\r\n',
      ),
    );
  });
}

describe('readTransactionHeader on requests parsed by Node.js', () => {
  it('gives undefined when the header is absent', async () => {
    const request = await receive(['X-Other: 1']);

    expect(readTransactionHeader(request, 'x-transaction-id')).toBeUndefined();
  });

  it('gives the value of a single header line, whatever the case of its name', async () => {
    const request = await receive(['X-Transaction-ID: abc-123']);

    expect(readTransactionHeader(request, 'x-transaction-id')).toBe('abc-123');
  });

  it('gives the empty string for a header line with no value', async () => {
    const request = await receive(['x-transaction-id: ']);

    expect(readTransactionHeader(request, 'x-transaction-id')).toBe('');
  });

  it('gives null when the header came on two lines (Node.js joined them)', async () => {
    const request = await receive(['x-transaction-id: abc', 'x-transaction-id: def']);

    expect(request.headers['x-transaction-id']).toBe('abc, def');
    expect(readTransactionHeader(request, 'x-transaction-id')).toBeNull();
  });

  it('gives null for repeated lines that differ in case', async () => {
    const request = await receive(['X-Transaction-Id: abc', 'x-transaction-id: def']);

    expect(readTransactionHeader(request, 'x-transaction-id')).toBeNull();
  });

  it('gives null for repeated lines with the same value', async () => {
    const request = await receive(['x-transaction-id: abc', 'x-transaction-id: abc']);

    expect(readTransactionHeader(request, 'x-transaction-id')).toBeNull();
  });

  it('keeps a value that contains a comma when it came on one line', async () => {
    const request = await receive(['x-transaction-id: tenant-a,user-b']);

    expect(readTransactionHeader(request, 'x-transaction-id')).toBe('tenant-a,user-b');
  });

  it('does not count other headers whose names start the same', async () => {
    const request = await receive([
      'x-transaction-id: a,b',
      'x-transaction-id-origin: gateway',
      'x-transaction: other',
    ]);

    expect(readTransactionHeader(request, 'x-transaction-id')).toBe('a,b');
  });

  it('reads the header it is told to', async () => {
    const request = await receive(['X-Request-Id: r-1', 'x-transaction-id: t-1']);

    expect(readTransactionHeader(request, 'x-request-id')).toBe('r-1');
  });

  it('lets a custom validate accept a one-line value with a comma, and refuses two lines', async () => {
    const moduleRef = await compileTransactionModule({
      validate: (value) => /^[a-z0-9=,-]+$/.test(value),
      invalid: 'reject',
    });
    try {
      const policy = moduleRef.get(TransactionIdPolicy);
      const oneLine = await receive(['x-transaction-id: tenant=a,user=b']);
      const twoLines = await receive(['x-transaction-id: tenant=a', 'x-transaction-id: user=b']);

      expect(policy.settle(readTransactionHeader(oneLine, 'x-transaction-id'))).toBe(
        'tenant=a,user=b',
      );
      expect(policy.settle(readTransactionHeader(twoLines, 'x-transaction-id'))).toBe(REJECTED);
    } finally {
      await moduleRef.close();
    }
  });
});

describe('readTransactionHeader on header objects without rawHeaders', () => {
  it('gives the value as it is, since it cannot tell joined lines apart', () => {
    expect(
      readTransactionHeader({ headers: { 'x-transaction-id': 'a, b' } }, 'x-transaction-id'),
    ).toBe('a, b');
  });

  it('gives null for a header that came as an array', () => {
    const headers = { 'x-transaction-id': ['a', 'b'] } as unknown as Record<string, string>;

    expect(readTransactionHeader({ headers }, 'x-transaction-id')).toBeNull();
  });

  it('gives undefined when absent', () => {
    expect(readTransactionHeader({ headers: {} }, 'x-transaction-id')).toBeUndefined();
  });
});
