// Internal tokens and values. `index.ts` does not export this file: nothing here is public API.

/** Injection token of the options after defaults and validation (`ResolvedTransactionOptions`). */
export const RESOLVED_TRANSACTION_OPTIONS = Symbol('nestjs-transaction-id:resolved-options');

/** Injection token of the Sentry bridge; its value is `undefined` when `@sentry/node` is not installed. */
export const SENTRY_BRIDGE = Symbol('nestjs-transaction-id:sentry-bridge');

/**
 * Injection token of whether `TransactionInterceptor` is registered globally (option
 * `globalInterceptor`, with `'auto'` decided at start-up).
 */
export const GLOBAL_INTERCEPTOR = Symbol('nestjs-transaction-id:global-interceptor');

/** Marks an HTTP server whose `emit` this library already wraps. */
export const BOUND_SERVER = Symbol.for('nestjs-transaction-id:bound-server');

// The browser helper validates IDs by the same rule: defined once, in a file without imports.
export { isDefaultId } from './transaction.shared-constants.js';

/** Sentry accepts tag values of at most 200 characters. */
export const SENTRY_TAG_MAX_LENGTH = 200;

/** Injection token of the WebSockets binding; `undefined` when `@nestjs/websockets` is not installed. */
export const WEBSOCKETS_BINDING = Symbol('nestjs-transaction-id:websockets-binding');
