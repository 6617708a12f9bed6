import { connect } from 'node:net';
import { dechunk } from '../../fixtures/raw-http.js';

/** What came back for a hand-written request. */
export interface WireOutcome {
  /** The status of the first response; `undefined` when the server sent no complete head. */
  status: number | undefined;
  /** Header lines of the first response: names lower-cased, values as latin1. */
  headers: Array<[name: string, value: string]>;
  /** Every byte the server sent, as latin1 (one char per byte), for searching. */
  raw: string;
  /** The first response's body (chunked coding removed), as latin1. */
  body: string;
  /** The server reset the connection (typically after refusing an oversized head). */
  reset: boolean;
}

/**
 * Builds an HTTP/1.1 GET by hand: `extraLines` (Buffers or latin1 strings) go between the fixed
 * `Host`/`Connection: close` lines and the blank line, byte for byte.
 */
export function rawRequest(path: string, port: number, extraLines: ReadonlyArray<Buffer | string>) {
  const crlf = Buffer.from('\r\n');
  return Buffer.concat([
    Buffer.from(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: close\r\n`),
    ...extraLines.flatMap((line) => [
      typeof line === 'string' ? Buffer.from(line, 'latin1') : line,
      crlf,
    ]),
    crlf,
  ]);
}

/**
 * Writes `bytes` on a fresh TCP connection and reads until the server closes it (the request says
 * `Connection: close`). A reset is an outcome, not an error: Node.js may reset a connection it
 * refused before reading all of it.
 *
 * The write side stays open: Node.js aborts a request whose client half-closes the connection
 * before the response is written (`server.httpAllowHalfOpen` is false). Only a server that is
 * still waiting for bytes after `endAfterMs` gets an end of stream.
 */
export function exchangeRaw(
  port: number,
  bytes: Buffer,
  timeoutMs = 10_000,
  endAfterMs = 3_000,
): Promise<WireOutcome> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let reset = false;
    const socket = connect({ host: '127.0.0.1', port }, () => socket.write(bytes));
    const ender = setTimeout(() => socket.end(), endAfterMs);
    const killer = setTimeout(
      () => socket.destroy(new Error(`no complete response within ${timeoutMs} ms`)),
      timeoutMs,
    );
    socket.on('close', () => {
      clearTimeout(ender);
      clearTimeout(killer);
    });
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'ECONNRESET' || error.code === 'EPIPE') reset = true;
      else reject(error);
    });
    socket.on('close', () => resolve(parse(Buffer.concat(chunks).toString('latin1'), reset)));
  });
}

function parse(raw: string, reset: boolean): WireOutcome {
  const end = raw.indexOf('\r\n\r\n');
  const status = /^HTTP\/1\.[01] (\d{3})/.exec(raw);
  if (end < 0 || !status) return { status: undefined, headers: [], raw, body: '', reset };
  const headers = raw
    .slice(0, end)
    .split('\r\n')
    .slice(1)
    .map((line): [string, string] => {
      const colon = line.indexOf(':');
      return [line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim()];
    });
  const chunked = headers.some(([n, v]) => n === 'transfer-encoding' && /chunked/i.test(v));
  const length = headers.find(([n]) => n === 'content-length');
  let body = raw.slice(end + 4);
  if (chunked) body = dechunk(body);
  else if (length) body = body.slice(0, Number(length[1]));
  return { status: Number(status[1]), headers, raw, body, reset };
}

/** Every value of `name` in a response (names compared case-insensitively). */
export function valuesOf(outcome: WireOutcome, name: string): string[] {
  const wanted = name.toLowerCase();
  return outcome.headers.filter(([key]) => key === wanted).map(([, value]) => value);
}
