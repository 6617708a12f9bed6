import { TRANSACTION_ID_TAG } from '../transaction.constants.js';
import { currentTransactionId } from '../context/transaction.storage.js';

/**
 * What `transactionIdMixin` adds to a pino line: nothing outside a unit of work.
 *
 * @publicApi
 */
export type TransactionIdFields = { [TRANSACTION_ID_TAG]?: string };

/**
 * A pino `mixin` that puts `transaction_id` on every line logged inside a unit of work, whichever
 * logger wrote it: nestjs-pino's `PinoLogger` and `Logger`, pino-http's request lines, a plain
 * `pino()` instance. Lines outside any unit of work get nothing.
 *
 * @example
 * ```ts
 * LoggerModule.forRoot({ pinoHttp: { mixin: transactionIdMixin } }) // nestjs-pino
 * ```
 *
 * @publicApi
 */
export function transactionIdMixin(): TransactionIdFields {
  const id = currentTransactionId();
  // A fresh object each call: pino merges the line's own fields into what the mixin returns.
  return id === undefined ? {} : { [TRANSACTION_ID_TAG]: id };
}
