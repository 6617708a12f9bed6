import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { ClientRequest, IncomingMessage } from 'node:http';
import type { PropagationTarget } from '../interfaces/transaction-module-options.interface.js';
import { currentTransactionStore, type TransactionStore } from '../context/transaction.storage.js';
import { isPropagationTarget } from '../http/propagation-targets.js';
import {
  type HttpClientCarrier,
  nodeHttpCarrier,
  undiciCarrier,
  type UndiciRequest,
} from './http-client-carriers.js';

/** What an application asks of the instrumentation: the header and where it may go. */
export interface ForwardingSettings {
  readonly header: string;
  readonly propagationTargets: readonly PropagationTarget[] | undefined;
}

/**
 * Node.js's public channels where a request can still take a header (checked on Node.js 20.20,
 * 22.23, 24.22): `undici:request:create` for global `fetch` and undici, on every version;
 * `http.client.request.created` for `node:http`/`node:https`, on Node.js 22 and 24 only. Node 20
 * has `http.client.request.start` alone, published once the headers are written.
 */
const UNDICI_CREATE = 'undici:request:create';
const HTTP_CREATED = 'http.client.request.created';
/** Where responses show their redirects, before the client follows them. */
const UNDICI_HEADERS = 'undici:request:headers';
const HTTP_RESPONSE = 'http.client.response.finish';

/** What the instrumentation keeps on a request made inside a unit of work, for its redirects. */
interface Sent {
  readonly store: TransactionStore;
  /** Whether the request carries the ID (added here or by its caller). */
  readonly carries: boolean;
  /** The origin of the first request of the redirect chain, for a hop of one. */
  readonly origin?: string;
}
const SENT = Symbol('nestjs-transaction-id.sent');
type Tracked = { [SENT]?: Sent };

/** A redirect a call made in a unit of work received, until the client follows it. */
interface Redirect {
  readonly store: TransactionStore;
  /** The origin the chain started from; `undefined` when the next hop must not carry the ID. */
  readonly origin: string | undefined;
}

/**
 * Redirects waiting to be followed, by absolute URL. Process-wide, not per unit of work: some
 * clients follow a redirect from the response's callback, where the async context can be that
 * of another request that used the same keep-alive socket before (undici's redirect interceptor),
 * and that hop must not take that request's ID. Redirects a client does not follow are dropped
 * oldest first.
 */
const redirects = new Map<string, Redirect[]>();
const MAX_PENDING_REDIRECTS = 1_000;
let pendingRedirects = 0;

/** Applications that want forwarding; the first one's settings apply. */
const active: ForwardingSettings[] = [];

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);

/**
 * Adds the current transaction ID to every outgoing HTTP request that a unit of work makes, by
 * listening on Node.js's diagnostics channels, as Sentry does for `sentry-trace`: global `fetch`,
 * undici, and `node:http`/`node:https` (so axios, `@nestjs/axios`, got) with no change to the
 * calls. One subscription per process, however many applications ask for it; the last
 * `stop()` unsubscribes.
 *
 * A header the request has already is left alone (the caller's own, or `TransactionHttpService`'s);
 * nothing is added outside a unit of work or to a URL `propagationTargets` does not allow; a
 * redirect to another origin than the chain's first request gets nothing.
 *
 * @returns a function that withdraws this application's request.
 */
export function startHttpClientForwarding(settings: ForwardingSettings): () => void {
  if (active.length === 0) {
    subscribe(UNDICI_CREATE, onUndiciCreate);
    subscribe(HTTP_CREATED, onHttpCreated);
    subscribe(UNDICI_HEADERS, onUndiciHeaders);
    subscribe(HTTP_RESPONSE, onHttpResponse);
  }
  active.push(settings);
  let stopped = false;
  return () => {
    if (stopped) return;
    stopped = true;
    active.splice(active.indexOf(settings), 1);
    if (active.length > 0) return;
    unsubscribe(UNDICI_CREATE, onUndiciCreate);
    unsubscribe(HTTP_CREATED, onHttpCreated);
    unsubscribe(UNDICI_HEADERS, onUndiciHeaders);
    unsubscribe(HTTP_RESPONSE, onHttpResponse);
  };
}

function onUndiciCreate(message: unknown): void {
  forward(undiciCarrier, (message as { request: UndiciRequest & Tracked }).request);
}

