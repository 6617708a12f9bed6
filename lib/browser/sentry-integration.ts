import { TRANSACTION_ID_TAG } from '../transaction.shared-constants.js';
import type { BrowserTransactionOptions } from './browser-options.js';
import { install } from './request-instrumentation.js';
import { getTransactionId } from './transaction-id.js';

// Structural types of what the integration uses from a Sentry browser SDK (10 or 11), so that this
// file needs no Sentry package, not even for its types.

/**
 * The part of a Sentry `Client` the integration uses.
 *
 * @publicApi
 */
export interface SentryClientLike {
  captureException(
    exception: unknown,
    hint?: {
      captureContext?: { tags?: Record<string, string> };
      mechanism?: { type: string; handled: boolean };
    },
  ): string;
}

/**
 * The part of a Sentry `Event` the integration touches.
 *
 * @publicApi
 */
export interface SentryEventLike {
  tags?: { [key: string]: unknown };
}

/**
 * A Sentry integration (`Integration` of `@sentry/browser`), returned by
 * `transactionIdIntegration()`.
 *
 * @publicApi
 */
export interface TransactionIdIntegration {
  name: 'TransactionId';
  setup(client: SentryClientLike): void;
  processEvent<E extends SentryEventLike>(event: E): E;
}

/**
 * The browser half as a Sentry integration: every event of the client is tagged `transaction_id`
 * with the current ID (unless the event or its scope already has that tag), and `fetch` and
 * `XMLHttpRequest` are instrumented as by `installTransactionId(options)`, each failed request
 * being reported once to this client, tagged with the request's own ID.
 *
 * @example
 * ```ts
 * import * as Sentry from '@sentry/browser';
 * import { transactionIdIntegration } from 'nestjs-transaction-id/browser';
 *
 * Sentry.init({ dsn, integrations: [transactionIdIntegration()] });
 * ```
 * @publicApi
 */
export function transactionIdIntegration(
  options: BrowserTransactionOptions = {},
): TransactionIdIntegration {
  let uninstall: (() => void) | undefined;
  return {
    name: 'TransactionId',
    setup(client) {
      uninstall?.();
      uninstall = install(options, (error, transactionId) => {
        // Captured through the client, so the scope's data (user, breadcrumbs) is applied; the
        // tag of the request's own ID wins over the current one. The SDK marks `error` as
        // captured: the app throwing it again reports nothing more.
        client.captureException(error, {
          captureContext: { tags: { [TRANSACTION_ID_TAG]: transactionId } },
          // Says where the report came from; handled, since the app gets the response or error.
          mechanism: { type: 'auto.http.nestjs_transaction_id', handled: true },
        });
      });
    },
    processEvent(event) {
      if (event.tags?.[TRANSACTION_ID_TAG] === undefined) {
        event.tags = { ...event.tags, [TRANSACTION_ID_TAG]: getTransactionId() };
      }
      return event;
    },
  };
}
