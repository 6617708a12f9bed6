import { TRANSACTION_ID_TAG } from '../transaction.constants.js';
import { currentTransactionId } from '../context/transaction.storage.js';

/** What `transactionIdMixin` adds to a pino line: nothing outside a unit of work. */
export type TransactionIdFields = { [TRANSACTION_ID_TAG]?: string };

const NONE: TransactionIdFields = Object.freeze({});

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
  // pino copies the mixin's fields into the line: a shared empty object costs nothing.
  return id === undefined ? NONE : { [TRANSACTION_ID_TAG]: id };
}
