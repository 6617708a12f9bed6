import { describe, expect, it } from 'vitest';
import { transactionIdCors } from '../../lib/http/transaction-id-cors.js';

describe('transactionIdCors()', () => {
  it('exposes the header and keeps every other option as given', () => {
    const origin = ['https://shop.example.com'];
    expect(transactionIdCors({ origin, credentials: true })).toEqual({
      origin,
      credentials: true,
      exposedHeaders: ['x-transaction-id'],
    });
    expect(transactionIdCors()).toEqual({ exposedHeaders: ['x-transaction-id'] });
  });

  it('adds the header to lists given as arrays or comma-separated strings, once', () => {
    expect(
      transactionIdCors({
        allowedHeaders: 'Content-Type, Authorization',
        exposedHeaders: ['ETag'],
      }),
    ).toEqual({
      allowedHeaders: ['Content-Type', 'Authorization', 'x-transaction-id'],
      exposedHeaders: ['ETag', 'x-transaction-id'],
    });
    expect(
      transactionIdCors({
        allowedHeaders: ['X-Transaction-ID'],
        exposedHeaders: 'x-transaction-id',
      }),
    ).toEqual({ allowedHeaders: ['X-Transaction-ID'], exposedHeaders: ['x-transaction-id'] });
  });

  it('uses the header the module was given', () => {
    expect(transactionIdCors({ allowedHeaders: [] }, 'x-request-id')).toEqual({
      allowedHeaders: ['x-request-id'],
      exposedHeaders: ['x-request-id'],
    });
  });
});
