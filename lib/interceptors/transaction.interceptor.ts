import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  BadRequestException,
  CallHandler,
  ExecutionContext,
  Inject,
  Injectable,
  NestInterceptor,
  Optional,
} from '@nestjs/common';
import { Observable, tap } from 'rxjs';
import { RESOLVED_TRANSACTION_OPTIONS, SENTRY_BRIDGE } from '../transaction.internal-constants.js';
import type { ResolvedTransactionOptions } from '../options/transaction-options.js';
import { REJECTED, TransactionIdPolicy } from '../id/transaction-id.policy.js';
import { TransactionContext } from '../context/transaction-context.js';
import { UnitOfWork } from '../context/unit-of-work.js';
import type { SentryBridge } from '../sentry/sentry-bridge.js';
import { readTransactionHeader } from '../http/read-transaction-header.js';

/**
 * Binds the transaction ID for the handler in every execution context, and reports the
 * handler's unhandled exceptions to Sentry before any exception filter sees them.
 *
 * `TransactionModule` registers it globally when the application has WebSocket gateways or
 * GraphQL resolvers (option `globalInterceptor`). For HTTP and messages the ID is settled earlier,
 * where the request enters the server or the message its transport's server, and this
 * interceptor reuses it; it settles one itself only where nothing did (serverless adapters).
 *
 * Extend it and override `incomingId()` to read IDs from a carrier of your own. A subclass needs
 * no token of the library: its constructor, if it has one, passes `TransactionContext` and
 * `TransactionIdPolicy` to `super()`; the options and the Sentry bridge are injected into
 * properties, which subclasses inherit.
 *
 * @example
 * ```ts
 * @Injectable()
 * export class JobIdInterceptor extends TransactionInterceptor {
 *   protected override incomingId(execution: ExecutionContext) {
 *     if (execution.getType() === 'rpc') return execution.switchToRpc().getData()?.transactionId;
 *     return super.incomingId(execution);
 *   }
 * }
 * ```
 *
 * @publicApi
 */
@Injectable()
export class TransactionInterceptor implements NestInterceptor {
  /** The module's options, defaults filled in; injected after construction, not in constructors. */
  @Inject(RESOLVED_TRANSACTION_OPTIONS) protected readonly options!: ResolvedTransactionOptions;

  // Property injection keeps internal tokens out of the constructor that subclasses call.
  @Optional() @Inject(SENTRY_BRIDGE) private readonly sentry?: SentryBridge;
  @Inject(UnitOfWork) private readonly work!: UnitOfWork;

  constructor(
    protected readonly context: TransactionContext,
    protected readonly policy: TransactionIdPolicy,
  ) {}

  intercept(execution: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (this.context.id !== undefined) return this.withReporting(next.handle());

    const incoming = this.incomingId(execution);
    const http = execution.getType() === 'http';
    const id = this.policy.settle(incoming, !http || this.policy.trusts(rawRequest(execution)));
    if (id === REJECTED) {
      throw new BadRequestException(
        `${incoming === undefined ? 'Missing' : 'Invalid'} ${this.options.header} header.`,
      );
    }
    if (this.options.echo && http) {
      setResponseHeader(execution.switchToHttp().getResponse(), this.options.header, id);
    }
    // `handle()` inside the unit of work: Nest binds the handler to the async context current
    // when `handle()` is called, so called outside, the handler would not see the ID.
    return new Observable((subscriber) =>
      this.work.run({ id, header: http ? this.options.header : undefined }, () =>
        this.withReporting(next.handle()).subscribe(subscriber),
      ),
    );
  }

  /**
   * The ID that came with the work (`undefined` when none, `null` when ambiguous). Reads the
   * header of HTTP requests; other contexts get a fresh ID.
   */
  protected incomingId(execution: ExecutionContext): string | null | undefined {
    if (execution.getType() !== 'http') return undefined;
    return readTransactionHeader(rawRequest(execution), this.options.header);
  }

  private withReporting(source: Observable<unknown>): Observable<unknown> {
    const { sentry } = this;
    if (sentry === undefined || !this.options.reportUnhandled) return source;
    return source.pipe(tap({ error: (error: unknown) => sentry.reportUnhandled(error) }));
  }
}

/** Node's request under an Express or Fastify one. */
function rawRequest(execution: ExecutionContext): IncomingMessage {
  const request = execution
    .switchToHttp()
    .getRequest<IncomingMessage & { raw?: IncomingMessage }>();
  return request.raw ?? request;
}

/** Sets a header on an Express or Fastify response, or on Node's own. */
function setResponseHeader(response: unknown, name: string, value: string): void {
  const target = response as Partial<ServerResponse> & { raw?: ServerResponse; header?: unknown };
  const raw = target.raw ?? target;
  if (typeof raw.setHeader === 'function' && !raw.headersSent) raw.setHeader(name, value);
}
