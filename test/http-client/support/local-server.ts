import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** One request as the server received it. */
export interface ReceivedRequest {
  method: string;
  /** Path and query, as sent. */
  url: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
  /** Resolves when the connection the request came on closes, for whatever reason. */
  closed: Promise<void>;
  /** Whether the server had finished its response when the connection closed. */
  answered: () => boolean;
}

/**
 * Answers one request. The default echoes the request as JSON; a handler that never ends the
 * response leaves the call hanging (for timeouts and aborts).
 */
export type Handler = (
  request: IncomingMessage,
  response: ServerResponse,
  received: ReceivedRequest,
) => void | Promise<void>;

/** The default handler: answers 200 with the request as JSON. */
export const echo: Handler = (_request, response, received) => {
  response.writeHead(200, { 'content-type': 'application/json' });
  response.end(
    JSON.stringify({
      method: received.method,
      url: received.url,
      headers: received.headers,
      body: received.body.toString('utf8'),
    }),
  );
};

/**
 * A real HTTP server on 127.0.0.1 and a port of its own, recording every request, for tests that
 * must see what actually went over the wire.
 */
export class LocalServer {
  readonly requests: ReceivedRequest[] = [];
  private handler: Handler = echo;
  private readonly sockets = new Set<Socket>();
  /** One promise per connection: keep-alive connections carry many requests. */
  private readonly socketClosed = new WeakMap<Socket, Promise<void>>();
  private waiters: Array<() => void> = [];

  private constructor(private readonly server: Server) {}

  static async start(handler?: Handler): Promise<LocalServer> {
    const instance: LocalServer = new LocalServer(
      createServer((request, response) => void instance.receive(request, response)),
    );
    if (handler) instance.handler = handler;
    instance.server.on('connection', (socket: Socket) => {
      instance.sockets.add(socket);
      instance.socketClosed.set(
        socket,
        new Promise((resolve) => {
          socket.once('close', () => {
            instance.sockets.delete(socket);
            resolve();
          });
        }),
      );
    });
    await new Promise<void>((resolve) => instance.server.listen(0, '127.0.0.1', resolve));
    return instance;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  /** `http://127.0.0.1:<port>` */
  get origin(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** An absolute URL on this server; `host` may be `localhost` for a second origin. */
  url(path = '/', host: '127.0.0.1' | 'localhost' = '127.0.0.1'): string {
    return `http://${host}:${this.port}${path}`;
  }

  /** Answers the next requests with `handler`. */
  handle(handler: Handler): this {
    this.handler = handler;
    return this;
  }

  /** The `count`-th request (1-based), once it has arrived. */
  async nextRequest(
    count = this.requests.length + 1,
    timeoutMs = 10_000,
  ): Promise<ReceivedRequest> {
    await this.waitFor(() => this.requests.length >= count, timeoutMs);
    return this.requests[count - 1];
  }

  /** Resolves when `predicate` holds after a request arrives; fails after `timeoutMs`. */
  waitFor(predicate: () => boolean, timeoutMs = 10_000): Promise<void> {
    if (predicate()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((waiter) => waiter !== check);
        reject(new Error(`LocalServer: condition not met within ${timeoutMs} ms`));
      }, timeoutMs);
      const check = () => {
        if (!predicate()) return;
        clearTimeout(timer);
        this.waiters = this.waiters.filter((waiter) => waiter !== check);
        resolve();
      };
      this.waiters.push(check);
    });
  }

  /** The lines of header `name` the last request carried (Node.js joins repeats with `, `). */
  headerLines(name: string): string[] {
    const value = this.requests.at(-1)?.headers[name];
    return value === undefined ? [] : String(value).split(', ');
  }

  /** Closes the server and every connection still open. */
  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise((resolve) => this.server.close(resolve));
  }

  private async receive(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const closed = this.socketClosed.get(request.socket) ?? Promise.resolve();
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const received: ReceivedRequest = {
      method: request.method ?? '',
      url: request.url ?? '',
      headers: request.headers,
      body: Buffer.concat(chunks),
      closed,
      answered: () => response.writableFinished,
    };
    this.requests.push(received);
    // A waiter that is done replaces `this.waiters`, so this array stays as it is.
    for (const waiter of this.waiters) waiter();
    try {
      await this.handler(request, response, received);
    } catch (error) {
      if (!response.headersSent) response.writeHead(500, { 'content-type': 'text/plain' });
      response.end(String(error));
    }
  }
}

/** A port nothing listens on: one that was just free. */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Waits for `promise`, failing after `ms` with `what` in the message. */
export async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, expired]);
  } finally {
    clearTimeout(timer);
  }
}
