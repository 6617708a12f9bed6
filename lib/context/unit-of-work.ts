import type { IncomingMessage } from 'node:http';
import { Inject, Injectable, OnApplicationShutdown, Optional } from '@nestjs/common';
import { RESOLVED_TRANSACTION_OPTIONS, SENTRY_BRIDGE } from '../transaction.internal-constants.js';
import type { ResolvedTransactionOptions } from '../options/transaction-options.js';
import type { TransactionSource } from '../interfaces/transaction-module-options.interface.js';
import { REJECTED, TransactionIdPolicy } from '../id/transaction-id.policy.js';
import type { SentryBridge } from '../sentry/sentry-bridge.js';
import { transactionStorage, type TransactionStore } from './transaction.storage.js';
import { keepingOrigin } from './error-origin.js';

/**
 * The one way into a unit of work, for every entry: HTTP requests, messages of every transport,
 * WebSocket messages, jobs. An entry only gets the raw incoming value from its carrier; the policy
 * (validation, trust, generation, rejection) and entering the work (isolation scope, tag,
 * context) happen here, the same for all of them.
 */
@Injectable()
export class UnitOfWork implements OnApplicationShutdown {
  constructor(
    private readonly policy: TransactionIdPolicy,
    @Inject(RESOLVED_TRANSACTION_OPTIONS) private readonly options: ResolvedTransactionOptions,
    @Optional() @Inject(SENTRY_BRIDGE) private readonly sentry?: SentryBridge,
  ) {
    makeActive(this);
  }

  onApplicationShutdown(): void {
    if (active === this) active = undefined;
  }

  /** The store of work that starts a transaction of its own: a fresh ID. */
  fresh(): TransactionStore {
    return { id: this.policy.generate() };
  }

  /**
   * The store of work that came with `incoming` (`undefined` when none came, `null` when several
   * did) from `source`; `REJECTED` when the work must be turned away. `header` is the HTTP header
   * the value came in, kept on the store for the events whose request headers show it.
   */
  settle(
    incoming: string | null | undefined,
    source: TransactionSource,
    header?: string,
  ): TransactionStore | typeof REJECTED {
    const trusted = this.policy.trusts(source);
    const id = this.policy.settle(incoming, trusted);
    if (id === REJECTED) return REJECTED;
    const clientId =
      !trusted && this.options.tagClientId && this.policy.isValid(incoming) ? incoming : undefined;
    if (header !== undefined) return { id, clientId, header };
    return clientId === undefined ? { id } : { id, clientId };
  }

  /**
   * Runs `fn` as the unit of work of `store`, whose ID is settled already: in the isolation scope
   * Sentry forked for `request`, or in one of its own.
   */
  run<T>(store: TransactionStore, fn: () => T, request?: IncomingMessage): T {
    if (this.sentry?.holdsStores) return this.sentry.run(store, fn, request);
    return transactionStorage.run(store, fn);
  }

  /**
   * Runs `fn` as the unit of work of `store` in the isolation scope `@sentry/nestjs` may have
   * forked for it already (cron runs, `@OnEvent` handlers, BullMQ jobs): that scope is tagged,
   * not a second one forked. Where none was, as `run()`. An error that escapes keeps the ID.
   */
  adopt<T>(store: TransactionStore, fn: () => T): T {
    const work = keepingOrigin(store, fn);
    if (this.sentry?.holdsStores) return this.sentry.adopt(store, work);
    return transactionStorage.run(store, work);
  }

  /**
   * Runs `fn` with `store` as the current unit of work, in the isolation scope something else
   * forks for it (`@sentry/nestjs` around a method it wrapped): the module forks none.
   */
  within<T>(store: TransactionStore, fn: () => T): T {
    return transactionStorage.run(store, keepingOrigin(store, fn));
  }

  /** Reports an exception that ends a unit of work no framework reports for (jobs, events). */
  reportUnhandled(exception: unknown): void {
    if (this.options.reportUnhandled) this.sentry?.reportEndOfWork(exception);
  }
}

/** The unit of work of the application started last: decorators have no injector to ask. */
let active: UnitOfWork | undefined;

function makeActive(work: UnitOfWork): void {
  active = work;
}

/** The running application's `UnitOfWork`, if any. */
export function activeUnitOfWork(): UnitOfWork | undefined {
  return active;
}
