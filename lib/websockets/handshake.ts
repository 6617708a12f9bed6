import type { IncomingMessage } from 'node:http';
import type { TransactionStore } from '../context/transaction.storage.js';
import type { UnitOfWork } from '../context/unit-of-work.js';
import { REJECTED } from '../id/transaction-id.policy.js';

/** Why a connection was refused: what to fix, never what came. */
export interface Refusal {
  readonly refused: string;
}

/** The settled handshake, on its request: several places ask, one answer. */
const SETTLED = Symbol.for('nestjs-transaction-id:handshake');

type Handshake = IncomingMessage & { [SETTLED]?: TransactionStore | Refusal };

/**
 * The unit of work of a WebSocket connection, from the HTTP request that opened it (the upgrade,
 * or socket.io's first polling request): its header (Node clients), else the query parameter
 * named as the header (what a browser can set). Settled by the policy once per request,
 * wherever it is asked first (the HTTP server's `'upgrade'`, a gateway's server), so that every
 * part of the connection agrees on one ID.
 */
export function settleHandshake(
  work: UnitOfWork,
  header: string,
  request: IncomingMessage,
): TransactionStore | Refusal {
  const handshake = request as Handshake;
  if (handshake[SETTLED] !== undefined) return handshake[SETTLED];
  const incoming = readHandshakeId(request, header);
  const store = work.settle(incoming, request);
  return (handshake[SETTLED] =
    store === REJECTED ? { refused: refusal(header, incoming === undefined) } : store);
}

/** Whether `settled` refused the connection. */
export function isRefusal(settled: TransactionStore | Refusal): settled is Refusal {
  return 'refused' in settled;
}

/** What a client is told when its connection is refused. */
export function refusal(header: string, missing: boolean): string {
  return missing
    ? `Missing ${header}: this service must be called with a transaction ID.`
    : `Invalid ${header}: send one valid transaction ID.`;
}

function readHandshakeId(request: IncomingMessage, header: string): string | null | undefined {
  const fromHeader = request.headers[header];
  if (fromHeader !== undefined) return typeof fromHeader === 'string' ? fromHeader : null;
  const url = request.url ?? '';
  const query = url.indexOf('?');
  if (query === -1) return undefined;
  const values = new URLSearchParams(url.slice(query + 1)).getAll(header);
  return values.length === 0 ? undefined : values.length === 1 ? values[0] : null;
}
