import { TRANSACTION_ID_TAG } from '../transaction.constants.js';
import { currentTransactionId } from '../context/transaction.storage.js';

const KEYS: readonly string[] = [TRANSACTION_ID_TAG];
const NO_KEYS: readonly string[] = [];

/**
 * winston `defaultMeta` that puts `transaction_id` on every entry logged inside a unit of work;
 * entries outside any unit of work get no such key at all. winston copies `defaultMeta` into each
 * entry when the logging call is made, in the caller's async context; a format could run later,
 * when a slow transport makes winston buffer entries, and then read another request's ID.
 *
 * A live view rather than a plain object: each copy reads the ID of the current unit of work.
 *
 * @example
 * ```ts
 * WinstonModule.createLogger({ defaultMeta: transactionIdMeta, transports: [...] }) // nest-winston
 * ```
 *
 * @publicApi
 */
export const transactionIdMeta: { readonly [TRANSACTION_ID_TAG]?: string } = new Proxy(
  // Extensible: a proxy may only report keys its target lacks while the target can take them.
  {},
  {
    // `Object.assign()` lists the keys, then reads each: the key exists only while an ID does.
    ownKeys: () => (currentTransactionId() === undefined ? [...NO_KEYS] : [...KEYS]),
    getOwnPropertyDescriptor(_target, key) {
      const id = key === TRANSACTION_ID_TAG ? currentTransactionId() : undefined;
      return id === undefined
        ? undefined
        : { value: id, enumerable: true, configurable: true, writable: false };
    },
    get: (_target, key) => (key === TRANSACTION_ID_TAG ? currentTransactionId() : undefined),
    has: (_target, key) => key === TRANSACTION_ID_TAG && currentTransactionId() !== undefined,
    // Shared by every logger that uses it: nobody writes to it.
    set: () => false,
    defineProperty: () => false,
    deleteProperty: () => false,
  },
);
