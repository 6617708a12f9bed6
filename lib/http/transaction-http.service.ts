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
    return this.call<T>(config, this.request);
  }

  /** The call, whose errors point at where the application called `method`. */
  private call<T>(
    config: TransactionHttpRequestConfig,
    method: (...args: never[]) => unknown,
  ): Observable<TransactionHttpResponse<T>> {
    const callSite = captureCallSite(method);
    return new Observable<TransactionHttpResponse<T>>((subscriber) => {
      // The ID of whoever subscribes: that is when the call is made.
      const transactionId = currentTransactionId();
      const controller = new AbortController();
      let settled = false;
      this.send<T>(config, transactionId, controller.signal, callSite).then(
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
    return this.call<T>({ ...config, url, method: 'GET' }, this.get);
  }

  delete<T = unknown>(url: string, config?: MethodConfig): Observable<TransactionHttpResponse<T>> {
    return this.call<T>({ ...config, url, method: 'DELETE' }, this.delete);
  }

  head<T = unknown>(url: string, config?: DatalessConfig): Observable<TransactionHttpResponse<T>> {
    return this.call<T>({ ...config, url, method: 'HEAD' }, this.head);
  }

  options<T = unknown>(url: string, config?: MethodConfig): Observable<TransactionHttpResponse<T>> {
    return this.call<T>({ ...config, url, method: 'OPTIONS' }, this.options);
  }

  post<T = unknown>(
    url: string,
    data?: unknown,
    config?: DatalessConfig,
  ): Observable<TransactionHttpResponse<T>> {
    return this.call<T>({ ...config, url, data, method: 'POST' }, this.post);
  }

  put<T = unknown>(
    url: string,
    data?: unknown,
    config?: DatalessConfig,
  ): Observable<TransactionHttpResponse<T>> {
    return this.call<T>({ ...config, url, data, method: 'PUT' }, this.put);
  }

  patch<T = unknown>(
    url: string,
    data?: unknown,
    config?: DatalessConfig,
  ): Observable<TransactionHttpResponse<T>> {
    return this.call<T>({ ...config, url, data, method: 'PATCH' }, this.patch);
  }

  /**
   * The raw client: `fetch` itself, with the transaction ID header added where it belongs (and
   * dropped on redirects to another origin). Resolves with any status, as `fetch` does.
   */
  fetch(input: string | URL | Request, init?: RequestInit): Promise<Response> {
    const callSite = captureCallSite(this.fetch);
    return this.fetchWithId(input, init).catch((error: unknown) => {
      if (error instanceof Error) keepCallSite(error, callSite);
      throw error;
    });
  }

  private async fetchWithId(input: string | URL | Request, init?: RequestInit): Promise<Response> {
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
    callSite: CallSite,
  ): Promise<TransactionHttpResponse<T>> {
    const method = (config.method ?? 'GET').toUpperCase();
    const sent: SentConfig = { ...config, method, url: config.url ?? '' };
    const fail = (
      message: string,
      code: TransactionHttpError['code'],
      cause?: unknown,
      response?: TransactionHttpResponse<T>,
    ) => {
      // No `cause` key at all when there is none: loggers print `[cause]: undefined` otherwise.
      const error = new TransactionHttpError<T>(
        message,
        code,
        sent,
        transactionId,
        response,
        cause === undefined ? {} : { cause },
      );
      // The application's frames, not this promise chain's: where the call was made.
      const frames = callFrames(callSite);
      if (frames !== undefined) error.stack = `${error.name}: ${message}${frames}`;
      return error;
    };

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

/** The stack of a call into the service, captured when it is made. */
type CallSite = { stack?: string };

/**
 * The stack of whoever called `method`, captured when the call is made, since an error comes
 * later from a promise chain that has none of the application's frames. V8 formats it only if
 * `callFrames()` reads it: a call that succeeds pays for the capture alone.
 */
function captureCallSite(method: (...args: never[]) => unknown): CallSite {
  const callSite: CallSite = {};
  Error.captureStackTrace(callSite, method);
  return callSite;
}

/** The frames of a call site, as the `\n    at …` lines of a stack. */
function callFrames(callSite: CallSite): string | undefined {
  const { stack } = callSite;
  const firstFrame = typeof stack === 'string' ? stack.indexOf('\n') : -1;
  return firstFrame === -1 ? undefined : stack!.slice(firstFrame);
}

/**
 * Adds the application's call to the stack of an error `fetch` failed with, unless V8's async
 * stack trace has it already (Node.js 20 does, 24 shows only undici's frames).
 */
function keepCallSite(error: Error, callSite: CallSite): void {
  const frames = callFrames(callSite);
  if (frames === undefined || typeof error.stack !== 'string') return;
  const caller = /\n\s+at (.+?) \((.+?):(\d+):\d+\)/.exec(frames);
  const shown =
    caller !== null && error.stack.includes(` ${caller[1]} (${caller[2]}:${caller[3]}:`);
  if (!shown) error.stack += frames;
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
