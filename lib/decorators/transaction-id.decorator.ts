import { createParamDecorator } from '@nestjs/common';
import { currentTransactionId } from '../context/transaction.storage.js';

/**
 * Injects the transaction ID of the current request, message or event into a handler parameter:
 * in controllers, message handlers, resolvers and gateways alike. `undefined` only where no unit
 * of work runs (a handler called outside any request, message or `TransactionContext.run()`).
 *
 * @example
 * ```ts
 * @Post('checkout')
 * checkout(@Body() order: Order, @TransactionId() id: string | undefined) {
 *   return { id };
 * }
 * ```
 *
 * @see TransactionContext for the same value outside handlers.
 * @publicApi
 */
export const TransactionId = createParamDecorator((_data: unknown): string | undefined =>
  currentTransactionId(),
);
