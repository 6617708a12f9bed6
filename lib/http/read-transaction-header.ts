import { IncomingMessage, type IncomingHttpHeaders } from 'node:http';

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
    if (key.length === name.length && key.toLowerCase() === name) count++;
  }
  return count;
}

/**
 * The same as `readTransactionHeader()` for a request Node.js parsed, read from its `rawHeaders`
 * alone: `request.headers` is an object Node.js builds on first access, one header line at a
 * time, which a request that nothing else asks for headers never pays for. Only for a header whose
 * repeated lines Node.js joins (`joinsRepeatedLines()`), where both reads agree.
 */
export function readRawTransactionHeader(
  rawHeaders: readonly string[],
  name: string,
): string | null | undefined {
  let value: string | undefined;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const key = rawHeaders[i];
    // Names differ in length far more often than not: compare lengths before any lower-casing.
    if (key.length !== name.length || (key !== name && key.toLowerCase() !== name)) continue;
    if (value !== undefined) return null;
    value = rawHeaders[i + 1];
  }
  return value;
}

/**
 * Whether Node.js joins repeated lines of header `name` into one value, as it does for headers it
 * has no rule for (`x-transaction-id`), so that `readRawTransactionHeader()` reads what
 * `readTransactionHeader()` would. Some headers it does not join: it keeps the first line of
 * `user-agent`, joins `cookie` with "; ", makes an array of `set-cookie`. Asked of Node.js itself,
 * once, on a request made up for it.
 */
export function joinsRepeatedLines(name: string): boolean {
  try {
    const probe = new IncomingMessage(undefined as never) as IncomingMessage & {
      // What Node.js's parser calls with the lines it read (undocumented, in every Node.js).
      _addHeaderLines(lines: string[], count: number): void;
    };
    probe._addHeaderLines([name, 'a', name, 'b', 'Other', 'c'], 6);
    return probe.headers[name] === 'a, b' && probe.rawHeaders.length === 6;
  } catch {
    return false;
  }
}
