import { Injectable } from '@nestjs/common';
import { TransactionIdPolicy } from '../id/transaction-id.policy.js';
import { currentTransactionId } from './transaction.storage.js';
import { UnitOfWork } from './unit-of-work.js';

/**
 * The transaction ID of the current request, message or job, anywhere in its async flow: after
 * awaits, in promise chains, in rxjs pipes, in guards and exception filters.
 *
 * @example
 * ```ts
 * @Injectable()
 * export class OrdersService {
 *   constructor(private readonly transaction: TransactionContext) {}
 *
 *   async place(order: Order) {
 *     await this.repository.save(order);
 *     this.logger.log(`order saved in ${this.transaction.id}`);
 *   }
 * }
 * ```
 *
 * @publicApi
 */
@Injectable()
export class TransactionContext {
  constructor(
    private readonly policy: TransactionIdPolicy,
    private readonly work: UnitOfWork,
  ) {}

  /** The current transaction ID; `undefined` outside any request, message or `run()`. */
  get id(): string | undefined {
    return currentTransactionId();
  }

  /**
   * Runs `fn` as a unit of work of its own, with `id` as its transaction ID (a fresh one when
   * omitted): for work that no request, message or scheduled run started (scripts, consumers of
   * queue libraries the module does not know; `@WithTransaction()` does the same for a method).
   * With Sentry, the work gets its own isolation scope (the one `@sentry/nestjs` forked for it,
   * if any), tagged with the ID; an error that escapes `fn` carries the ID to wherever it is
   * captured.
   *
   * @throws TypeError when `id` is given but not a valid transaction ID.
   *
   * @example
   * ```ts
   * consumer.on('message', (message) =>
   *   this.transaction.run(undefined, () => this.orders.handle(message)),
   * );
   * ```
   */
  run<T>(id: string | undefined, fn: () => T): T {
    if (id === undefined) return this.work.adopt(this.work.fresh(), fn);
    if (!this.policy.isValid(id)) {
      throw new TypeError(
        'nestjs-transaction-id: TransactionContext.run() was given an invalid transaction ID.',
      );
    }
    return this.work.adopt({ id }, fn);
  }
}
