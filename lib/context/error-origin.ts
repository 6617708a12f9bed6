import type { TransactionStore } from './transaction.storage.js';

/** The unit of work an error left, on the error itself: it is captured outside that work. */
const ORIGIN = Symbol.for('nestjs-transaction-id:origin');

type Marked = object & { [ORIGIN]?: TransactionStore };

/**
 * The store of the unit of work `error` escaped from, if it escaped one: an error thrown by a
 * job and captured by the caller of `run()`, or by a process-level handler, still belongs to the
 * job's transaction.
 */
export function originOf(error: unknown): TransactionStore | undefined {
  return typeof error === 'object' && error !== null ? (error as Marked)[ORIGIN] : undefined;
}

/**
 * `fn`, marking what it throws or rejects with as coming from `store`'s unit of work. The
 * innermost unit of work an error leaves is where it was made; outer ones do not remark it.
 */
export function keepingOrigin<T>(store: TransactionStore, fn: () => T): () => T {
  return () => {
    let result: T;
    try {
      result = fn();
    } catch (error) {
      mark(error, store);
      throw error;
    }
    if (!isPromiseLike(result)) return result;
    return result.then(undefined, (error: unknown) => {
      mark(error, store);
      throw error;
    }) as T;
  };
}

function mark(error: unknown, store: TransactionStore): void {
  if (typeof error !== 'object' || error === null || ORIGIN in error) return;
  if (!Object.isExtensible(error)) return;
  // Not enumerable: loggers and serialisers that walk the error must not see it.
  Object.defineProperty(error, ORIGIN, { value: store, configurable: true });
}

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}
