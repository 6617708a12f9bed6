import 'reflect-metadata';
import { hasSubscribers } from 'node:diagnostics_channel';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Test } from '@nestjs/testing';
import { TransactionModule } from '../../lib/index.js';
import { LocalServer } from '../http-client/support/local-server.js';
import { callThrough, startForwardingApp } from './support/forwarding-app.js';

let downstream: LocalServer;
beforeAll(async () => {
  downstream = await LocalServer.start();
});
afterAll(() => downstream.close());

function lastId(): unknown {
  return downstream.requests.at(-1)!.headers['x-transaction-id'];
}

describe('option forwardHttpCalls', () => {
  it('false: fetch forwards nothing, TransactionHttpService still does', async () => {
    const app = await startForwardingApp({ forwardHttpCalls: false });
    try {
      await callThrough(app, 'fetch', downstream.url('/'), 'off-fetch');
      expect(lastId()).toBeUndefined();

      await callThrough(app, 'TransactionHttpService', downstream.url('/'), 'off-service');
      expect(lastId()).toBe('off-service');
    } finally {
      await app.close();
    }
    expect(hasSubscribers('undici:request:create')).toBe(false);
  });

  it('is refused at start-up unless a boolean', async () => {
    await expect(
      Test.createTestingModule({
        imports: [TransactionModule.forRoot({ forwardHttpCalls: 'yes' as never })],
      }).compile(),
    ).rejects.toThrow(/option "forwardHttpCalls" must be true or false; received "yes"/);
  });
});

describe('several applications in one process', () => {
  it('subscribe once, keep forwarding while one runs, and unsubscribe with the last', async () => {
    const first = await startForwardingApp();
    const second = await startForwardingApp();
    try {
      await callThrough(first, 'fetch', downstream.url('/'), 'first-app');
      expect(lastId()).toBe('first-app');
      await callThrough(second, 'fetch', downstream.url('/'), 'second-app');
      expect(lastId()).toBe('second-app');

      await first.close();
      expect(hasSubscribers('undici:request:create')).toBe(true);
      await callThrough(second, 'fetch', downstream.url('/'), 'second-alone');
      expect(lastId()).toBe('second-alone');
    } finally {
      await first.close();
      await second.close();
    }
    expect(hasSubscribers('undici:request:create')).toBe(false);
    expect(hasSubscribers('http.client.request.created')).toBe(false);
  });
});
