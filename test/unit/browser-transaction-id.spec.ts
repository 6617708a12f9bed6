import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  createTransactionId,
  getTransactionId,
  startNewTransaction,
} from '../../lib/browser/transaction-id.js';
import { isDefaultId } from '../../lib/transaction.internal-constants.js';

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('browser transaction IDs', () => {
  afterEach(() => vi.unstubAllGlobals());

  it('are random UUIDs, valid by the server’s default rule', () => {
    const ids = new Set(Array.from({ length: 1000 }, createTransactionId));
    expect(ids.size).toBe(1000);
    for (const id of ids) {
      expect(id).toMatch(UUID_V4);
      expect(isDefaultId(id)).toBe(true);
    }
  });

  it('are built from getRandomValues where randomUUID is missing (insecure contexts)', () => {
    const { getRandomValues } = globalThis.crypto;
    vi.stubGlobal('crypto', { getRandomValues: getRandomValues.bind(globalThis.crypto) });
    const ids = new Set(Array.from({ length: 1000 }, createTransactionId));
    expect(ids.size).toBe(1000);
    for (const id of ids) expect(id).toMatch(UUID_V4);
    // Every byte value comes out as two hex digits, zeros included.
    vi.stubGlobal('crypto', { getRandomValues: (bytes: Uint8Array) => bytes.fill(0) });
    expect(createTransactionId()).toBe('00000000-0000-4000-8000-000000000000');
  });

  it('stay the same for the page load until a new transaction starts', () => {
    const first = getTransactionId();
    expect(getTransactionId()).toBe(first);
    const next = startNewTransaction();
    expect(next).not.toBe(first);
    expect(getTransactionId()).toBe(next);
  });
});
