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
 * Its stack is that of the application's call (`get()`, `post()`, …), not of the library's
 * internals, so Sentry and logs point at the line that made it. It prints short: message (method,
 * URL, status), call site, code and transaction ID; the request and response (bodies, headers)
 * are non-enumerable, read from `config` and `response` when wanted.
 *
 * @publicApi
 */
export class TransactionHttpError<T = unknown> extends Error {
  /** The request as it was (to be) sent. */
  declare readonly config: TransactionHttpRequestConfig & { url: string; method: string };
  /** The response, when the server answered. */
  declare readonly response?: TransactionHttpResponse<T>;

  constructor(
    message: string,
    readonly code: TransactionHttpErrorCode,
    config: TransactionHttpRequestConfig & { url: string; method: string },
    /** The transaction ID of the call; `undefined` when it was made outside any transaction. */
    readonly transactionId: string | undefined,
    response?: TransactionHttpResponse<T>,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    // Not enumerable: loggers and error serialisers print every enumerable property, and these
    // hold both bodies and every header.
    Object.defineProperties(this, {
      config: { value: config, enumerable: false },
      response: { value: response, enumerable: false },
    });
  }

  /** The response's HTTP status, when the server answered. */
  get status(): number | undefined {
    return this.response?.status;
  }

  /** What JSON loggers get: the call in one line, without bodies or headers. */
  toJSON(): Record<string, unknown> {
    return {
      name: this.name,
      message: this.message,
      code: this.code,
      status: this.status,
      method: this.config.method,
      url: this.config.url,
      transactionId: this.transactionId,
    };
  }

  /** What `console.log`, `util.inspect` and Nest's `ConsoleLogger` print. */
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    const status = this.status === undefined ? '' : `, status: ${this.status}`;
    const cause = (this as { cause?: unknown }).cause;
    const reason = cause instanceof Error ? `\n  cause: ${cause.name}: ${cause.message}` : '';
    return `${this.stack}\n  code: ${this.code}${status}, transactionId: ${this.transactionId}${reason}`;
  }
}

// On the prototype, not an own property: loggers print own properties.
Object.defineProperty(TransactionHttpError.prototype, 'name', {
  value: 'TransactionHttpError',
  writable: true,
  configurable: true,
});
