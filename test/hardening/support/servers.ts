import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { createServer as createTcpServer, type AddressInfo, type Socket } from 'node:net';

/** One request as a local server received it. */
export interface Received {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** Answers one request; the default answers `200 {"ok":true}`. */
export type Handler = (
  request: IncomingMessage,
  response: ServerResponse,
  received: Received,
) => void | Promise<void>;

const ok: Handler = (_request, response) => {
  response.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
};

/**
 * A plain HTTP server on a loopback address and a port of its own that records every request, so
 * a test sees what went over the wire, not what a client meant to send.
 */
export class RecordingServer {
  readonly received: Received[] = [];
  private readonly sockets = new Set<Socket>();

  private constructor(
    private readonly server: Server,
    readonly host: string,
    private handler: Handler,
  ) {
    server.on('connection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
    });
  }

  static async start(handler: Handler = ok, host = '127.0.0.1'): Promise<RecordingServer> {
    let instance: RecordingServer | undefined;
    const server = createServer((request, response) => void instance!.receive(request, response));
    instance = new RecordingServer(server, host, handler);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, host, () => resolve());
    });
    return instance;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  /** An absolute URL on this server, under `hostname` (default: the address it listens on). */
  url(path = '/', hostname = this.host.includes(':') ? `[${this.host}]` : this.host): string {
    return `http://${hostname}:${this.port}${path}`;
  }

  handle(handler: Handler): this {
    this.handler = handler;
    return this;
  }

  /** Requests received so far whose path (without query) is `path`. */
  to(path: string): Received[] {
    return this.received.filter((r) => r.url.split('?', 1)[0] === path);
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise((resolve) => this.server.close(resolve));
  }

  private async receive(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const received: Received = {
      method: request.method ?? '',
      url: request.url ?? '',
      headers: request.headers,
      body: Buffer.concat(chunks).toString('utf8'),
    };
    this.received.push(received);
    try {
      await this.handler(request, response, received);
    } catch (error) {
      if (!response.headersSent) response.writeHead(500);
      response.end(String(error));
    }
  }
}

/** A TCP server that hands every connection to `onConnection`: for peers that do not speak HTTP. */
export async function startTcpServer(
  onConnection: (socket: Socket) => void,
): Promise<{ port: number; close: () => Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = createTcpServer((socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    onConnection(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** A loopback port nothing listens on: one that was free a moment ago. */
export async function closedPort(): Promise<number> {
  const server = createTcpServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Whether this machine can listen on `::1`. */
export async function hasIpv6Loopback(): Promise<boolean> {
  const server = createTcpServer();
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '::1', resolve);
    });
    return true;
  } catch {
    return false;
  } finally {
    if (server.listening) await new Promise((resolve) => server.close(resolve));
  }
}

/** The port a listening Nest application's HTTP server is bound to. */
export function portOf(app: { getHttpServer(): { address(): unknown } }): number {
  return (app.getHttpServer().address() as AddressInfo).port;
}
