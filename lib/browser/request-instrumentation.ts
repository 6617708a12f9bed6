import { TRANSACTION_ID_HEADER, isDefaultId } from '../transaction.shared-constants.js';
import type { BrowserTransactionOptions, StatusCodeRange } from './browser-options.js';
import { optionError, targetFilter, type TargetFilter } from './propagation-targets.js';
import { getTransactionId } from './transaction-id.js';
import { remember, settleWhenAsked, TransactionRequestError } from './transaction-request.error.js';

/** Reports a failed request; set by the Sentry integration. */
export type FailureReporter = (error: unknown, transactionId: string) => void;

interface Config {
  readonly header: string;
  readonly allows: TargetFilter;
  readonly failed: (status: number) => boolean;
  readonly onRequestFailure: BrowserTransactionOptions['onRequestFailure'];
  readonly report: FailureReporter | undefined;
}

/** What `open()` and `setRequestHeader()` told us about an XHR. */
interface XhrRequest {
  method: string;
  url: string;
  /** The ID the app set itself, if it did. */
  sent?: string;
  aborted?: boolean;
  /** Whether `send()` already set up the listeners: a second `send()` only throws. */
  watched?: boolean;
}

/** The installed configuration; `undefined` when nothing is installed, and the patches pass through. */
let config: Config | undefined;
let patched = false;
/** Errors already reported: each failure once, whichever path sees it again. */
const reported = /* @__PURE__ */ new WeakSet<object>();

/**
 * Sends the current transaction ID on every `fetch` and `XMLHttpRequest` to the page's own origin
 * and to `propagationTargets` (never to other origins), reads the ID the server echoes, and reports
 * each failed request once (`onRequestFailure`, and Sentry with `transactionIdIntegration()`).
 * Calling it again replaces the options. Returns a function that turns it off.
 *
 * @example
 * ```ts
 * installTransactionId({ propagationTargets: ['https://api.example.com'] });
 * ```
 * @publicApi
 */
export function installTransactionId(options: BrowserTransactionOptions = {}): () => void {
  return install(options, undefined);
}

/** `installTransactionId()`, with a reporter (the Sentry integration's). */
export function install(
  options: BrowserTransactionOptions,
  report: FailureReporter | undefined,
): () => void {
  const ownOrigin = globalThis.location?.origin ?? 'null';
  const header = (options.header ?? TRANSACTION_ID_HEADER).toLowerCase();
  // The platform's own check of header names: a bad one would make every request throw.
  try {
    new Headers({ [header]: '' }).has(header);
  } catch {
    throw optionError('header', 'a header name');
  }
  const installed: Config = {
    header,
    allows: targetFilter(options.propagationTargets, ownOrigin),
    failed: statusFilter(options.failedRequestStatusCodes ?? [[500, 599]]),
    onRequestFailure: options.onRequestFailure,
    report,
  };
  config = installed;
  if (!patched) patch();
  patched = true;
  // The wrappers stay, passing requests through: others (Sentry) may have wrapped them since, and
  // unwrapping under them, or wrapping twice on a new install, would lose or double requests' IDs.
  return () => {
    if (config === installed) config = undefined;
  };
}

function statusFilter(ranges: readonly StatusCodeRange[]): (status: number) => boolean {
  if (!Array.isArray(ranges)) {
    throw optionError('failedRequestStatusCodes', 'an array');
  }
  return (status) =>
    ranges.some((range) =>
      typeof range === 'number' ? status === range : status >= range[0] && status <= range[1],
    );
}

/** The absolute URL a request goes to, resolved against the page; `undefined` if invalid. */
function resolve(url: string | URL): URL | undefined {
  try {
    return new URL(url, globalThis.location?.href);
  } catch {
    return undefined;
  }
}

/** The ID the server echoed when valid (and readable: same origin or exposed by CORS). */
function settledId(echoed: string | null | undefined, sent: string): string {
  return echoed != null && isDefaultId(echoed) ? echoed : sent;
}

function fail(installed: Config, error: unknown, transactionId: string): void {
  if (typeof error === 'object' && error !== null) {
    if (reported.has(error)) return;
    reported.add(error);
  }
  // The app's request must not fail because a reporter did.
  try {
    installed.onRequestFailure?.(error, transactionId);
  } catch {}
  try {
    installed.report?.(error, transactionId);
  } catch {}
}

