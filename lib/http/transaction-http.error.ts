import type {
  TransactionHttpRequestConfig,
  TransactionHttpResponse,
} from '../interfaces/transaction-http.interfaces.js';

/**
 * Why a `TransactionHttpService` call failed:
 * - `'ERR_BAD_RESPONSE'`: the server answered with a status outside 200–299;
 * - `'ERR_BAD_BODY'`: the response said JSON but its body was not;
 * - `'ETIMEDOUT'`: the `timeout` elapsed;
 * - `'ERR_CANCELED'`: the caller's `signal` aborted the call;
 * - `'ERR_NETWORK'`: no answer (refused, reset, DNS, TLS…), see `cause`;
 * - `'ERR_INVALID_URL'`: the URL could not be built.
 *
 * @publicApi
 */
export type TransactionHttpErrorCode =
  | 'ERR_BAD_RESPONSE'
  | 'ERR_BAD_BODY'
  | 'ETIMEDOUT'
  | 'ERR_CANCELED'
  | 'ERR_NETWORK'
  | 'ERR_INVALID_URL';

/**
 * The error a `TransactionHttpService` Observable fails with. It carries the transaction ID of the
 * call, so a handler that lets it escape is reported to Sentry with the right tag.
 *
 * @publicApi
 */
export class TransactionHttpError<T = unknown> extends Error {
  override readonly name = 'TransactionHttpError';

  constructor(
    message: string,
    readonly code: TransactionHttpErrorCode,
    /** The request as it was (to be) sent. */
    readonly config: TransactionHttpRequestConfig & { url: string; method: string },
    /** The transaction ID of the call; `undefined` when it was made outside any transaction. */
    readonly transactionId: string | undefined,
    /** The response, when the server answered. */
    readonly response?: TransactionHttpResponse<T>,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  /** The response's HTTP status, when the server answered. */
  get status(): number | undefined {
    return this.response?.status;
  }
}
