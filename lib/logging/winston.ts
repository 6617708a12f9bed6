import { TRANSACTION_ID_TAG } from '../transaction.constants.js';
import { currentTransactionId } from '../context/transaction.storage.js';

/**
 * winston `defaultMeta` that puts `transaction_id` on every entry logged inside a unit of work,
 * next to the fields of `meta` (e.g. `{ service: 'orders' }`); entries outside any unit of work
 * get `meta` alone, without even a `transaction_id` key. winston copies `defaultMeta` into each
 * entry when the logging call is made, in the caller's async context; a format could run later,
 * when a slow transport makes winston buffer entries, and then read another request's ID.
 *
 * @param meta fields of your own for every entry; a `transaction_id` among them is ignored.
 * @returns a live view of `meta`: each copy winston makes reads the ID of the current unit of work.
 *
 * @example
 * ```ts
 * WinstonModule.createLogger({ defaultMeta: transactionIdMeta(), transports: [...] }) // nest-winston
 * ```
 *
 * @publicApi
 */
export function transactionIdMeta<T extends object = object>(
  meta?: T,
): T & { readonly [TRANSACTION_ID_TAG]?: string } {
  // A copy, extensible: a proxy may only report keys its target lacks while the target can take them.
  const fields: Record<string | symbol, unknown> = { ...meta };
  delete fields[TRANSACTION_ID_TAG];
  const keys = Reflect.ownKeys(fields);
  const withId = [...keys, TRANSACTION_ID_TAG];
  return new Proxy(fields, {
    // `Object.assign()` lists the keys, then reads each: the ID's key exists only while an ID does.
    ownKeys: () => [...(currentTransactionId() === undefined ? keys : withId)],
    getOwnPropertyDescriptor(target, key) {
      if (key !== TRANSACTION_ID_TAG) return Reflect.getOwnPropertyDescriptor(target, key);
      const id = currentTransactionId();
      return id === undefined
        ? undefined
        : { value: id, enumerable: true, configurable: true, writable: false };
    },
    get: (target, key) => (key === TRANSACTION_ID_TAG ? currentTransactionId() : target[key]),
    has: (target, key) =>
      key === TRANSACTION_ID_TAG ? currentTransactionId() !== undefined : key in target,
    // Shared by every entry of the logger: nobody writes to it.
    set: () => false,
    defineProperty: () => false,
    deleteProperty: () => false,
  }) as T & { readonly [TRANSACTION_ID_TAG]?: string };
}
