import type { IncomingMessage } from 'node:http';
import { HttpException } from '@nestjs/common';
import type * as SentryCore from '@sentry/core';
import type * as SentryNode from '@sentry/node';
import { CLIENT_TRANSACTION_ID_TAG, TRANSACTION_ID_TAG } from '../transaction.constants.js';
import {
  currentTransactionStore,
  readStoresFrom,
  type TransactionStore,
} from '../context/transaction.storage.js';
import { originOf } from '../context/error-origin.js';
import { isAnswer } from './answer-exceptions.js';
import { importOptional } from '../utils/import-optional.js';
import { sameHeaderName } from '../utils/header-name.js';

/** The part of `@sentry/node` the library uses. */
type SentrySdk = Pick<
  typeof SentryNode,
  | 'SDK_VERSION'
  | 'getClient'
  | 'getIsolationScope'
  | 'withIsolationScope'
  | 'getGlobalScope'
  | 'captureException'
  | 'continueTrace'
  | 'startNewTrace'
  | 'getCurrentScope'
  | 'getActiveSpan'
>;

/** What `@sentry/core`, when it is the same version, adds: the default scope and request data. */
type SentryCoreExtras = Pick<
  typeof SentryCore,
  'getDefaultIsolationScope' | 'httpRequestToRequestData'
>;

type Scope = ReturnType<SentrySdk['getIsolationScope']>;
type SentryClient = NonNullable<ReturnType<SentrySdk['getClient']>>;

/** Global scopes (one per Sentry SDK copy) that already have our event processor. */
const scopesWithProcessor = new WeakSet<object>();

/** Clients that already describe the requests isolated here on their events. */
const describingClients = new WeakSet<SentryClient>();

/** Clients that already put the ID on the logs and spans of units of work. */
const attributingClients = new WeakSet<SentryClient>();

// What an isolation scope of a unit of work holds: its store and, for a request isolated here,
// what describes the request on its events. Properties of the scope rather than WeakMaps keyed by
// it: Node 20's minor GC does not drop WeakMap entries, so each request's scopes, store and request
// outlived it into the old generation, and major GCs ran all the time (Fastify, errors-only: 37.9
// → 31.1 µs per request). Scopes belong to the SDK, which all applications of the process share;
// `clone()` does not copy these.
const STORE = Symbol('nestjs-transaction-id.store');
const REQUEST = Symbol('nestjs-transaction-id.request');

/**
 * What an event needs of the request it was raised in, taken when the request is isolated: these
 * values, never the request. Whatever the scope references lives as long as the scope, and after a
 * burst of concurrent requests V8 allocates Sentry's per-request context objects, which reference
 * the scope, directly in the old generation (allocation-site pretenuring): everything the scope
 * reaches then survives every young-generation collection until the next mark-compact. The
 * request would take its response, Express's additions and the parser's buffers with it (Express,
 * errors-only, Node 24: ~520 → ~180 KB promoted per scavenge, see bench/README.md).
 */
interface RequestView {
  method: string | undefined;
  /** The URL as it came in: Express strips mount paths from `url` later, while it routes. */
  url: string | undefined;
  headers: IncomingMessage['headers'];
  socket: IncomingMessage['socket'] | null;
}

type HoldingScope = Scope & { [STORE]?: TransactionStore; [REQUEST]?: RequestView };

