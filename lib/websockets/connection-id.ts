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
 * The ID a socket.io client sent in its `auth` payload (what a browser can set), in the field
 * named as the header; `null` when it is not a string. The handshake's header and query
 * parameter are the upgrade request's (`settleUpgrade`).
 */
export function readSocketIoAuthId(
  socket: SocketIoSocket,
  header: string,
): string | null | undefined {
  const value = socket.handshake.auth?.[header];
  if (value === undefined) return undefined;
  return typeof value === 'string' ? value : null;
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
