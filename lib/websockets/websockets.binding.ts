import type { IncomingMessage } from 'node:http';
import { Logger, type OnApplicationShutdown } from '@nestjs/common';
import { from, isObservable, mergeMap, Observable, of } from 'rxjs';
import type { ResolvedTransactionOptions } from '../options/transaction-options.js';
import type { TransactionStore } from '../context/transaction.storage.js';
import type { UnitOfWork } from '../context/unit-of-work.js';
import { REJECTED } from '../id/transaction-id.policy.js';
import { importOptional } from '../utils/import-optional.js';
import { readMessageId, readSocketIoAuthId, type SocketIoSocket } from './connection-id.js';
import { isRefusal, refusal, settleHandshake, type Refusal } from './handshake.js';

/** What `@nestjs/websockets` gives the binding. */
interface WebSocketsPackage {
  AbstractWsAdapter: { prototype: AdapterLike };
}

type ConnectionCallback = (client: Client, ...args: unknown[]) => void;
type MessageCallback = (data: unknown, ...rest: unknown[]) => unknown;
interface MessageHandler {
  readonly callback: MessageCallback;
}

interface AdapterLike {
  bindClientConnect(server: unknown, callback: ConnectionCallback): unknown;
  bindClientDisconnect?(client: Client, callback: (...args: unknown[]) => void): unknown;
  bindMessageHandlers(client: Client, handlers: MessageHandler[], transform: unknown): unknown;
}

/** A client of either platform, with what the library keeps on it. */
type Client = object & {
  [CONNECTION]?: TransactionStore;
  [UPGRADE]?: IncomingMessage;
  close?(code: number, reason: string): void;
  disconnect?(close?: boolean): void;
};

/** A socket.io namespace, whose middleware runs before a connection is made. */
interface SocketIoServer {
  use(middleware: (socket: SocketIoSocket & Client, next: (error?: Error) => void) => void): void;
}

/** A `ws` server, which shows the upgrade response's headers before it sends them. */
interface WsServer {
  handleUpgrade: unknown;
  on(event: 'headers', listener: (headers: string[], request: IncomingMessage) => void): void;
}

/** The connection's unit of work, on its client; the upgrade request, on a `ws` client. */
const CONNECTION = Symbol.for('nestjs-transaction-id:connection');
const UPGRADE = Symbol.for('nestjs-transaction-id:upgrade-request');
/** Marks the adapter class, adapters and servers handled already. */
const BOUND = Symbol.for('nestjs-transaction-id:websockets');

/** The binding of the application that started last: the adapter class is patched once. */
let current: WebSocketsBinding | undefined;

/**
 * One transaction ID per WebSocket connection, and one unit of work per message, for gateways of
 * `@nestjs/platform-socket.io`, `@nestjs/platform-ws` and adapters built on Nest's
 * `AbstractWsAdapter`, with nothing but `forRoot()`.
 *
 * The connection's ID is read when it is made (socket.io: `auth` field, handshake header or query
 * parameter; ws: upgrade header or query parameter, all named as the header), settled by the
 * policy like an HTTP request's, and given back (socket.io: an event named as the header; ws: the
 * upgrade response's header). `handleConnection`/`handleDisconnect` run under it; every message
 * runs as a unit of work of its own with its own isolation scope, under the connection's ID or
 * the one its payload carries in the field named as the header.
 *
 * Gateways are registered before any lifecycle hook runs, so the binding is installed while the
 * module is instantiated: it wraps how adapters accept connections, for every adapter created.
 */
export class WebSocketsBinding implements OnApplicationShutdown {
  private readonly logger = new Logger('TransactionModule');

  private constructor(
    private readonly work: UnitOfWork,
    private readonly options: ResolvedTransactionOptions,
  ) {}

  /** Installs the binding when `@nestjs/websockets` is installed; `undefined` otherwise. */
  static async install(
    work: UnitOfWork,
    options: ResolvedTransactionOptions,
  ): Promise<WebSocketsBinding | undefined> {
    const websockets = await importOptional<WebSocketsPackage>('@nestjs/websockets');
    if (websockets === undefined) return undefined;
    patchAdapterClass(websockets.AbstractWsAdapter.prototype);
    const binding = new WebSocketsBinding(work, options);
    current = binding;
    return binding;
  }

  onApplicationShutdown(): void {
    if (current === this) current = undefined;
  }

  /** `callback` of a gateway's connections, run as units of work of the connections' IDs. */
  connecting(
    adapter: AdapterLike,
    server: unknown,
    callback: ConnectionCallback,
  ): ConnectionCallback {
    this.instrumentAdapter(adapter);
    const socketIo = isSocketIoServer(server);
    if (socketIo) this.guardSocketIo(server);
    else if (isWsServer(server)) this.echoOnUpgrade(server);
    const { header, echo } = this.options;
    return (client, ...args) => {
      const store = client[CONNECTION] ?? this.connectionOf(client, args[0]);
      if (store === undefined) return;
      // The client learns the connection's ID, also when it sent none (a ws client, from the
      // upgrade response).
      if (socketIo && echo) (client as SocketIoSocket).emit(header, store.id);
      this.work.run(store, () => callback(client, ...args));
    };
  }

