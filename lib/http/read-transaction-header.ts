import type { IncomingHttpHeaders } from 'node:http';
import { sameHeaderName } from '../utils/header-name.js';

/** The parts of an incoming request (Node.js, Express, Fastify) that carry its headers. */
export interface IncomingHeaders {
  headers: IncomingHttpHeaders;
  rawHeaders?: readonly string[];
}

/**
 * Reads the transaction ID header of a request: `undefined` when absent, `null` when it came on
 * more than one header line (Node.js joins those with ", "), otherwise its value.
 */
export function readTransactionHeader(
  request: IncomingHeaders,
  name: string,
): string | null | undefined {
  const value = request.headers[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') return null;
  // Only a joined value can hide repeated lines; counting them costs a scan, so do it only then.
  if (value.includes(',') && countHeaderLines(request.rawHeaders, name) > 1) return null;
  return value;
}

function countHeaderLines(rawHeaders: readonly string[] | undefined, name: string): number {
  if (!rawHeaders) return 1;
  let count = 0;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const key = rawHeaders[i];
    if (sameHeaderName(key, name)) count++;
  }
  return count;
}
