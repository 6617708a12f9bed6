// `nestjs-transaction-id/browser`: the front-end half. No Node.js or Nest imports, no effect on
// import; what it shares with the server (header, tag, ID grammar) comes from one file both import.
export { TRANSACTION_ID_HEADER, TRANSACTION_ID_TAG } from '../transaction.shared-constants.js';
export { createTransactionId, getTransactionId, startNewTransaction } from './transaction-id.js';
export { installTransactionId } from './request-instrumentation.js';
export type { BrowserTransactionOptions, StatusCodeRange } from './browser-options.js';
export type { BrowserPropagationTarget } from './propagation-targets.js';
export {
  requestFailure,
  TransactionRequestError,
  transactionIdOf,
} from './transaction-request.error.js';
export {
  transactionIdIntegration,
  type SentryClientLike,
  type SentryEventLike,
  type TransactionIdIntegration,
} from './sentry-integration.js';
