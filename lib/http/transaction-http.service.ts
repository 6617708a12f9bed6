import { Inject, Injectable } from '@nestjs/common';
import { Observable } from 'rxjs';
import { RESOLVED_TRANSACTION_OPTIONS } from '../transaction.internal-constants.js';
import type { ResolvedTransactionOptions } from '../options/transaction-options.js';
import type {
  TransactionHttpRequestConfig,
  TransactionHttpResponse,
} from '../interfaces/transaction-http.interfaces.js';
import { currentTransactionId } from '../context/transaction.storage.js';
import { isPropagationTarget } from './propagation-targets.js';
import { TransactionHttpError } from './transaction-http.error.js';

type SentConfig = TransactionHttpRequestConfig & { url: string; method: string };
type BodylessConfig = Omit<TransactionHttpRequestConfig, 'url' | 'method'>;
type BodyConfig = Omit<TransactionHttpRequestConfig, 'url' | 'method' | 'data'>;

/**
 * HTTP client on Node.js's global `fetch` that forwards the current transaction ID, shaped like
 * `HttpService` of `@nestjs/axios`: every method returns a cold Observable that makes the call when
 * subscribed and aborts it when unsubscribed.
 *
 * @example
 * ```ts
 * const { data } = await firstValueFrom(this.http.post<Order>(`${ORDERS_URL}/orders`, order));
 * ```
 *
 * @publicApi
 */
@Injectable()
export class TransactionHttpService {
  constructor(
    @Inject(RESOLVED_TRANSACTION_OPTIONS) private readonly settings: ResolvedTransactionOptions,
  ) {}

  /** Makes a call described by `config`; fails with `TransactionHttpError` unless it gets a 2xx. */
  request<T = unknown>(config: TransactionHttpRequestConfig): Observable<TransactionHttpResponse<T>> {
    return new Observable<TransactionHttpResponse<T>>((subscriber) => {
      // The ID of whoever subscribes: that is when the call is made.
      const transactionId = currentTransactionId();
      const controller = new AbortController();
      this.send<T>(config, transactionId, controller.signal).then(
        (response) => {
          subscriber.next(response);
          subscriber.complete();
        },
        (error: unknown) => subscriber.error(error),
      );
      return () => controller.abort();
    });
  }

  get<T = unknown>(url: string, config?: BodylessConfig): Observable<TransactionHttpResponse<T>> {
    return this.request<T>({ ...config, url, method: 'GET' });
  }

  delete<T = unknown>(url: string, config?: BodylessConfig): Observable<TransactionHttpResponse<T>> {
    return this.request<T>({ ...config, url, method: 'DELETE' });
  }

  head<T = unknown>(url: string, config?: BodylessConfig): Observable<TransactionHttpResponse<T>> {
    return this.request<T>({ ...config, url, method: 'HEAD' });
  }

  options<T = unknown>(url: string, config?: BodylessConfig): Observable<TransactionHttpResponse<T>> {
    return this.request<T>({ ...config, url, method: 'OPTIONS' });
  }

  post<T = unknown>(url: string, data?: unknown, config?: BodyConfig): Observable<TransactionHttpResponse<T>> {
    return this.request<T>({ ...config, url, data, method: 'POST' });
  }

  put<T = unknown>(url: string, data?: unknown, config?: BodyConfig): Observable<TransactionHttpResponse<T>> {
    return this.request<T>({ ...config, url, data, method: 'PUT' });
  }

  patch<T = unknown>(url: string, data?: unknown, config?: BodyConfig): Observable<TransactionHttpResponse<T>> {
    return this.request<T>({ ...config, url, data, method: 'PATCH' });
  }

  /**
   * The raw client: `fetch` itself, with the transaction ID header added where it belongs.
   * Resolves with any status, as `fetch` does.
   */
  fetch(input: string | URL | Request, init?: RequestInit): Promise<Response> {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    const id = currentTransactionId();
    if (id === undefined || !isPropagationTarget(url, this.settings.propagationTargets)) {
      return fetch(input, init);
    }
    if (input instanceof Request && init?.headers === undefined) {
      const request = new Request(input, init);
      if (!request.headers.has(this.settings.header)) request.headers.set(this.settings.header, id);
      return fetch(request);
    }
    const headers = new Headers(init?.headers);
    if (!headers.has(this.settings.header)) headers.set(this.settings.header, id);
    return fetch(input, { ...init, headers });
  }

