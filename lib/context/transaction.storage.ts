import { AsyncLocalStorage } from 'node:async_hooks';

/** What the library keeps for one unit of work. */
export interface TransactionStore {
  readonly id: string;
  /** The valid ID an untrusted client sent, kept for the `client_transaction_id` tag only. */
  readonly clientId?: string;
  /** The header of the HTTP request being served, whose incoming value may not be the ID. */
  readonly header?: string;
}

/**
 * The one store of transaction IDs in this process. Module-level on purpose: decorators, carriers
 * and Sentry's event processor read it without dependency injection.
 */
export const transactionStorage = new AsyncLocalStorage<TransactionStore>();

/** The transaction ID of the current async flow, if any. */
export function currentTransactionId(): string | undefined {
  return transactionStorage.getStore()?.id;
}
