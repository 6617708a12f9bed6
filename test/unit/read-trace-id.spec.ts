import { describe, expect, it } from 'vitest';
import { readTraceId } from '../../lib/http/read-trace-id.js';

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const SPAN = '00f067aa0ba902b7';

describe('readTraceId', () => {
  it.each([
    ['sentry-trace with sampled flag', { 'sentry-trace': `${TRACE}-${SPAN}-1` }],
    ['sentry-trace without sampled flag', { 'sentry-trace': `${TRACE}-${SPAN}` }],
    ['traceparent version 00', { traceparent: `00-${TRACE}-${SPAN}-01` }],
    [
      'traceparent of a later version with more fields',
      { traceparent: `01-${TRACE}-${SPAN}-01-xyz` },
    ],
    [
      'traceparent of a later version, exactly the four fields',
      { traceparent: `7f-${TRACE}-${SPAN}-00` },
    ],
  ])('reads %s', (_, headers) => {
    expect(readTraceId(headers)).toBe(TRACE);
  });

  it('prefers sentry-trace, which Sentry continues, over traceparent', () => {
    const other = 'a'.repeat(32);
    expect(
      readTraceId({ 'sentry-trace': `${TRACE}-${SPAN}`, traceparent: `00-${other}-${SPAN}-01` }),
    ).toBe(TRACE);
  });

  it('falls back to traceparent when sentry-trace is malformed', () => {
    expect(readTraceId({ 'sentry-trace': 'garbage', traceparent: `00-${TRACE}-${SPAN}-01` })).toBe(
      TRACE,
    );
  });

  it.each([
    ['no trace header', {}],
    ['sentry-trace in upper case', { 'sentry-trace': `${TRACE.toUpperCase()}-${SPAN}` }],
    ['sentry-trace with only a trace id', { 'sentry-trace': TRACE }],
    ['sentry-trace with an all-zero trace id', { 'sentry-trace': `${'0'.repeat(32)}-${SPAN}` }],
    ['sentry-trace with a bad flag', { 'sentry-trace': `${TRACE}-${SPAN}-2` }],
    ['sentry-trace with spaces around', { 'sentry-trace': ` ${TRACE}-${SPAN} ` }],
    ['repeated sentry-trace lines', { 'sentry-trace': `${TRACE}-${SPAN}, ${TRACE}-${SPAN}` }],
    ['sentry-trace as an array', { 'sentry-trace': [`${TRACE}-${SPAN}`] }],
    ['traceparent version ff', { traceparent: `ff-${TRACE}-${SPAN}-01` }],
    ['traceparent version 00 with more fields', { traceparent: `00-${TRACE}-${SPAN}-01-xyz` }],
    ['traceparent with an all-zero trace id', { traceparent: `00-${'0'.repeat(32)}-${SPAN}-01` }],
    ['traceparent with an all-zero parent id', { traceparent: `00-${TRACE}-${'0'.repeat(16)}-01` }],
    ['traceparent in upper case', { traceparent: `00-${TRACE.toUpperCase()}-${SPAN}-01` }],
    ['traceparent with a short trace id', { traceparent: `00-${TRACE.slice(1)}-${SPAN}-01` }],
    [
      'repeated traceparent lines',
      { traceparent: `00-${TRACE}-${SPAN}-01, 00-${TRACE}-${SPAN}-01` },
    ],
  ])('reads nothing from %s', (_, headers) => {
    expect(readTraceId(headers as Record<string, string>)).toBeUndefined();
  });
});
