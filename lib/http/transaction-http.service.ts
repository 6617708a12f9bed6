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
import { fetchFollowingRedirects } from './follow-redirects.js';

type SentConfig = TransactionHttpRequestConfig & { url: string; method: string };
/**
 * Config of the shorthand methods without `data`: GET and HEAD cannot have a body (`fetch` refuses
 * one), and POST, PUT and PATCH take it as an argument.
 */
type DatalessConfig = Omit<TransactionHttpRequestConfig, 'url' | 'method' | 'data'>;
/** As in axios, DELETE and OPTIONS take a body through `config.data`. */
type MethodConfig = Omit<TransactionHttpRequestConfig, 'url' | 'method'>;

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
  request<T = unknown>(
    config: TransactionHttpRequestConfig,
  ): Observable<TransactionHttpResponse<T>> {
    return new Observable<TransactionHttpResponse<T>>((subscriber) => {
      // The ID of whoever subscribes: that is when the call is made.
      const transactionId = currentTransactionId();
      const controller = new AbortController();
      let settled = false;
      this.send<T>(config, transactionId, controller.signal).then(
        (response) => {
          settled = true;
          subscriber.next(response);
          subscriber.complete();
        },
        (error: unknown) => {
          settled = true;
          subscriber.error(error);
        },
      );
      // rxjs tears down after `complete()` too; aborting a settled call would only cost time.
      return () => {
        if (!settled) controller.abort();
      };
    });
  }

  get<T = unknown>(url: string, config?: DatalessConfig): Observable<TransactionHttpResponse<T>> {
    return this.request<T>({ ...config, url, method: 'GET' });
  }

  delete<T = unknown>(url: string, config?: MethodConfig): Observable<TransactionHttpResponse<T>> {
    return this.request<T>({ ...config, url, method: 'DELETE' });
  }

  head<T = unknown>(url: string, config?: DatalessConfig): Observable<TransactionHttpResponse<T>> {
    return this.request<T>({ ...config, url, method: 'HEAD' });
  }

  options<T = unknown>(url: string, config?: MethodConfig): Observable<TransactionHttpResponse<T>> {
    return this.request<T>({ ...config, url, method: 'OPTIONS' });
  }

  post<T = unknown>(
    url: string,
    data?: unknown,
    config?: DatalessConfig,
  ): Observable<TransactionHttpResponse<T>> {
    return this.request<T>({ ...config, url, data, method: 'POST' });
  }

  put<T = unknown>(
    url: string,
    data?: unknown,
    config?: DatalessConfig,
  ): Observable<TransactionHttpResponse<T>> {
    return this.request<T>({ ...config, url, data, method: 'PUT' });
  }

  patch<T = unknown>(
    url: string,
    data?: unknown,
    config?: DatalessConfig,
  ): Observable<TransactionHttpResponse<T>> {
    return this.request<T>({ ...config, url, data, method: 'PATCH' });
  }

  /**
   * The raw client: `fetch` itself, with the transaction ID header added where it belongs (and
   * dropped on redirects to another origin). Resolves with any status, as `fetch` does.
   */
  async fetch(input: string | URL | Request, init?: RequestInit): Promise<Response> {
    const id = currentTransactionId();
    if (id === undefined) return fetch(input, init);
    if (input instanceof Request) {
      // Unpacked so that redirects can be followed hop by hop, with the body replayable.
      const body = input.body === null ? undefined : await input.arrayBuffer();
      init = {
        method: input.method,
        headers: input.headers,
        body,
        signal: input.signal,
        redirect: input.redirect,
        ...init,
      };
      input = input.url;
    }
    const url = new URL(input);
    const headers = new Headers(init?.headers);
    return this.dispatch(url, { ...init, headers }, id);
  }

  private async send<T>(
    config: TransactionHttpRequestConfig,
    transactionId: string | undefined,
    unsubscribed: AbortSignal,
  ): Promise<TransactionHttpResponse<T>> {
    const method = (config.method ?? 'GET').toUpperCase();
    const sent: SentConfig = { ...config, method, url: config.url ?? '' };
    const fail = (
      message: string,
      code: TransactionHttpError['code'],
      cause?: unknown,
      response?: TransactionHttpResponse<T>,
    ) =>
      // No `cause` key at all when there is none: loggers print `[cause]: undefined` otherwise.
      new TransactionHttpError<T>(
        message,
        code,
        sent,
        transactionId,
        response,
        cause === undefined ? {} : { cause },
      );

    let url: URL;
    try {
      url = buildUrl(config);
    } catch (cause) {
      throw fail(`Invalid URL ${JSON.stringify(config.url)}`, 'ERR_INVALID_URL', cause);
    }
    sent.url = url.href;
    const headers = new Headers(config.headers);
    const body = encodeBody(config.data, headers);
    sent.headers = headers;

    const timeout =
      config.timeout !== undefined && config.timeout > 0
        ? AbortSignal.timeout(config.timeout)
        : undefined;
    const signals = [unsubscribed, config.signal, timeout].filter(
      (s): s is AbortSignal => s !== undefined,
    );
    const signal = signals.length === 1 ? signals[0] : AbortSignal.any(signals);
    // Why a call that threw failed: our timeout, the caller's abort, or the network.
    const failure = (cause: unknown, response?: TransactionHttpResponse<T>) => {
      const call = `${method} ${sent.url}`;
      if (timeout?.aborted) {
        const message = `Timeout of ${config.timeout} ms exceeded: ${call}`;
        return fail(message, 'ETIMEDOUT', cause, response);
      }
      if (signal.aborted) return fail(`Request aborted: ${call}`, 'ERR_CANCELED', cause, response);
      return fail(`Request failed: ${call}: ${describe(cause)}`, 'ERR_NETWORK', cause, response);
    };

    let response: Response;
    try {
      const init = { ...config.init, method, headers, body, signal };
      if (body instanceof ReadableStream) Object.assign(init, { duplex: 'half' });
      response = await this.dispatch(url, init, transactionId);
    } catch (cause) {
      throw failure(cause);
    }

    const settled: TransactionHttpResponse<T> = {
      data: undefined as T,
      status: response.status,
      statusText: response.statusText,
      headers: response.headers,
      config: sent,
    };
    let text: string;
    try {
      text = await response.text();
    } catch (cause) {
      throw failure(cause, settled);
    }
    const parsed = parseBody(text, response.headers);
    // A failed status says more than a malformed body: a proxy's HTML 502 is still a 502.
    if (!response.ok) {
      settled.data = (parsed.ok ? parsed.value : text) as T;
      const message = `Request failed with status ${response.status}: ${method} ${sent.url}`;
      throw fail(message, 'ERR_BAD_RESPONSE', undefined, settled);
    }
    if (!parsed.ok) {
      settled.data = text as T;
      const message = `Response body is not valid JSON: ${method} ${sent.url}`;
      throw fail(message, 'ERR_BAD_BODY', parsed.error, settled);
    }
    settled.data = parsed.value as T;
    return settled;
  }

  /**
   * Sends the call, with the transaction ID header unless the caller set one or the URL is not a
   * propagation target. Redirects that would carry our header are followed by us, to drop it.
   */
  private dispatch(
    url: URL,
    init: RequestInit & { headers: Headers },
    transactionId: string | undefined,
  ): Promise<Response> {
    const { header, propagationTargets } = this.settings;
    const mayCarry = (target: string) => isPropagationTarget(target, propagationTargets);
    if (transactionId === undefined || init.headers.has(header) || !mayCarry(url.href)) {
      return fetch(url, init);
    }
    init.headers.set(header, transactionId);
    if (init.redirect !== undefined && init.redirect !== 'follow') return fetch(url, init);
    return fetchFollowingRedirects(url, init, header, mayCarry);
  }
}

function buildUrl({ url = '', baseURL, params }: TransactionHttpRequestConfig): URL {
  // As axios does: `baseURL` is a prefix, not a base in the sense of URL resolution.
  const result =
    baseURL === undefined || /^[a-z][a-z\d+.-]*:/i.test(url)
      ? new URL(url)
      : new URL(url === '' ? baseURL : `${baseURL.replace(/\/+$/, '')}/${url.replace(/^\/+/, '')}`);
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

type ParsedBody = { ok: true; value: unknown } | { ok: false; error: unknown };

/** JSON when the response says so (`application/json`, `…+json`), text otherwise. */
function parseBody(text: string, headers: Headers): ParsedBody {
  if (!/[/+]json\b/i.test(headers.get('content-type') ?? '')) return { ok: true, value: text };
  if (text === '') return { ok: true, value: undefined };
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (error) {
    return { ok: false, error };
  }
}

function describe(cause: unknown): string {
  if (!(cause instanceof Error)) return String(cause);
  const inner = (cause as Error & { cause?: unknown }).cause;
  const code = (inner as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' ? `${cause.message} (${code})` : cause.message;
}
