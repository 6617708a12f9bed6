import { currentTransactionStore, type TransactionStore } from '../context/transaction.storage.js';
import { activeUnitOfWork, type UnitOfWork } from '../context/unit-of-work.js';
import { REJECTED } from '../id/transaction-id.policy.js';

/**
 * Where the transaction ID of a method's run comes from:
 * - `'fresh'`: a new one every run (a cron tick, a consumer's message without an ID);
 * - `'inherit'`: the ID of the unit of work that caused the run (an event's emitter), else fresh;
 * - a function of the method's arguments: the ID that came with them, settled by the policy
 *   (option `trustMessages`) under the given transport name.
 */
export type RunIdSource =
  | 'fresh'
  | 'inherit'
  | {
      readonly transport: string;
      readonly read: (args: unknown[]) => string | null | undefined;
    };

/** Marks a method this library made a unit of work of, with the method it wraps. */
const WRAPPED = Symbol.for('nestjs-transaction-id:unit-of-work-method');

// @sentry/nestjs marks the handlers it wraps in an isolation scope of their own.
const SENTRY_WRAPPED = Symbol.for('sentry.nestjs.wrapped');

type Method = ((this: unknown, ...args: unknown[]) => unknown) & {
  [WRAPPED]?: Method;
  [SENTRY_WRAPPED]?: boolean;
};

/**
 * `method` as a unit of work of its own each time it runs: with its own isolation scope (or the
 * one `@sentry/nestjs` forks for it), tagged; an exception it ends with reported once, with the
 * tag, when `report` is set (cron runs and event handlers: their frameworks only log them); an
 * error that escapes keeps the ID. Without a running application, `method` itself runs.
 */
export function asUnitOfWork(method: Method, source: RunIdSource, report: boolean): Method {
  if (method[WRAPPED] !== undefined) return method;
  const isolatedBySentry = method[SENTRY_WRAPPED] === true;
  const wrapped: Method = function (this: unknown, ...args: unknown[]) {
    const work = activeUnitOfWork();
    if (work === undefined) return method.apply(this, args);
    const store = storeOf(work, source, args);
    const run = () => method.apply(this, args);
    const body = report ? () => reporting(work, run) : run;
    return isolatedBySentry ? work.within(store, body) : work.adopt(store, body);
  };
  Object.defineProperty(wrapped, 'name', { value: method.name, configurable: true });
  copyMetadata(method, wrapped);
  wrapped[WRAPPED] = method;
  if (isolatedBySentry) wrapped[SENTRY_WRAPPED] = true;
  return wrapped;
}

/** Makes the method `key` of `prototype` a unit of work (see `asUnitOfWork`), once. */
export function wrapMethod(
  prototype: object,
  key: string | symbol,
  source: RunIdSource,
  report: boolean,
): void {
  const descriptor = Object.getOwnPropertyDescriptor(prototype, key);
  if (typeof descriptor?.value !== 'function' || !descriptor.writable) return;
  Object.defineProperty(prototype, key, {
    ...descriptor,
    value: asUnitOfWork(descriptor.value as Method, source, report),
  });
}

function storeOf(work: UnitOfWork, source: RunIdSource, args: unknown[]): TransactionStore {
  if (source === 'fresh') return work.fresh();
  if (source === 'inherit') {
    const current = currentTransactionStore();
    return current === undefined ? work.fresh() : { id: current.id };
  }
  const store = work.settle(readSafely(source.read, args), {
    transport: source.transport,
    context: args,
  });
  if (store === REJECTED) {
    throw new TypeError(
      `nestjs-transaction-id: a ${source.transport} run was refused: its transaction ID is missing or invalid.`,
    );
  }
  return store;
}

function readSafely(
  read: (args: unknown[]) => string | null | undefined,
  args: unknown[],
): string | null | undefined {
  try {
    return read(args);
  } catch {
    return null;
  }
}

function reporting<T>(work: UnitOfWork, run: () => T): T {
  let result: T;
  try {
    result = run();
  } catch (error) {
    work.reportUnhandled(error);
    throw error;
  }
  if (!(result instanceof Promise)) return result;
  return result.catch((error: unknown) => {
    work.reportUnhandled(error);
    throw error;
  }) as T;
}

// Frameworks find their handlers by the metadata of the method: the wrapper carries it too.
function copyMetadata(from: object, to: object): void {
  for (const key of Reflect.getOwnMetadataKeys(from)) {
    Reflect.defineMetadata(key, Reflect.getOwnMetadata(key, from), to);
  }
}
