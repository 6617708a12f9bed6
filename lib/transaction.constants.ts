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
