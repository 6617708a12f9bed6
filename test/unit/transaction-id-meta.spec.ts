import { describe, expect, it } from 'vitest';
import { transactionStorage } from '../../lib/context/transaction.storage.js';
import { transactionIdMeta } from '../../lib/logging/winston.js';

// What winston does with `defaultMeta`: `Object.assign(entry, defaultMeta)` at the logging call.
describe('transactionIdMeta', () => {
  it("adds the current unit of work's ID to the fields given, and nothing outside one", () => {
    const meta = transactionIdMeta({ service: 'orders' });
    expect(Object.assign({}, meta)).toEqual({ service: 'orders' });
    expect('transaction_id' in Object.assign({}, meta)).toBe(false);
    transactionStorage.run({ id: 'order-42' }, () => {
      expect(Object.assign({ message: 'placed' }, meta)).toEqual({
        message: 'placed',
        service: 'orders',
        transaction_id: 'order-42',
      });
      expect({ ...meta }).toEqual({ service: 'orders', transaction_id: 'order-42' });
    });
  });

  it('reads the ID at each copy, never keeping an earlier one', () => {
    const meta = transactionIdMeta();
    const copies = ['a', 'b'].map((id) => transactionStorage.run({ id }, () => ({ ...meta })));
    expect(copies).toEqual([{ transaction_id: 'a' }, { transaction_id: 'b' }]);
    expect({ ...meta }).toEqual({});
  });

  it("ignores a transaction_id among the fields given, and leaves the caller's object alone", () => {
    const given = { transaction_id: 'fixed', service: 'orders' };
    const meta = transactionIdMeta(given);
    expect({ ...meta }).toEqual({ service: 'orders' });
    expect(transactionStorage.run({ id: 'live' }, () => ({ ...meta }))).toEqual({
      service: 'orders',
      transaction_id: 'live',
    });
    expect(given).toEqual({ transaction_id: 'fixed', service: 'orders' });
  });
});
