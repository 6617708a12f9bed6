/**
 * Configuration of one call made with `TransactionHttpService`, shaped like axios's.
 *
 * @publicApi
 */
export interface TransactionHttpRequestConfig {
  /** Absolute URL, or a path resolved against `baseURL`. */
  url?: string;
  /** Prefix for a relative `url`. */
  baseURL?: string;
  /** @default 'GET' */
  method?: string;
  /** Request headers. A transaction ID header set here is sent as given, never overwritten. */
  headers?: HeadersInit;
  /** Query parameters appended to the URL; `undefined` and `null` values are left out. */
  params?: Record<string, string | number | boolean | null | undefined>;
  /**
   * Request body. A plain object or an array is sent as JSON with
   * `content-type: application/json`; anything else `fetch` accepts is passed through.
   */
  data?: unknown;
  /** Abort the call, and error the Observable, after this many milliseconds. */
  timeout?: number;
  /** Abort the call from outside. Unsubscribing aborts it too. */
  signal?: AbortSignal;
  /** Other `fetch` options (`redirect`, `credentials`, `dispatcher`, …). */
  init?: Omit<RequestInit, 'method' | 'headers' | 'body' | 'signal'>;
}

/**
 * A settled call: the body is parsed as JSON when the response says it is JSON, and is text
 * otherwise (an empty body gives `undefined` with JSON, `''` with text).
 *
 * @publicApi
 */
export interface TransactionHttpResponse<T = unknown> {
  data: T;
  status: number;
  statusText: string;
  headers: Headers;
  /** The request as sent, headers included. */
  config: TransactionHttpRequestConfig & { url: string; method: string };
}
