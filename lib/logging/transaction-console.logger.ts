import { ConsoleLogger } from '@nestjs/common';
import { TRANSACTION_ID_TAG } from '../transaction.constants.js';
import { currentTransactionId } from '../context/transaction.storage.js';

/**
 * Nest's `ConsoleLogger` with the transaction ID on every line logged inside a unit of work
 * (request, message, job, `TransactionContext.run()`): `transaction_id=<id>` after the context in
 * text mode, a `transaction_id` field in JSON mode (`json: true`). Lines logged outside any unit of
 * work (start-up, shutdown) are exactly what `ConsoleLogger` prints.
 *
 * Installed as the application's logger, it is also what every `new Logger(Context)` of the
 * application writes through.
 *
 * @example
 * ```ts
 * const app = await NestFactory.create(AppModule, { bufferLogs: true });
 * app.useLogger(new TransactionConsoleLogger({ json: true }));
 * ```
 *
 * @publicApi
 */
export class TransactionConsoleLogger extends ConsoleLogger {
  protected override formatContext(context: string): string {
    const formatted = super.formatContext(context);
    const id = currentTransactionId();
    return id === undefined ? formatted : `${formatted}${TRANSACTION_ID_TAG}=${id} `;
  }

  protected override getJsonLogObject(
    message: unknown,
    options: Parameters<ConsoleLogger['getJsonLogObject']>[1],
  ): ReturnType<ConsoleLogger['getJsonLogObject']> {
    const logObject = super.getJsonLogObject(message, options);
    const id = currentTransactionId();
    if (id !== undefined) logObject[TRANSACTION_ID_TAG] = id;
    return logObject;
  }
}
