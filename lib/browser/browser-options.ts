import type { BrowserPropagationTarget } from './propagation-targets.js';

/**
 * A status code, or an inclusive range of them, as in Sentry's `httpClientIntegration`.
 *
 * @publicApi
 */
export type StatusCodeRange = number | [number, number];

/**
 * Options of `installTransactionId()` and `transactionIdIntegration()`.
 *
 * @publicApi
 */
export interface BrowserTransactionOptions {
  /**
   * Other origins that may receive the ID, besides the page's own: origins
   * (`'https://api.example.com'`) or RegExps tested against the absolute URL. Requests anywhere
   * else are left untouched. The APIs listed must allow the header by CORS
   * (`transactionIdCors()` on a Nest server).
   * @default [] (same origin only)
   */
  propagationTargets?: BrowserPropagationTarget[];
  /**
   * Statuses that count as a failed request, reported once with the request's ID.
   * @default [[500, 599]]
   */
  failedRequestStatusCodes?: StatusCodeRange[];
  /**
   * Header that carries the ID; must match the server's `header` option.
   * @default 'x-transaction-id'
   */
  header?: string;
  /**
   * Called once per failed request to an allowed origin (failed status or no response), with
   * the error that is reported to Sentry when the integration is in use. Useful without Sentry.
   */
  onRequestFailure?: (error: unknown, transactionId: string) => void;
}
