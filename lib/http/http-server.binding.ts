import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { Inject, Injectable, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { BOUND_SERVER, RESOLVED_TRANSACTION_OPTIONS } from '../transaction.internal-constants.js';
import type { ResolvedTransactionOptions } from '../options/transaction-options.js';
import { REJECTED, TransactionIdPolicy } from '../id/transaction-id.policy.js';
import { TransactionContext } from '../context/transaction-context.js';
import { readTransactionHeader } from './read-transaction-header.js';

type Emit = (this: Server, event: string | symbol, ...args: unknown[]) => boolean;
type BoundServer = Server & { [BOUND_SERVER]?: true };

/**
 * Settles the transaction ID of every HTTP request where the request enters Node.js: at the
 * server's `'request'` event, inside the isolation scope Sentry forks there and before Express or
 * Fastify, middleware, guards, interceptors, pipes and exception filters see the request. This is
 * what makes the ID, the echo header and the Sentry tag hold for all of them, on both adapters.
 */
@Injectable()
export class HttpServerBinding implements OnModuleInit, OnApplicationShutdown {
  private restore: (() => void) | undefined;

  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly context: TransactionContext,
    private readonly policy: TransactionIdPolicy,
    @Inject(RESOLVED_TRANSACTION_OPTIONS) private readonly options: ResolvedTransactionOptions,
  ) {}

  onModuleInit(): void {
    // Microservice-only and standalone applications have no HTTP server.
    const server = this.adapterHost.httpAdapter?.getHttpServer?.() as BoundServer | undefined;
    if (typeof server?.emit !== 'function' || server[BOUND_SERVER]) return;

    const original = server.emit as Emit;
    const onRequest = this.onRequest.bind(this);
    // A plain function: `emit` needs the server as `this`, and `arguments` as it came.
    const bound = function emit(this: Server, event: string | symbol) {
      if (event !== 'request') return original.apply(this, arguments as never);
      return onRequest(this, original, arguments[1], arguments[2]);
    };
    server.emit = bound;
    server[BOUND_SERVER] = true;
    this.restore = () => {
      // Sentry may have wrapped our emit since; then it stays, and keeps working, until exit.
      if (server.emit === bound) server.emit = original;
      delete server[BOUND_SERVER];
    };
  }

  onApplicationShutdown(): void {
    this.restore?.();
    this.restore = undefined;
  }

  private onRequest(
    server: Server,
    emit: Emit,
    request: IncomingMessage,
    response: ServerResponse,
  ): boolean {
    const { header, echo, tagClientId } = this.options;
    const incoming = readTransactionHeader(request, header);
    const trusted = this.policy.trusts(request);
    const id = this.policy.settle(incoming, trusted);
    if (id === REJECTED) {
      rejectRequest(response, header, incoming === undefined);
      return true;
    }
    if (echo) response.setHeader(header, id);
    const clientId =
      !trusted && tagClientId && this.policy.isValid(incoming) ? incoming : undefined;
    return this.context.enter(
      { id, clientId, header },
      () => emit.call(server, 'request', request, response),
      request,
    );
  }
}

function rejectRequest(response: ServerResponse, header: string, missing: boolean): void {
  // The invalid value is not repeated: it could be anything the client chose to send.
  const body = JSON.stringify({
    statusCode: 400,
    message: missing
      ? `Missing ${header} header: this service must be called with a transaction ID.`
      : `Invalid ${header} header: send one valid transaction ID.`,
    error: 'Bad Request',
  });
  response.writeHead(400, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
  });
  response.end(body);
}
