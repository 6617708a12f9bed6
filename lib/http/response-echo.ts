import { ServerResponse } from 'node:http';
import type { TransactionStore } from '../context/transaction.storage.js';
import { sameHeaderName } from '../utils/header-name.js';

type OutgoingHeaders = Parameters<ServerResponse['writeHead']>[1];
type WriteHead = (
  this: ServerResponse,
  statusCode: number,
  reason?: string | OutgoingHeaders,
  headers?: OutgoingHeaders,
) => ServerResponse;

const nodeWriteHead = ServerResponse.prototype.writeHead as WriteHead;

/** The unit of work whose ID is echoed, kept on the response until its head is written. */
const ECHO = Symbol('nestjs-transaction-id:echo');

/** A request's store: its ID, and the header the request is served under. */
type EchoedStore = TransactionStore & { readonly header: string };

interface EchoingResponse extends ServerResponse {
  [ECHO]: EchoedStore;
}

/**
 * Echoes the ID of a request's `store` on its `response`, in the header the request is served
 * under: written with the response's head unless the application set that header itself (its
 * value wins), so that every response carries it: the handler's, errors, 404s, middleware's.
 *
 * For Fastify, which writes a reply's headers in one `writeHead(status, headers)`: Node.js takes
 * that on a fast path only when no header was set before with `setHeader()`, and an echo set
 * early sends every Fastify header through `setHeader()` again (~3 k instructions per request more,
 * bench/README.md). Until the head is written, `getHeader()` does not see the echo.
 */
export function echoOnHead(response: ServerResponse, store: TransactionStore): void {
  if (!hasEchoHeader(store)) return;
  // Another kind of response (HTTP/2), or one whose `writeHead` something wrapped already: set now.
  if ((response.writeHead as WriteHead) !== nodeWriteHead) {
    response.setHeader(store.header, store.id);
    return;
  }
  (response as EchoingResponse)[ECHO] = store;
  response.writeHead = writeHeadEchoing as ServerResponse['writeHead'];
}

/** Whether the store is a request's, which knows the header it is served under. */
function hasEchoHeader(store: TransactionStore): store is EchoedStore {
  return store.header !== undefined;
}

/** `writeHead()` of a response with an echo pending: Node.js's, with the echo added. */
function writeHeadEchoing(
  this: ServerResponse,
  statusCode: number,
  reason?: string | OutgoingHeaders,
  headers?: OutgoingHeaders,
): ServerResponse {
  if (typeof reason !== 'string') {
    headers ??= reason;
    reason = undefined;
  }
  const { header, id } = (this as EchoingResponse)[ECHO];
  if (!this.hasHeader(header)) {
    if (headers === undefined || headers === null) this.setHeader(header, id);
    else if (!Array.isArray(headers)) {
      // A copy: the object may be the caller's own, used again for other responses.
      if (!hasHeader(headers, header)) headers = { ...headers, [header]: id };
    } else if (!hasHeaderLine(headers, header)) this.setHeader(header, id);
  }
  return reason === undefined
    ? nodeWriteHead.call(this, statusCode, headers)
    : nodeWriteHead.call(this, statusCode, reason, headers);
}

/** Whether a header object has `name` (lower case), in any case. */
function hasHeader(headers: object, name: string): boolean {
  if (Object.hasOwn(headers, name)) return true;
  for (const key in headers) {
    if (sameHeaderName(key, name) && Object.hasOwn(headers, key)) return true;
  }
  return false;
}

/** Whether raw header lines (`[name, value, …]` or `[[name, value], …]`) have `name`. */
function hasHeaderLine(lines: readonly unknown[], name: string): boolean {
  const pairs = Array.isArray(lines[0]);
  for (let i = 0; i < lines.length; i += pairs ? 1 : 2) {
    const key: unknown = pairs ? (lines[i] as unknown[])[0] : lines[i];
    if (typeof key === 'string' && sameHeaderName(key, name)) return true;
  }
  return false;
}