function onHttpCreated(message: unknown): void {
  forward(nodeHttpCarrier, (message as { request: ClientRequest & Tracked }).request);
}

function onUndiciHeaders(message: unknown): void {
  const { request, response } = message as {
    request: UndiciRequest & Tracked;
    response: { statusCode: number; headers: Array<Buffer | string> };
  };
  const sent = request[SENT];
  if (sent === undefined || !REDIRECT_STATUSES.has(response.statusCode)) return;
  const { headers } = response;
  for (let i = 0; i + 1 < headers.length; i += 2) {
    if (String(headers[i]).toLowerCase() === 'location') {
      return expectRedirect(sent, () => undiciCarrier.url(request), String(headers[i + 1]));
    }
  }
}

function onHttpResponse(message: unknown): void {
  const { request, response } = message as {
    request: ClientRequest & Tracked;
    response: IncomingMessage;
  };
  const sent = request[SENT];
  const location = response.headers.location;
  if (sent === undefined || !REDIRECT_STATUSES.has(response.statusCode ?? 0) || !location) return;
  expectRedirect(sent, () => nodeHttpCarrier.url(request), location);
}

/** Sets the ID on a request just created, where it belongs. Never throws into the client. */
function forward<R extends object & Tracked>(carrier: HttpClientCarrier<R>, request: R): void {
  try {
    const settings = active[0];
    if (settings === undefined) return;
    const current = currentTransactionStore();
    // Most calls outside a unit of work (Sentry's own envelopes among them) stop here.
    if (current === undefined && pendingRedirects === 0) return;
    const url = carrier.url(request);
    const redirect = pendingRedirects === 0 ? undefined : takeRedirect(url, current);
    // A redirect hop belongs to the unit of work of its chain, whatever context it is made in.
    const store = redirect?.store ?? current;
    if (store === undefined) return;
    if (redirect !== undefined) {
      // It goes on only to the origin the chain started from, as `TransactionHttpService` does.
      const { origin } = redirect;
      if (origin === undefined || new URL(url).origin !== origin) {
        request[SENT] = { store, carries: false };
        return;
      }
    }
    const { header, propagationTargets } = settings;
    let carries = carrier.has(request, header);
    if (!carries && isPropagationTarget(url, propagationTargets)) {
      carries = carrier.set(request, header, store.id);
    }
    request[SENT] =
      redirect === undefined ? { store, carries } : { store, carries, origin: redirect.origin };
  } catch {
    // A request the hook cannot read is sent as the application made it.
  }
}

/**
 * The redirect that `url` follows, if one is pending. A hop made in another unit of work's
 * context (undici's redirect interceptor makes it in the keep-alive socket's, which may be an
 * earlier request's), or in none, cannot be told from that unit's own call to the same URL: it
 * gets `carries: false`, so that no unit of work ever sends another's ID.
 */
function takeRedirect(url: string, current: TransactionStore | undefined): Redirect | undefined {
  const key = normalise(url);
  const waiting = key === undefined ? undefined : redirects.get(key);
  if (waiting === undefined) return undefined;
  const index = waiting.findIndex((redirect) => redirect.store === current);
  const [redirect] = waiting.splice(index === -1 ? 0 : index, 1);
  pendingRedirects--;
  if (waiting.length === 0) redirects.delete(key!);
  return index === -1 ? { store: redirect!.store, origin: undefined } : redirect;
}

/** Remembers where a call of `sent`'s unit of work is redirected, and whether the ID may follow. */
function expectRedirect(sent: Sent, from: () => string, location: string): void {
  try {
    const here = new URL(from());
    const next = new URL(location, here);
    const origin = sent.origin ?? here.origin;
    const redirect: Redirect = {
      store: sent.store,
      origin: sent.carries && next.origin === origin ? origin : undefined,
    };
    if (pendingRedirects >= MAX_PENDING_REDIRECTS) dropOldestRedirect();
    const waiting = redirects.get(next.href);
    if (waiting === undefined) redirects.set(next.href, [redirect]);
    else waiting.push(redirect);
    pendingRedirects++;
  } catch {
    // An unreadable Location is not followed by any client either.
  }
}

function dropOldestRedirect(): void {
  const [key, waiting] = redirects.entries().next().value!;
  waiting.shift();
  pendingRedirects--;
  if (waiting.length === 0) redirects.delete(key);
}

function normalise(url: string): string | undefined {
  try {
    return new URL(url).href;
  } catch {
    return undefined;
  }
}
