import { AsyncLocalStorage } from 'node:async_hooks';

/** What the library keeps for one unit of work. */
export interface TransactionStore {
  readonly id: string;
  /** The valid ID an untrusted client sent, kept for the `client_transaction_id` tag only. */
  readonly clientId?: string;
  /** The header of the HTTP request being served, whose incoming value may not be the ID. */
  readonly header?: string;
  /**
   * Found through the tag of an isolation scope forked inside other work, rather than given by a
   * unit of work: that scope may still be claimed by work of its own.
   */
  readonly inherited?: true;
  /**
   * Set on the unit of work of a message the policy turned away (option `invalid: 'reject'` or
   * `require`), under a fresh ID: `MessageRefusalGuard` answers a request with this error and
   * drops an event, before any other guard or the handler runs.
   */
  readonly refusal?: Error;
}

/**
 * The library's own store of transaction IDs, for processes where Sentry does not carry isolation
 * scopes through async work (not installed, not initialised). Module-level on purpose: decorators,
 * carriers and Sentry's event processor read it without dependency injection.
 */
export const transactionStorage = new AsyncLocalStorage<TransactionStore>();

/** Reads the store that Sentry's current isolation scope holds, once the Sentry bridge holds them. */
let readHeldStore: () => TransactionStore | undefined = () => undefined;

/**
 * Makes the current store readable from where Sentry keeps it. With Sentry initialised, the stores
 * ride on its isolation scopes instead of a second `AsyncLocalStorage`: on Node 20 every active
 * `AsyncLocalStorage` costs every promise of every request a hook call.
 */
export function readStoresFrom(reader: () => TransactionStore | undefined): void {
  readHeldStore = reader;
}

/** The store of the current async flow, if any. */
export function currentTransactionStore(): TransactionStore | undefined {
  // `getStore()` of a storage never `run()` costs nothing: it is not enabled.
  return transactionStorage.getStore() ?? readHeldStore();
}

/** The transaction ID of the current async flow, if any. */
export function currentTransactionId(): string | undefined {
  return currentTransactionStore()?.id;
}
