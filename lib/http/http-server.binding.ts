import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { Inject, Injectable, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import {
  BOUND_SERVER,
  GLOBAL_INTERCEPTOR,
  RESOLVED_TRANSACTION_OPTIONS,
} from '../transaction.internal-constants.js';
import type { ResolvedTransactionOptions } from '../options/transaction-options.js';
import { REJECTED, TransactionIdPolicy } from '../id/transaction-id.policy.js';
import { currentTransactionStore, type TransactionStore } from '../context/transaction.storage.js';
import { readTransactionHeader } from './read-transaction-header.js';
import { UnitOfWork } from '../context/unit-of-work.js';
import { isRefusal, settleHandshake } from '../websockets/handshake.js';
import { readTraceId } from './read-trace-id.js';
import { echoOnHead } from './response-echo.js';

type Emit = (this: Server, event: string | symbol, ...args: unknown[]) => boolean;
type BoundServer = Server & { [BOUND_SERVER]?: true };

/** The part of a Fastify instance the fallback hook needs. */
interface FastifyLike {
  addHook(
    name: 'onRoute',
    hook: (route: { onRequest?: FastifyHook | FastifyHook[] }) => void,
  ): unknown;
  inject: unknown;
}
type FastifyHook = (
  request: { raw: IncomingMessage },
  reply: FastifyReplyLike,
  done: () => void,
) => void;
interface FastifyReplyLike {
  raw: ServerResponse;
  hijack(): unknown;
}

/**
 * Settles the transaction ID of every HTTP request where the request enters Node.js: at the
 * server's `'request'` event, inside the isolation scope Sentry forks there and before Express or
 * Fastify, middleware, guards, interceptors, pipes and exception filters see the request. This is
 * what makes the ID, the echo header and the Sentry tag hold for all of them, on both adapters.
 *
 * Requests that never pass the server (Fastify's `inject()`) are settled by a Fastify `onRequest`
 * hook instead, unless `TransactionInterceptor` is global and does it.
 */
@Injectable()
export class HttpServerBinding implements OnModuleInit, OnApplicationShutdown {
  private restore: (() => void) | undefined;
  /**
   * Whether the echo waits for the response's head (`echoOnHead`): Fastify writes its headers in
   * one `writeHead()`, Express sets each with `setHeader()`, where the echo is set at once.
   */
  private echoWithHead = false;

  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly work: UnitOfWork,
    private readonly policy: TransactionIdPolicy,
    @Inject(RESOLVED_TRANSACTION_OPTIONS) private readonly options: ResolvedTransactionOptions,
    @Inject(GLOBAL_INTERCEPTOR) private readonly globalInterceptor: boolean,
  ) {}

  /**
   * Gives Fastify's routes the hook that settles `inject()` requests, unless the global
   * interceptor does. Called from `TransactionModule.configure()`: after the application has its
   * HTTP adapter, before Nest registers routes (which happens before `onModuleInit()`).
   *
   * @internal
   */
  bindRoutes(): void {
    if (!this.globalInterceptor) this.hookFastify();
  }

  onModuleInit(): void {
    this.echoWithHead = this.adapterHost.httpAdapter?.getType?.() === 'fastify';
    this.wrapServer();
  }

  private wrapServer(): void {
    // Microservice-only and standalone applications have no HTTP server.
    const server = this.adapterHost.httpAdapter?.getHttpServer?.() as BoundServer | undefined;
    if (typeof server?.emit !== 'function' || server[BOUND_SERVER]) return;

    const original = server.emit as Emit;
    const onRequest = this.onRequest.bind(this);
    const onUpgrade = this.onUpgrade.bind(this);
    // A plain function: `emit` needs the server as `this`, and `arguments` as it came.
    const bound = function emit(this: Server, event: string | symbol) {
      if (event === 'request') return onRequest(this, original, arguments[1], arguments[2]);
      if (event === 'upgrade') return onUpgrade(this, original, arguments as never);
      return original.apply(this, arguments as never);
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

  private hookFastify(): void {
    const instance = this.adapterHost.httpAdapter?.getInstance?.() as FastifyLike | undefined;
    if (typeof instance?.addHook !== 'function' || typeof instance.inject !== 'function') return;
    const onRequest: FastifyHook = (request, reply, done) => {
      // Requests that came through the server are settled already.
      if (currentTransactionStore() !== undefined) return done();
      const store = this.settle(request.raw, reply.raw);
      if (store === undefined) {
        reply.hijack();
        return;
      }
      this.work.run(store, done, request.raw);
    };
    // A hook of each route rather than of the instance: Sentry's Fastify integration wraps every
    // instance hook in a span of its own, a cost on every request for a hook that only inject()
    // needs. Routes' hooks added by an `onRoute` hook registered after Sentry's stay unwrapped.
    instance.addHook('onRoute', (route) => {
      route.onRequest =
        route.onRequest === undefined ? onRequest : [route.onRequest, onRequest].flat();
    });
  }

  private onRequest(
    server: Server,
    emit: Emit,
    request: IncomingMessage,
    response: ServerResponse,
  ): boolean {
    const store = this.settle(request, response);
    if (store === undefined) return true;
    return this.work.run(store, () => emit.call(server, 'request', request, response), request);
  }

  /**
   * A WebSocket connection on this server (GraphQL subscriptions over `graphql-ws`, gateways on
   * the application's port) is a unit of work of its own, settled from its upgrade request, and
   * every frame it receives is handled in it: what the connection starts (a subscription and the
   * events it resolves) runs under its ID. Refusing a connection is left to the gateway, which
   * can tell its client why; until then, a refused one gets a fresh ID.
   */
  private onUpgrade(
    server: Server,
    emit: Emit,
    args: [event: string, request: IncomingMessage, socket: Duplex, head: Buffer],
  ): boolean {
    const [, request, socket] = args;
    const { work } = this;
    const settled = settleHandshake(work, this.options.header, request);
    const store = isRefusal(settled) ? work.fresh() : settled;
    const emitSocket = socket.emit;
    socket.emit = function (this: Duplex, event: string | symbol, ...rest: unknown[]) {
      if (event !== 'data') return emitSocket.call(this, event, ...rest);
      return work.run(store, () => emitSocket.call(this, event, ...rest));
    };
    return work.run(store, () => emit.apply(server, args), request);
  }

  /**
   * The unit of work of a request, its ID echoed on the response; `undefined` when the request is
   * turned away, with the 400 answered here.
   */
  private settle(request: IncomingMessage, response: ServerResponse): TransactionStore | undefined {
    const { header, echo } = this.options;
    let incoming = readTransactionHeader(request, header);
    if (incoming === undefined && this.options.deriveFromTraceId) incoming = this.derive(request);
    const store = this.work.settle(incoming, request, header);
    if (store === REJECTED) {
      rejectRequest(response, header, incoming === undefined);
      return undefined;
    }
    if (!echo) return store;
    if (this.echoWithHead) echoOnHead(response, store);
    else response.setHeader(header, store.id);
    return store;
  }

  /**
   * Option `deriveFromTraceId`: the trace id of a caller that sent a trace header but no ID, taken
   * as if it had come in the header when the policy finds it valid, else as no ID at all.
   */
  private derive(request: IncomingMessage): string | undefined {
    const traceId = readTraceId(request.headers);
    return this.policy.isValid(traceId) ? traceId : undefined;
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
