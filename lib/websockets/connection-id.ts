import type { IncomingMessage } from 'node:http';

/** The part of a socket.io socket the library reads. */
export interface SocketIoSocket {
  readonly request: IncomingMessage;
  readonly handshake: {
    readonly headers: IncomingMessage['headers'];
    readonly auth?: Record<string, unknown>;
    readonly query?: Record<string, unknown>;
  };
  emit(event: string, ...args: unknown[]): unknown;
}

/**
 * The ID a socket.io client sent when it connected: its `auth` payload field (what a browser
 * can set), else the handshake header (Node clients), else the query parameter; each named as
 * the header. `null` when the one it sent is not a single string.
 */
export function readSocketIoId(socket: SocketIoSocket, header: string): string | null | undefined {
  const { auth, headers, query } = socket.handshake;
  return firstOf([auth?.[header], headers[header], query?.[header]]);
}

/**
 * The ID a plain WebSocket client sent with its upgrade request: the header (Node clients), else
 * the query parameter named as the header (what a browser can set).
 */
export function readUpgradeId(request: IncomingMessage, header: string): string | null | undefined {
  const fromHeader = request.headers[header];
  if (fromHeader !== undefined) return firstOf([fromHeader]);
  const url = request.url ?? '';
  const query = url.indexOf('?');
  if (query === -1) return undefined;
  const values = new URLSearchParams(url.slice(query + 1)).getAll(header);
  return values.length === 0 ? undefined : values.length === 1 ? values[0] : null;
}

/**
 * The ID a message carries for a transaction of its own: the payload field named as the header
 * (`{ "x-transaction-id": "…", … }`); `undefined` when it carries none.
 */
export function readMessageId(data: unknown, header: string): string | null | undefined {
  if (typeof data !== 'object' || data === null || !Object.hasOwn(data, header)) return undefined;
  const value = (data as Record<string, unknown>)[header];
  return typeof value === 'string' ? value : null;
}

/** The first value that was sent: a string is the ID, anything else (arrays, objects) none. */
function firstOf(values: readonly unknown[]): string | null | undefined {
  for (const value of values) {
    if (value === undefined) continue;
    return typeof value === 'string' ? value : null;
  }
  return undefined;
}