  /** Settles a `ws` connection's ID from its upgrade request, or refuses the connection. */
  private connectionOf(client: Client, request: unknown): TransactionStore | undefined {
    if (!isRequest(request)) return this.work.fresh();
    client[UPGRADE] = request;
    const settled = settleHandshake(this.work, this.options.header, request);
    if (!isRefusal(settled)) return (client[CONNECTION] = settled);
    // 1008: policy violation.
    client.close?.(1008, settled.refused);
    return undefined;
  }

  /** Settles socket.io connections in a middleware, where refusing one tells the client why. */
  private guardSocketIo(server: SocketIoServer): void {
    if (!mark(server)) return;
    server.use((socket, next) => {
      const settled = this.settleSocketIo(socket);
      if (isRefusal(settled)) return next(new Error(settled.refused));
      socket[CONNECTION] = settled;
      next();
    });
  }

  /** The `auth` field a browser sets comes first; then the handshake request's header or query. */
  private settleSocketIo(socket: SocketIoSocket): TransactionStore | Refusal {
    const { header } = this.options;
    const auth = readSocketIoAuthId(socket, header);
    if (auth === undefined) return settleHandshake(this.work, header, socket.request);
    const store = this.work.settle(auth, socket.request);
    return store === REJECTED ? { refused: refusal(header, false) } : store;
  }

  /** Echoes a `ws` connection's ID on the upgrade response, settling it there. */
  private echoOnUpgrade(server: WsServer): void {
    if (!mark(server) || !this.options.echo) return;
    const { header } = this.options;
    server.on('headers', (headers, request) => {
      const settled = settleHandshake(this.work, header, request);
      if (!isRefusal(settled)) headers.push(`${header}: ${settled.id}`);
    });
  }

  /** Runs every message and disconnection of the adapter's clients as a unit of work. */
  private instrumentAdapter(adapter: AdapterLike): void {
    if (!mark(adapter)) return;
    const bindMessageHandlers = adapter.bindMessageHandlers;
    adapter.bindMessageHandlers = (client, handlers, transform) =>
      bindMessageHandlers.call(
        adapter,
        client,
        handlers.map((handler) => ({
          ...handler,
          callback: (data: unknown, ...rest: unknown[]) =>
            this.message(client, data, () => handler.callback(data, ...rest)),
        })),
        transform,
      );
    const bindClientDisconnect = adapter.bindClientDisconnect;
    if (bindClientDisconnect === undefined) return;
    adapter.bindClientDisconnect = (client, callback) =>
      bindClientDisconnect.call(adapter, client, (...args: unknown[]) => {
        const store = client[CONNECTION];
        return store === undefined
          ? callback(...args)
          : this.work.run(store, () => callback(...args));
      });
  }

  /**
   * One message as a unit of work, under its own ID when it carries one. Nest's handler (guards,
   * interceptors, pipes, the method) runs when the adapter subscribes to what it returns, after
   * the call: so the call returns an Observable that enters the unit of work when subscribed.
   */
  private message(client: Client, data: unknown, handle: () => unknown): Observable<unknown> {
    const store = this.storeOfMessage(client, data);
    return new Observable((subscriber) =>
      this.work.run(store, () => resultOf(handle()).subscribe(subscriber)),
    );
  }

  private storeOfMessage(client: Client, data: unknown): TransactionStore {
    const connection = client[CONNECTION] ?? this.work.fresh();
    const own = readMessageId(data, this.options.header);
    if (own === undefined) return connection;
    const request = (client as Partial<SocketIoSocket>).request ?? client[UPGRADE];
    const store = this.work.settle(own, request ?? { transport: 'websocket', context: client });
    if (store !== REJECTED) return store;
    this.logger.warn(`A WebSocket message with an invalid ${this.options.header} was refused.`);
    throw new Error(
      `Invalid ${this.options.header} in the message: send one valid transaction ID.`,
    );
  }
}

/** Makes every adapter built on `AbstractWsAdapter` hand its connections to the binding. */
function patchAdapterClass(prototype: AdapterLike): void {
  if (!mark(prototype)) return;
  const bindClientConnect = prototype.bindClientConnect;
  prototype.bindClientConnect = function (this: AdapterLike, server, callback) {
    const binding = current;
    return bindClientConnect.call(
      this,
      server,
      binding === undefined ? callback : binding.connecting(this, server, callback),
    );
  };
}

/** Marks `target` as handled; `false` when it was already. */
function mark(target: object): boolean {
  // Own property only: adapters inherit the mark of their class's prototype.
  if (Object.hasOwn(target, BOUND)) return false;
  Object.defineProperty(target, BOUND, { value: true });
  return true;
}

/** What a handler's result resolves to, as Nest's WebSockets layer reads it. */
function resultOf(result: unknown): Observable<unknown> {
  return from(Promise.resolve(result)).pipe(
    mergeMap((value) =>
      isObservable(value) ? value : value instanceof Promise ? from(value) : of(value),
    ),
  );
}

function isSocketIoServer(server: unknown): server is SocketIoServer {
  return typeof (server as Partial<SocketIoServer>)?.use === 'function';
}

function isWsServer(server: unknown): server is WsServer {
  const candidate = server as Partial<WsServer> | undefined;
  return typeof candidate?.handleUpgrade === 'function' && typeof candidate.on === 'function';
}

function isRequest(value: unknown): value is IncomingMessage {
  return typeof (value as Partial<IncomingMessage>)?.headers === 'object';
}