  private async send<T>(
    config: TransactionHttpRequestConfig,
    transactionId: string | undefined,
    unsubscribed: AbortSignal,
  ): Promise<TransactionHttpResponse<T>> {
    const method = (config.method ?? 'GET').toUpperCase();
    const sent: SentConfig = { ...config, method, url: config.url ?? '' };
    const fail = (message: string, code: TransactionHttpError['code'], cause?: unknown, response?: TransactionHttpResponse<T>) =>
      new TransactionHttpError<T>(message, code, sent, transactionId, response, { cause });

    let url: URL;
    try {
      url = buildUrl(config);
    } catch (cause) {
      throw fail(`Invalid URL ${JSON.stringify(config.url)}`, 'ERR_INVALID_URL', cause);
    }
    sent.url = url.href;

    const headers = new Headers(config.headers);
    const body = encodeBody(config.data, headers);
    if (
      transactionId !== undefined &&
      !headers.has(this.settings.header) &&
      isPropagationTarget(sent.url, this.settings.propagationTargets)
    ) {
      headers.set(this.settings.header, transactionId);
    }
    sent.headers = headers;

    const timeout = config.timeout !== undefined && config.timeout > 0 ? AbortSignal.timeout(config.timeout) : undefined;
    const signals = [unsubscribed, config.signal, timeout].filter((s): s is AbortSignal => s !== undefined);
    const signal = signals.length === 1 ? signals[0] : AbortSignal.any(signals);

    let response: Response;
    try {
      response = await fetch(url, {
        ...config.init,
        method,
        headers,
        body,
        signal,
        ...(body instanceof ReadableStream ? { duplex: 'half' } : {}),
      } as RequestInit);
    } catch (cause) {
      if (timeout?.aborted) throw fail(`Timeout of ${config.timeout} ms exceeded: ${method} ${sent.url}`, 'ETIMEDOUT', cause);
      if (signal.aborted) throw fail(`Request aborted: ${method} ${sent.url}`, 'ERR_CANCELED', cause);
      throw fail(`Request failed: ${method} ${sent.url}: ${describe(cause)}`, 'ERR_NETWORK', cause);
    }

    const settled: TransactionHttpResponse<T> = {
      data: undefined as T,
      status: response.status,
      statusText: response.statusText,
      headers: response.headers,
      config: sent,
    };
    try {
      settled.data = (await readBody(response)) as T;
    } catch (cause) {
      if (timeout?.aborted) throw fail(`Timeout of ${config.timeout} ms exceeded: ${method} ${sent.url}`, 'ETIMEDOUT', cause, settled);
      if (signal.aborted) throw fail(`Request aborted: ${method} ${sent.url}`, 'ERR_CANCELED', cause, settled);
      throw fail(`Unreadable response body: ${method} ${sent.url}: ${describe(cause)}`, 'ERR_BAD_BODY', cause, settled);
    }
    if (!response.ok) {
      throw fail(`Request failed with status ${response.status}: ${method} ${sent.url}`, 'ERR_BAD_RESPONSE', undefined, settled);
    }
    return settled;
  }
}

function buildUrl({ url = '', baseURL, params }: TransactionHttpRequestConfig): URL {
  const result = baseURL === undefined ? new URL(url) : new URL(url, baseURL);
  if (params !== undefined) {
    for (const [key, value] of Object.entries(params)) {
      if (value !== undefined && value !== null) result.searchParams.append(key, String(value));
    }
  }
  return result;
}

/** Plain objects and arrays go as JSON, as axios sends them; anything else as `fetch` takes it. */
function encodeBody(data: unknown, headers: Headers): BodyInit | undefined {
  if (data === undefined || data === null) return undefined;
  if (Array.isArray(data) || isPlainObject(data)) {
    if (!headers.has('content-type')) headers.set('content-type', 'application/json');
    return JSON.stringify(data);
  }
  return data as BodyInit;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const prototype = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

/** JSON when the response says so (`application/json`, `…+json`), text otherwise. */
async function readBody(response: Response): Promise<unknown> {
  const text = await response.text();
  const type = response.headers.get('content-type') ?? '';
  if (!/[/+]json\b/i.test(type)) return text;
  return text === '' ? undefined : JSON.parse(text);
}

function describe(cause: unknown): string {
  if (!(cause instanceof Error)) return String(cause);
  const inner = (cause as Error & { cause?: unknown }).cause;
  const code = (inner as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' ? `${cause.message} (${code})` : cause.message;
}
