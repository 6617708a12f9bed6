import { randomUUID } from 'node:crypto';
import type { INestApplication } from '@nestjs/common';
import { expect } from 'vitest';
import { LINES_OF_FAILURE, LINES_OF_WORK } from './logging-app.js';

/** One log line as a test reads it: its message and the transaction ID it carries, if any. */
export interface LogLine {
  message: string;
  transactionId: string | undefined;
}

/** A request of the scenario: its path and the transaction ID it was served with. */
interface SentRequest {
  path: string;
  id: string;
  lines: readonly string[];
}

const CONCURRENT = 8;

/**
 * Sends `CONCURRENT` requests that overlap (each logs, then waits until all are in flight, then
 * logs again), each with its own X-Transaction-ID but one, which gets a generated ID, and a request
 * that fails into an exception filter.
 */
export async function sendRequests(app: INestApplication): Promise<SentRequest[]> {
  const url = await app.getUrl();
  const group = randomUUID();
  const works = Array.from({ length: CONCURRENT }, async (_, n) => {
    const path = `/work/w${n}-${group.slice(0, 8)}`;
    const headers: Record<string, string> = n === 0 ? {} : { 'x-transaction-id': randomUUID() };
    const response = await fetch(`${url}${path}?group=${group}&size=${CONCURRENT}`, { headers });
    expect(response.status).toBe(200);
    const id = response.headers.get('x-transaction-id')!;
    if (n > 0) expect(id).toBe(headers['x-transaction-id']);
    return { path, id, lines: LINES_OF_WORK };
  });
  const failure = (async () => {
    const path = `/fail/f-${group.slice(0, 8)}`;
    const id = randomUUID();
    const response = await fetch(`${url}${path}`, { headers: { 'x-transaction-id': id } });
    expect(response.status).toBe(418);
    return { path, id, lines: LINES_OF_FAILURE };
  })();
  return Promise.all([...works, failure]);
}

/**
 * Every line each request logged is there, once, with that request's ID — never another's — and
 * lines logged outside any request carry none.
 */
export function expectEachLineTagged(lines: readonly LogLine[], requests: readonly SentRequest[]) {
  for (const request of requests) {
    const expected = request.lines.map((line) => line.replace('<path>', request.path));
    const logged = lines.filter((line) => line.message.includes(request.path));
    for (const message of expected) {
      expect(
        logged.filter((line) => line.message.includes(message)),
        message,
      ).toHaveLength(1);
    }
    expect(logged).toHaveLength(expected.length);
    expect(new Set(logged.map((line) => line.transactionId)), request.path).toEqual(
      new Set([request.id]),
    );
  }
}

/** Whether a line is one the scenario's requests logged. */
export function isRequestLine(line: LogLine): boolean {
  return /(\/work\/|\/fail\/)/.test(line.message);
}
