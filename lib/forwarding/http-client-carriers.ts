import type { ClientRequest } from 'node:http';
import { sameHeaderName } from '../utils/header-name.js';

/**
 * How to read and set a header on one kind of outgoing request, and where it goes: all that
 * differs between the clients the diagnostics channels show. What to set, and when, is decided
 * once, in `http-client.instrumentation.ts`.
 */
export interface HttpClientCarrier<R> {
  /** The absolute URL the request goes to. */
  url(request: R): string;
  /** Whether the request has `header` (lower-case) already, set by its caller or another hook. */
  has(request: R, header: string): boolean;
  /** Sets `header`; `false` when the request can no longer take headers. */
  set(request: R, header: string, value: string): boolean;
}

/**
 * The request object of `undici:request:create` (global `fetch` and the undici package, any
 * version Node.js bundles or an app installs). Only its documented members are used.
 */
export interface UndiciRequest {
  origin: string | URL;
  path: string;
  /** `[name, value, name, value, …]` since undici 6; a raw `name: value\r\n` string before. */
  headers: string | Array<string | string[]>;
  addHeader(name: string, value: string): unknown;
}

export const undiciCarrier: HttpClientCarrier<UndiciRequest> = {
  url: (request) => `${String(request.origin).replace(/\/$/, '')}${request.path}`,
  has(request, header) {
    const { headers } = request;
    if (typeof headers === 'string') {
      return headers
        .toLowerCase()
        .split('\r\n')
        .some((line) => line.startsWith(`${header}:`));
    }
    for (let i = 0; i < headers.length; i += 2) {
      const name = headers[i];
      if (typeof name === 'string' && sameHeaderName(name, header)) return true;
    }
    return false;
  },
  set(request, header, value) {
    request.addHeader(header, value);
    return true;
  },
};

/** `node:http` / `node:https` requests (axios, `@nestjs/axios`, got, `http.request`). */
export const nodeHttpCarrier: HttpClientCarrier<ClientRequest> = {
  url(request) {
    // The Host header carries a non-default port, `host` does not.
    const host = request.getHeader('host');
    return `${request.protocol}//${typeof host === 'string' ? host : request.host}${request.path}`;
  },
  has: (request, header) => request.hasHeader(header),
  set(request, header, value) {
    // Headers given as a raw array are written when the request is made: nothing can be added.
    if (request.headersSent) return false;
    request.setHeader(header, value);
    return true;
  },
};
