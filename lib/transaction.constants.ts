// Shared with the browser helper: defined once, in a file without imports.
export { TRANSACTION_ID_HEADER, TRANSACTION_ID_TAG } from './transaction.shared-constants.js';

/**
 * Sentry tag that keeps the ID an untrusted client sent, with `tagClientId: true`.
 *
 * @publicApi
 */
export const CLIENT_TRANSACTION_ID_TAG = 'client_transaction_id';