/** Without query and fragment, which may hold personal data. */
function describe(url: URL): string {
  return url.origin + url.pathname;
}

/** Wraps `fetch` and `XMLHttpRequest`, once per page. */
function patch(): void {
  const fetch = globalThis.fetch;
  if (typeof fetch === 'function') {
    globalThis.fetch = function transactionFetch(input, init) {
      const installed = config;
      // Request exists wherever fetch does.
      const isRequest = input instanceof Request;
      const url = installed && resolve(isRequest ? input.url : (input as string | URL));
      if (!installed || !url || !installed.allows(url)) return fetch(input, init);

      // The headers fetch will send: init's replace the Request's. One the app set is kept.
      let headers: Headers;
      try {
        headers = new Headers(init?.headers ?? (isRequest ? input.headers : undefined));
      } catch {
        // Headers fetch refuses: let fetch reject, as it would without us.
        return fetch(input, init);
      }
      const sent = headers.get(installed.header) ?? getTransactionId();
      headers.set(installed.header, sent);
      const method = (init?.method ?? (isRequest ? input.method : 'GET')).toUpperCase();
      return fetch(input, { ...init, headers }).then(
        (response) => {
          const id = settledId(response.headers.get(installed.header), sent);
          let failure: TransactionRequestError | undefined;
          if (installed.failed(response.status)) {
            failure = new TransactionRequestError(method, describe(url), response.status, id);
          }
          remember(response, id, failure);
          if (failure) fail(installed, failure, id);
          return response;
        },
        (error: unknown) => {
          // The app aborted: not a failure of the request.
          if (!(error instanceof DOMException && error.name === 'AbortError')) {
            if (typeof error === 'object' && error !== null) remember(error, sent);
            fail(installed, error, sent);
          }
          throw error;
        },
      );
    };
  }

  const Xhr = globalThis.XMLHttpRequest;
  if (typeof Xhr === 'function') {
    const proto = Xhr.prototype;
    const { open, send, setRequestHeader } = proto;
    const requests = new WeakMap<XMLHttpRequest, XhrRequest>();
    proto.open = function (this: XMLHttpRequest, ...args: [string, string | URL, ...unknown[]]) {
      requests.set(this, { method: String(args[0]).toUpperCase(), url: String(args[1]) });
      return open.apply(this, args as Parameters<typeof open>);
    } as typeof open;
    proto.setRequestHeader = function (this: XMLHttpRequest, name: string, value: string) {
      const request = requests.get(this);
      if (request && config && String(name).toLowerCase() === config.header) request.sent = value;
      return setRequestHeader.call(this, name, value);
    };
    proto.send = function (this: XMLHttpRequest, body?: Document | XMLHttpRequestBodyInit | null) {
      const installed = config;
      const request = requests.get(this);
      const url = installed && request && resolve(request.url);
      if (installed && request && url && !request.watched && installed.allows(url)) {
        request.watched = true;
        if (request.sent === undefined) {
          request.sent = getTransactionId();
          setRequestHeader.call(this, installed.header, request.sent);
        }
        const sent = request.sent;
        this.addEventListener('abort', () => (request.aborted = true));
        let settled = false;
        const settle = () => {
          // Once, when done (DONE = 4), unless the app aborted: aborting is not a failure.
          if (settled || request.aborted || this.readyState !== 4) return;
          settled = true;
          const id = settledId(responseHeader(this, installed.header), sent);
          const failure =
            this.status === 0 || installed.failed(this.status)
              ? new TransactionRequestError(request.method, describe(url), this.status, id)
              : undefined;
          remember(this, id, failure);
          if (failure) fail(installed, failure, id);
        };
        settleWhenAsked(this, settle);
        this.addEventListener('loadend', settle);
      }
      return send.call(this, body);
    };
  }
}

/**
 * A response header if the browser lets the page see it: `getResponseHeader()` of a header that
 * CORS does not expose would log an error in the console.
 */
function responseHeader(xhr: XMLHttpRequest, name: string): string | null {
  // Lines are `name: value`, names lower-case (as HTTP/2 requires; browsers lower-case them all).
  const listed = `\n${xhr.getAllResponseHeaders().toLowerCase()}`.includes(`\n${name}:`);
  return listed ? xhr.getResponseHeader(name) : null;
}
