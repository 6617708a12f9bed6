import type { IncomingHttpHeaders } from 'node:http';

/** `sentry-trace`: trace id, span id and an optional sampled flag; lower-case hex only. */
const SENTRY_TRACE = /^([0-9a-f]{32})-[0-9a-f]{16}(?:-[01])?$/;

/**
 * W3C `traceparent`: version, trace id, parent id, flags. Version 00 is exactly these four fields;
 * a later version may append fields after a `-` (W3C Trace Context, "versioning"); `ff` is invalid.
 */
const TRACEPARENT = /^(?!ff)([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}(-.*)?$/;

const ZERO_TRACE_ID = '0'.repeat(32);
const ZERO_SPAN_ID = '0'.repeat(16);

/**
 * The trace id a caller sent in `sentry-trace` or, failing that, W3C `traceparent`; `undefined`
 * when neither header holds one well-formed value (repeated header lines never do: Node.js joins
 * them with ", ").
 */
export function readTraceId(headers: IncomingHttpHeaders): string | undefined {
  const sentryTrace = headers['sentry-trace'];
  if (typeof sentryTrace === 'string') {
    const traceId = SENTRY_TRACE.exec(sentryTrace)?.[1];
    if (traceId !== undefined && traceId !== ZERO_TRACE_ID) return traceId;
  }
  const traceparent = headers.traceparent;
  if (typeof traceparent !== 'string') return undefined;
  const match = TRACEPARENT.exec(traceparent);
  if (match === null) return undefined;
  const [, version, traceId, parentId, extension] = match;
  if (version === '00' && extension !== undefined) return undefined;
  if (traceId === ZERO_TRACE_ID || parentId === ZERO_SPAN_ID) return undefined;
  return traceId;
}