/** Where the path of a request URL ends. */
const URL_END = /[?#]/;

const UNHANDLED_MECHANISM = { type: 'auto.function.nestjs.transaction_id', handled: false };

/**
 * Everything the library does with Sentry, in one place. `@sentry/node` is an optional peer: the
 * bridge exists only when it is installed.
 *
 * Where Sentry is initialised, every unit of work runs in an isolation scope of its own, and that
 * scope holds the unit's store: Sentry's async context carries it, so the library needs no
 * `AsyncLocalStorage` of its own, whose promise hook would cost every request again.
 */
export class SentryBridge {
  /**
   * Whether units of work run in Sentry's isolation scopes, which then hold their stores. Decided
   * at start-up: it takes a Sentry client, and an async context that keeps scopes across awaits.
   */
  holdsStores = false;

  /**
   * Whether the spans of units of work read the ID from their isolation scope's attributes:
   * with tracing on. Without tracing nothing else needs them (logs get the ID from a client hook),
   * so requests are spared setting them.
   */
  private spansReadAttributes = false;

  private constructor(
    private readonly sdk: SentrySdk,
    /** The isolation scope of work that nothing isolated: tagging it would leak the tag. */
    private readonly defaultIsolationScope: () => Scope,
    private readonly toRequestData?: SentryCoreExtras['httpRequestToRequestData'],
  ) {
    const globalScope = sdk.getGlobalScope();
    if (!scopesWithProcessor.has(globalScope)) {
      scopesWithProcessor.add(globalScope);
      // The tag comes from the unit of work the event was raised in, also where the library runs
      // without Sentry's scopes (Sentry initialised after the application started).
      globalScope.addEventProcessor((event, hint) => {
        // A transaction event is sent when its request's span ends, maybe while another request
        // runs: it has the tags of the scope its span started in (`hold()` tagged it).
        if (event.type === 'transaction') return event;
        // An error that escaped a unit of work belongs to it, wherever it is captured.
        const store = originOf(hint.originalException) ?? currentTransactionStore();
        if (store === undefined) return event;
        event.tags = { ...event.tags, ...tagsOf(store) };
        if (store.header !== undefined && event.request?.headers !== undefined) {
          scrubIncomingId(event.request.headers, store.header, store.id);
        }
        return event;
      });
    }
  }

  /** Loads the application's copy of `@sentry/node`; `undefined` when it is not installed. */
  static async load(): Promise<SentryBridge | undefined> {
    const sdk = await importOptional<SentrySdk>('@sentry/node');
    if (sdk === undefined) return undefined;
    // `@sentry/node` does not export the default isolation scope; `@sentry/core` of the same
    // version shares its state (the SDK keys its global carrier by version). Without it, the
    // scope current now, at start-up and outside any request, is the default one.
    const core = await importOptional<typeof SentryCore>('@sentry/core');
    const startupScope = sdk.getIsolationScope();
    const bridge =
      core !== undefined && core.SDK_VERSION === sdk.SDK_VERSION
        ? new SentryBridge(sdk, core.getDefaultIsolationScope, core.httpRequestToRequestData)
        : new SentryBridge(sdk, () => startupScope);
    const client = sdk.getClient();
    attributeLogsAndSpansOf(client);
    bridge.spansReadAttributes = client !== undefined && tracesSpans(client);
    if (await bridge.keepsScopesAcrossAwaits()) {
      bridge.holdsStores = true;
      readStoresFrom(() => bridge.heldStore());
    }
    return bridge;
  }

  /** Whether Sentry has a client and an async context that carries isolation scopes. */
  private async keepsScopesAcrossAwaits(): Promise<boolean> {
    const { sdk } = this;
    if (sdk.getClient() === undefined) return false;
    return sdk.withIsolationScope(async (forked) => {
      await new Promise((resolve) => setImmediate(resolve));
      return sdk.getIsolationScope() === forked;
    });
  }

  /** The store of the current isolation scope. */
  private heldStore(): TransactionStore | undefined {
    const scope: HoldingScope = this.sdk.getIsolationScope();
    return scope[STORE] ?? this.inheritedStore(scope);
  }

  /**
   * The store of a scope the application forked inside a unit of work (`withIsolationScope()`):
   * it has the parent's tags, so its ID.
   */
  private inheritedStore(scope: HoldingScope): TransactionStore | undefined {
    if (scope === this.defaultIsolationScope()) return undefined;
    const id = scope.getScopeData().tags[TRANSACTION_ID_TAG];
    if (typeof id !== 'string') return undefined;
    return (scope[STORE] = { id, inherited: true });
  }

  /**
   * Runs `fn` as the unit of work of `store`, in an isolation scope that holds the store and is
   * tagged with its ID. An HTTP request that Sentry isolated already keeps that scope, so request
   * data and spans Sentry attached to it stay together; anything else (messages, nested runs,
   * Sentry without its http integration) gets a fork and a trace of its own. A request forked
   * here continues the caller's `sentry-trace`, and its events get the request data that Sentry's
   * http integration would have given them. Only while `holdsStores`.
   */
  run<T>(store: TransactionStore, fn: () => T, request?: IncomingMessage): T {
    const { sdk } = this;
    if (request === undefined) return this.fork(store, fn);
    const scope: HoldingScope = sdk.getIsolationScope();
    if (this.isUnclaimed(scope)) {
      hold(scope, store, this.spansReadAttributes);
      return fn();
    }
    this.describeRequestsOf(sdk.getClient());
    // The fork starts a fresh trace; only a caller's `sentry-trace` needs more (most have none).
    const sentryTrace = request.headers['sentry-trace'];
    return sdk.withIsolationScope((forked: HoldingScope) => {
      hold(forked, store, this.spansReadAttributes);
      forked[REQUEST] = {
        method: request.method,
        url: request.url,
        headers: request.headers,
        socket: request.socket,
      };
      if (typeof sentryTrace !== 'string') return fn();
      const baggage = request.headers.baggage;
      return sdk.continueTrace(
        { sentryTrace, baggage: typeof baggage === 'string' ? baggage : undefined },
        fn,
      );
    });
  }

  /**
   * Runs `fn` as the unit of work of `store` in the isolation scope something else forked for it
   * (`@sentry/nestjs` forks one per cron run, event handler and BullMQ job): that scope is tagged,
   * never a second one forked. Where nothing forked one, as `run()` without a request.
   */
  adopt<T>(store: TransactionStore, fn: () => T): T {
    const scope: HoldingScope = this.sdk.getIsolationScope();
    if (!this.isUnclaimed(scope)) return this.fork(store, fn);
    hold(scope, store, this.spansReadAttributes);
    return fn();
  }

  /** A job or message is a trace of its own, not a part of whatever ran before it. */
  private fork<T>(store: TransactionStore, fn: () => T): T {
    const { sdk } = this;
    const outerTrace = sdk.getCurrentScope().getPropagationContext().traceId;
    return sdk.withIsolationScope((forked) => {
      hold(forked, store, this.spansReadAttributes);
      // `@sentry/node` 11's fork starts a trace of its own unless the outer work continues one.
      // Where it did and no span is active, `startNewTrace()` would only clone both scopes again.
      const started = sdk.getCurrentScope().getPropagationContext().traceId !== outerTrace;
      if (started && sdk.getActiveSpan() === undefined) return fn();
      return sdk.startNewTrace(fn);
    });
  }

  /**
   * Whether `scope` was forked for the work about to start and belongs to no unit of work yet:
   * not the default scope (tagging it would leak), and holding no store of its own (a scope
   * that found its store through a tag it inherited was forked inside other work, for this one).
   */
  private isUnclaimed(scope: HoldingScope): boolean {
    if (scope === this.defaultIsolationScope()) return false;
    return scope[STORE] === undefined || scope[STORE].inherited === true;
  }

  /**
   * Describes the request on each event of a request forked here, when the event is made: what
   * Sentry's http integration copies for every request, at a cost per request, is copied here only
   * for the few that report something. `requestDataIntegration` then filters it by the SDK's data
   * collection settings, as it would have.
   */
  private describeRequestsOf(client: SentryClient | undefined): void {
    if (client === undefined || describingClients.has(client)) return;
    describingClients.add(client);
    client.on('preprocessEvent', (event) => {
      const request = (this.sdk.getIsolationScope() as HoldingScope)[REQUEST];
      if (request === undefined) return;
      const method = (request.method ?? 'GET').toUpperCase();
      const url = request.url ?? '/';
      event.transaction ??= `${method} ${url.split(URL_END, 1)[0]}`;
      if (this.toRequestData === undefined) return;
      const { headers, socket } = request;
      event.sdkProcessingMetadata = {
        ...event.sdkProcessingMetadata,
        // Not a parsed body or cookies, which Sentry's http integration would not have copied.
        normalizedRequest: this.toRequestData({
          method,
          url,
          headers,
          socket: socket ?? undefined,
        }),
        ipAddress: socket?.remoteAddress,
      };
    });
  }

  /**
   * Whether `@sentry/nestjs` reports unhandled exceptions in this application, by its own rules:
   * then the module reports none and only tags (set at start-up by `SentrySetupInspector`).
   */
  leavesReportingToSentryNestjs = false;

  /** The version of the `@sentry/node` loaded. */
  get sdkVersion(): string {
    return this.sdk.SDK_VERSION;
  }

  /**
   * Reports an exception that escaped the application's code, once: `HttpException`s below 500
   * are answers, not failures, and an exception captured before (by the app, by
   * `@sentry/nestjs`) is left alone. Where `@sentry/nestjs` is in use, it reports, not this.
   */
  reportUnhandled(exception: unknown): void {
    if (this.leavesReportingToSentryNestjs) return;
    this.capture(exception);
  }

  /**
   * Reports an exception that ended work no exception filter sees (a scheduled run, an event
   * handler, a job), once. Also where `@sentry/nestjs` is in use: it reports those only where
   * its hook wrapped the method, and then the exception is captured already.
   */
  reportEndOfWork(exception: unknown): void {
    this.capture(exception);
  }

  private capture(exception: unknown): void {
    if (!isReportable(exception) || this.sdk.getClient() === undefined) return;
    if (isCaptured(exception)) return;
    this.sdk.captureException(exception, { mechanism: UNHANDLED_MECHANISM });
  }
}

/**
 * Makes `scope` the scope of `store`'s unit of work: error events read its tags; streamed spans
 * (and logs) read its attributes, set where spans are made and the SDK has them.
 */
function hold(scope: HoldingScope, store: TransactionStore, withAttributes: boolean): void {
  scope[STORE] = store;
  const tags = tagsOf(store);
  scope.setTags(tags);
  if (withAttributes) (scope as Partial<AttributeScope>).setAttributes?.(tags);
}

/** Whether the client makes spans: Sentry's own test (`tracesSampleRate` or `tracesSampler`). */
function tracesSpans(client: SentryClient): boolean {
  const { tracesSampleRate, tracesSampler } = client.getOptions();
  return tracesSampleRate != null || tracesSampler !== undefined;
}

/** `Scope#setAttributes()`, which the SDK has since 10.x. */
interface AttributeScope {
  setAttributes(attributes: Record<string, string>): unknown;
}

/** What the library touches of a Sentry log and a span, from the `beforeCaptureLog` and `spanStart` hooks. */
interface LogLike {
  attributes?: Record<string, unknown>;
}
interface SpanLike {
  setAttribute(key: string, value: string): unknown;
}
type HookClient = SentryClient & {
  on(hook: 'beforeCaptureLog', callback: (log: LogLike) => void): () => void;
  on(hook: 'spanStart', callback: (span: SpanLike) => void): () => void;
};

/**
 * Puts the unit of work's ID on each Sentry log (`Sentry.logger.*`, the console integration) and,
 * where spans do not read scope attributes (`traceLifecycle: 'static'`, SDK 10), on each span
 * started in it. Logs get it here too because the isolation scope holds no attributes where the
 * library keeps IDs in its own storage (Sentry initialised after the application) or the SDK
 * predates scope attributes. A value the application set on the log stays.
 */
function attributeLogsAndSpansOf(client: SentryClient | undefined): void {
  if (client === undefined || attributingClients.has(client)) return;
  attributingClients.add(client);
  const hooks = client as HookClient;
  hooks.on('beforeCaptureLog', (log) => {
    const store = currentTransactionStore();
    if (store === undefined) return;
    log.attributes = { ...tagsOf(store), ...log.attributes };
  });
  if ((client.getOptions() as { traceLifecycle?: string }).traceLifecycle === 'stream') return;
  hooks.on('spanStart', (span) => {
    const store = currentTransactionStore();
    if (store !== undefined) span.setAttribute(TRANSACTION_ID_TAG, store.id);
  });
}

/** The Sentry tags of a unit of work. */
function tagsOf({ id, clientId }: TransactionStore): Record<string, string> {
  return clientId === undefined
    ? { [TRANSACTION_ID_TAG]: id }
    : { [TRANSACTION_ID_TAG]: id, [CLIENT_TRANSACTION_ID_TAG]: clientId };
}

/**
 * Shows the settled ID in the request headers of an event, in place of what came in: an invalid
 * or untrusted value must not reach Sentry (request data is copied before the ID is settled).
 */
function scrubIncomingId(headers: Record<string, string>, header: string, id: string): void {
  for (const name of Object.keys(headers)) {
    if (sameHeaderName(name, header)) headers[name] = id;
  }
}

/**
 * Whether an exception is a failure worth an event rather than an intended answer:
 * `HttpException`s below 500 and `RpcException`s (a message handler's way to answer with an
 * error, which carries no status) are answers.
 */
export function isReportable(exception: unknown): boolean {
  if (exception instanceof HttpException) return exception.getStatus() >= 500;
  return !isAnswer(exception);
}

// The SDK marks what it captured with this property; it drops a second capture of the same
// object anyway, this only saves building the event.
function isCaptured(exception: unknown): boolean {
  return (
    typeof exception === 'object' &&
    exception !== null &&
    (exception as { __sentry_captured__?: boolean }).__sentry_captured__ === true
  );
}
