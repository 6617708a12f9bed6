/**
 * Header that carries the transaction ID between services, unless `header` says otherwise.
 *
 * @publicApi
 */
export const TRANSACTION_ID_HEADER = 'x-transaction-id';

/**
 * Sentry tag that every event raised for a transaction carries.
 *
 * @publicApi
 */
export const TRANSACTION_ID_TAG = 'transaction_id';

/**
 * Sentry tag that keeps the ID an untrusted client sent, with `tagClientId: true`.
 *
 * @publicApi
 */
export const CLIENT_TRANSACTION_ID_TAG = 'client_transaction_id';
