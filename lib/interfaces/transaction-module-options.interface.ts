import type { IncomingMessage } from 'node:http';
import type { TransportCarrier } from '../microservices/transport-carrier.js';

/**
 * What happens to an incoming transaction ID that is present but not valid (empty, too long,
 * other characters, or sent on more than one header line).
 *
 * - `'replace'`: the unit of work gets a fresh ID; the bad value is dropped without a trace.
 * - `'reject'`: an HTTP request is answered `400 Bad Request` before the application sees it.
 *
 * @publicApi
 */
export type InvalidTransactionIdPolicy = 'replace' | 'reject';

/**
 * A URL the transaction ID may be forwarded to: a string matches when the URL contains it, a
 * RegExp when it matches the URL, as in Sentry's `tracePropagationTargets`.
 *
 * @publicApi
 */
export type PropagationTarget = string | RegExp;

/**
 * Where a unit of work came from: Node's request for whatever arrives over HTTP (requests,
 * WebSocket handshakes), a `TransactionMessageSource` for messages and jobs.
 *
 * @publicApi
 */
export type TransactionSource = IncomingMessage | TransactionMessageSource;

/**
 * A message or job whose transaction ID is being settled, as `trustMessages` is asked about it.
 *
 * @publicApi
 */
export interface TransactionMessageSource {
  /**
   * What carried it: `'tcp'`, `'redis'`, `'nats'`, `'mqtt'`, `'grpc'`, `'rmq'`, `'kafka'`, or the
   * name another entry gives itself (`'bullmq'`, a custom transport).
   */
  readonly transport: string;
  /**
   * What the entry has of the message: the transport's RPC context (`NatsContext`,
   * `RmqContext`, …) for `@nestjs/microservices`, the job for queues.
   */
  readonly context: unknown;
}

/**
 * Options of `TransactionModule.forRoot()` and of the factory given to `forRootAsync()`.
 * Every option is optional: `forRoot()` alone gives the defaults below.
 *
 * @publicApi
 */
export interface TransactionModuleOptions {
  /**
   * Header that carries the ID: read from incoming requests (in any case), echoed on responses
   * and set on outgoing calls (`TransactionHttpService`, and any client with `forwardHttpCalls`).
   *
   * @default 'x-transaction-id'
   */
  header?: string;

  /**
   * What to do with an incoming ID that is present but not valid. A missing ID is never an
   * error: the request gets a fresh one.
   *
   * @default 'replace'
   */
  invalid?: InvalidTransactionIdPolicy;

  /**
   * Makes a fresh ID. Must return a value that `validate` accepts; checked once at start-up.
   *
   * @default crypto.randomUUID
   */
  generate?: () => string;

  /**
   * Decides whether an incoming value is accepted as the transaction ID. Values longer than Sentry's
   * 200-character tag limit or containing control characters are refused whatever this returns.
   *
   * @default 1–128 characters of `A–Z a–z 0–9 . _ : -`
   */
  validate?: (value: string) => boolean;

  /**
   * Echo the ID on every HTTP response (error responses included), in the `header` header.
   *
   * @default true
   */
  echo?: boolean;

  /**
   * Report unhandled exceptions to Sentry, tagged with the ID: every exception that is not an
   * `HttpException`, and `HttpException`s with a status of 500 or more. An exception that the
   * application or `@sentry/nestjs` captured already is not reported again.
   *
   * @default true
   */
  reportUnhandled?: boolean;

  /**
   * Whether IDs that arrive over HTTP (requests, WebSocket handshakes) are taken at all. `false`
   * gives every request a fresh ID (for public edges that should not let clients choose theirs);
   * a function decides per request, e.g. trust only the internal network or a shared-secret
   * header. A function that throws means "no".
   *
   * @default true
   */
  trustIncoming?: boolean | ((request: IncomingMessage) => boolean);

  /**
   * Whether IDs that arrive with messages and jobs (every `@nestjs/microservices` transport,
   * queues) are taken. A function decides per message, given its transport and context.
   *
   * @default `trustIncoming` when that is `true` or `false`; `true` when it is a function (brokers
   * are inside the system; a function written for HTTP requests is not asked about messages)
   */
  trustMessages?: boolean | ((source: TransactionMessageSource) => boolean);

  /**
   * Keep a valid ID sent by an untrusted client as the separate Sentry tag
   * `client_transaction_id`, so a user's reference can still be searched. Never echoed or forwarded.
   *
   * @default false
   */
  tagClientId?: boolean;

  /**
   * Answer `400 Bad Request` to requests without the header, for internal services that must
   * always be called with one.
   *
   * @default false
   */
  require?: boolean;

  /**
   * URLs that outgoing calls forward the ID to (with `TransactionHttpService` or, with
   * `forwardHttpCalls`, any client). Leave unset to forward it on every call; an empty array
   * forwards it nowhere.
   *
   * @default undefined (every URL)
   */
  propagationTargets?: readonly PropagationTarget[];

  /**
   * Carriers for transports the library does not know (a `CustomTransportStrategy` and its
   * client), tried before the built-in ones. See `TransportCarrier`.
   *
   * @default []
   */
  carriers?: readonly TransportCarrier[];

  /**
   * Forward the ID on every outgoing HTTP call made inside a unit of work, whatever the client:
   * global `fetch` and undici on every Node.js version, `node:http`/`node:https` (so axios,
   * `@nestjs/axios`'s `HttpService`, got) on Node.js 22 and 24. It listens on Node.js's
   * diagnostics channels, as Sentry does for `sentry-trace`; the calls need no change. A header
   * the caller set is kept, `propagationTargets` applies, and a redirect to another origin drops
   * the ID. `false` leaves forwarding to `TransactionHttpService` alone.
   *
   * @default true
   */
  forwardHttpCalls?: boolean;

  /**
   * When an HTTP request has no `header` but a trace header — Sentry's `sentry-trace` or W3C
   * `traceparent`, well-formed by their grammar (lower-case hex, no all-zero IDs) — take its
   * trace id as the request's transaction ID, so that callers that only run Sentry or
   * OpenTelemetry still correlate. The trace id then goes through the same rules as an incoming
   * ID: `trustIncoming` (an untrusted caller gets a fresh ID) and `validate` (one it refuses counts
   * as no ID, never as an invalid one); it satisfies `require`. `sentry-trace` wins over
   * `traceparent`. The trace headers themselves are left to Sentry.
   *
   * @default false
   */
  deriveFromTraceId?: boolean;
}
