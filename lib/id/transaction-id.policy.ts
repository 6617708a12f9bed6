import { randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger } from '@nestjs/common';
import {
  isDefaultId,
  RESOLVED_TRANSACTION_OPTIONS,
  SENTRY_TAG_MAX_LENGTH,
} from '../transaction.internal-constants.js';
import { defaultValidate } from '../options/transaction-options.js';
import type { ResolvedTransactionOptions } from '../options/transaction-options.js';
import type {
  TransactionMessageSource,
  TransactionSource,
} from '../interfaces/transaction-module-options.interface.js';

/**
 * What `TransactionIdPolicy.settle()` returns when the work must be turned away: an invalid ID
 * with `invalid: 'reject'`, or no ID with `require: true`.
 */
export const REJECTED = Symbol('nestjs-transaction-id:rejected');

/**
 * Printable ASCII, no leading or trailing space: whatever a custom `validate` accepts, an ID must
 * be safe in a header, a log line and a Sentry tag (no CR/LF, no control characters).
 */
const SAFE_ID = /^[\x21-\x7e](?:[\x20-\x7e]*[\x21-\x7e])?$/;

/**
 * Decides the transaction ID of a unit of work from what came in with it: keeps a valid incoming
 * ID, makes a fresh one when there is none, and replaces or rejects an invalid one. Public for
 * `isValid()`, `generate()` and `trusts()`, which follow the module's options.
 *
 * @publicApi
 */
@Injectable()
export class TransactionIdPolicy {
  private readonly logger = new Logger('TransactionModule');
  private readonly warned = new Set<string>();

  constructor(
    @Inject(RESOLVED_TRANSACTION_OPTIONS) private readonly options: ResolvedTransactionOptions,
  ) {
    const sample = this.callGenerate();
    if (!this.isValid(sample)) {
      throw new Error(
        'nestjs-transaction-id: option "generate" returned an ID that "validate" refuses ' +
          `(${JSON.stringify(sample)}); make them agree.`,
      );
    }
  }

  /**
   * The ID for a unit of work, given the incoming value (`undefined` when none came, `null` when
   * several did, as with repeated header lines) and whether its sender is trusted to choose it.
   *
   * @internal
   */
  settle(incoming: string | null | undefined, trusted = true): string | typeof REJECTED {
    if (incoming === undefined) return this.options.require ? REJECTED : this.generate();
    if (!trusted) return this.generate();
    if (incoming !== null && this.isValid(incoming)) return incoming;
    return this.options.invalid === 'reject' ? REJECTED : this.generate();
  }

  /**
   * Whether the sender of some work may choose its transaction ID: option `trustIncoming` for
   * what came over HTTP, `trustMessages` for messages and jobs.
   */
  trusts(source: TransactionSource): boolean {
    if (isMessageSource(source))
      return this.ask('trustMessages', this.options.trustMessages, source);
    return this.ask('trustIncoming', this.options.trustIncoming, source);
  }

  private ask<S>(name: string, trust: boolean | ((source: S) => boolean), source: S): boolean {
    if (typeof trust === 'boolean') return trust;
    try {
      const trusted: unknown = trust(source);
      if (isThenable(trusted)) {
        // Only a synchronous `true` trusts; a promise must not reject unhandled and end the process.
        trusted.then(undefined, () => undefined);
        this.warnOnce(
          `Option "${name}" returned a promise; it must return a boolean. Senders are not trusted.`,
        );
        return false;
      }
      return trusted === true;
    } catch {
      return false;
    }
  }

  /** Whether a value is acceptable as a transaction ID. */
  isValid(value: unknown): value is string {
    // The default pattern is stricter than SAFE_ID and the tag limit: one test is enough.
    if (this.options.validate === defaultValidate) {
      return typeof value === 'string' && isDefaultId(value);
    }
    return (
      typeof value === 'string' &&
      value.length <= SENTRY_TAG_MAX_LENGTH &&
      SAFE_ID.test(value) &&
      this.callValidate(value)
    );
  }

  /** A fresh ID; falls back to a random UUID if a custom `generate` misbehaves at run time. */
  generate(): string {
    // The default makes valid IDs by construction: no need to check every one.
    if (this.options.generate === randomUUID) return randomUUID();
    const id = this.callGenerate();
    if (this.isValid(id)) return id;
    this.warnOnce(
      'Option "generate" returned an invalid ID; using random UUIDs instead until it recovers.',
    );
    return randomUUID();
  }

  private warnOnce(message: string): void {
    if (this.warned.has(message)) return;
    this.warned.add(message);
    this.logger.warn(message);
  }

  // A throwing custom `validate` must not take the server down: the value is refused.
  private callValidate(value: string): boolean {
    try {
      return this.options.validate(value) === true;
    } catch {
      return false;
    }
  }

  private callGenerate(): unknown {
    try {
      return this.options.generate();
    } catch {
      return undefined;
    }
  }
}

function isMessageSource(source: TransactionSource): source is TransactionMessageSource {
  return typeof (source as Partial<TransactionMessageSource>).transport === 'string';
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}
