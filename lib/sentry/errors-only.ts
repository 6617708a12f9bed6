// No Nest import here: this file is loaded from `instrument.ts`, before the application.

/** The shape of a Sentry integration, as far as this file needs it. */
interface NamedIntegration {
  name: string;
}

/**
 * Sentry integrations whose per-request cost buys, for an errors-only set-up, little more than an
 * isolation scope per request and its request data: `TransactionModule` gives both.
 */
const PER_REQUEST_INTEGRATIONS = new Set(['Http', 'Express', 'Fastify']);

/**
 * Sentry's default integrations without the per-request HTTP server instrumentation, for
 * correlated errors at near-bare speed. Pass it as `integrations` to `Sentry.init()` and keep
 * tracing off; `TransactionModule` then isolates every request itself. Outgoing `fetch` calls
 * keep Sentry's trace headers (the `NodeFetch` integration stays).
 *
 * @example
 * ```ts
 * // instrument.ts
 * import * as Sentry from '@sentry/node';
 * import { errorsOnlyIntegrations } from 'nestjs-transaction-id/sentry';
 *
 * Sentry.init({ dsn: process.env.SENTRY_DSN, integrations: errorsOnlyIntegrations });
 * ```
 *
 * @publicApi
 */
export function errorsOnlyIntegrations<T extends NamedIntegration>(defaults: T[]): T[] {
  return defaults.filter((integration) => !PER_REQUEST_INTEGRATIONS.has(integration.name));
}
