// What the harness measures: the server variants, the comparisons between them and the targets of
// the benchmark issue.

/**
 * One server variant. `server` is a file of bench/servers/ (without `.mjs`); `sentry` is how the
 * process starts: 'none' (Sentry not installed, `@sentry/*` hidden), 'traces0' (`Sentry.init` with
 * `tracesSampleRate: 0`), 'notrace' (`Sentry.init` without any tracing option) or 'errors-only'
 * (`Sentry.init` with the README's `errorsOnlyIntegrations`, tracing off). `expect` is
 * what the correctness check requires: 'none' (no ID anywhere), 'id' (the right ID in the
 * handler, the echo header and, with Sentry, the isolation-scope tag) or 'out' ('id' and the same
 * ID received by the downstream server). `group`: the variants that the side-by-side mode times
 * together (every comparison with a target stays within one group). `explicit`: runs only when
 * named in `--only`.
 */
export const VARIANTS = [
  {
    name: 'bare',
    group: 'plain',
    server: 'bare',
    sentry: 'none',
    expect: 'none',
    about: 'Nest app, one GET route, no Sentry, no ID',
  },
  {
    name: 'module',
    group: 'plain',
    server: 'module',
    sentry: 'none',
    expect: 'id',
    about: 'bare + TransactionModule.forRoot(), @sentry/node not installed',
  },
  {
    name: 'module+interceptor',
    group: 'plain',
    server: 'module-interceptor',
    sentry: 'none',
    expect: 'id',
    about: 'bare + TransactionModule.forRoot({ globalInterceptor: true }), no Sentry',
  },
  {
    name: 'noop-interceptor',
    group: 'plain',
    server: 'noop-interceptor',
    sentry: 'none',
    expect: 'none',
    diagnostic: true,
    about: 'diagnostic: bare + one global interceptor that only calls next.handle()',
  },
  {
    name: 'module-context',
    group: 'plain',
    server: 'module-context',
    sentry: 'none',
    expect: 'id',
    diagnostic: true,
    about: 'diagnostic: module with the ID read from TransactionContext, not @TransactionId()',
  },
  {
    name: 'als-enabled',
    group: 'plain',
    server: 'als-enabled',
    sentry: 'none',
    expect: 'none',
    diagnostic: true,
    about: "diagnostic: bare + an AsyncLocalStorage entered once (Node 20's promise hook on)",
  },
  {
    name: 'middleware-als',
    group: 'plain',
    server: 'middleware-als',
    sentry: 'none',
    expect: 'id',
    about: 'bare + the hand-written middleware with AsyncLocalStorage, no Sentry',
  },
  {
    name: 'sentry',
    group: 'sentry',
    server: 'bare',
    sentry: 'traces0',
    expect: 'none',
    about: 'bare + Sentry.init({ tracesSampleRate: 0 }), nothing else',
  },
  {
    name: 'sentry+module',
    group: 'sentry',
    server: 'module',
    sentry: 'traces0',
    expect: 'id',
    about: 'sentry + TransactionModule.forRoot()',
  },
  {
    name: 'sentry+middleware',
    group: 'sentry',
    server: 'middleware',
    sentry: 'traces0',
    expect: 'id',
    about: 'sentry + hand-written app.use() middleware: validate/generate, tag, echo, ID on req',
  },
  {
    name: 'sentry+middleware-als',
    group: 'sentry',
    server: 'middleware-als',
    sentry: 'traces0',
    expect: 'id',
    about: 'sentry+middleware with the ID in an AsyncLocalStorage (storage.run(next))',
  },
  {
    name: 'sentry+nestjs-cls',
    group: 'sentry',
    server: 'nestjs-cls',
    sentry: 'traces0',
    expect: 'id',
    about:
      'sentry + nestjs-cls 7 middleware (idGenerator validates/generates, setup tags and echoes)',
  },
  {
    name: 'sentry+noop-interceptor',
    group: 'sentry',
    server: 'noop-interceptor',
    sentry: 'traces0',
    expect: 'none',
    diagnostic: true,
    about: 'diagnostic: sentry + one global interceptor that only calls next.handle()',
  },
  {
    name: 'sentry-notrace',
    group: 'plain',
    server: 'bare',
    sentry: 'notrace',
    expect: 'none',
    about: 'bare + Sentry.init() without tracing options (tracing off)',
  },
  {
    name: 'sentry-notrace+module',
    group: 'plain',
    server: 'module',
    sentry: 'notrace',
    expect: 'id',
    about: 'sentry-notrace + TransactionModule.forRoot()',
  },
  {
    name: 'errors-only',
    group: 'plain',
    server: 'bare',
    sentry: 'errors-only',
    expect: 'none',
    about: 'bare + Sentry.init({ integrations: errorsOnlyIntegrations }), tracing off',
  },
  {
    name: 'errors-only+fork',
    group: 'plain',
    server: 'sentry-fork',
    sentry: 'errors-only',
    expect: 'none',
    diagnostic: true,
    // Only when named in --only: a diagnostic of the instruction counts, not worth a timing run.
    explicit: true,
    about:
      "diagnostic: errors-only + Sentry's isolation scope forked per request by hand (no module)",
  },
  {
    name: 'errors-only+module',
    group: 'plain',
    server: 'module',
    sentry: 'errors-only',
    expect: 'id',
    about: "errors-only + TransactionModule.forRoot() (the README's errors-only set-up)",
  },
  {
    name: 'errors-only+module+interceptor',
    group: 'plain',
    server: 'module-interceptor',
    sentry: 'errors-only',
    expect: 'id',
    about: 'errors-only + TransactionModule.forRoot({ globalInterceptor: true })',
  },
  {
    name: 'out:fetch',
    group: 'outgoing',
    server: 'outgoing-fetch',
    sentry: 'none',
    expect: 'out',
    downstream: true,
    about: 'module + handler calls a local server with global fetch, header set by hand',
  },
  {
    name: 'out:fetch+abort',
    group: 'outgoing',
    server: 'outgoing-fetch-abortable',
    sentry: 'none',
    expect: 'out',
    downstream: true,
    about: 'out:fetch with an AbortController per call (what cancelling on unsubscribe takes)',
  },
  {
    name: 'out:transaction-http',
    group: 'outgoing',
    server: 'outgoing-transaction-http',
    sentry: 'none',
    expect: 'out',
    downstream: true,
    about: 'module + handler calls a local server with TransactionHttpService',
  },
  {
    name: 'out:axios',
    group: 'outgoing',
    server: 'outgoing-axios',
    sentry: 'none',
    expect: 'out',
    downstream: true,
    about: 'module + handler calls a local server with @nestjs/axios HttpService, header by hand',
  },
  {
    name: 'nats',
    group: 'nats',
    server: 'nats-bare',
    sentry: 'none',
    expect: 'none',
    about:
      'handler does a NATS request/reply (stock ClientsModule client) to a responder in-process',
  },
  {
    name: 'nats+module',
    group: 'nats',
    server: 'nats-module',
    sentry: 'none',
    expect: 'id',
    about: 'nats + TransactionModule.forRoot(): the ID crosses NATS, the responder answers it',
  },
  {
    name: 'nats-hop',
    group: 'nats',
    server: 'nats-hop',
    sentry: 'none',
    expect: 'id',
    about:
      'nats-hop+module without the library on the NATS hop: the module on HTTP only, a client made by hand (not forwarded), the responder a second Nest app without the module; the ID rides in the payload',
  },
  {
    name: 'nats-hop+module',
    group: 'nats',
    server: 'nats-hop-module',
    sentry: 'none',
    expect: 'id',
    about:
      'nats-hop with the module on the NATS hop too: the client forwards the ID, the responder app imports the module and answers the ID it settled',
  },
  {
    name: 'nats-hop+forward',
    group: 'nats',
    server: 'nats-hop-forward',
    sentry: 'none',
    expect: 'id',
    diagnostic: true,
    about:
      'diagnostic: nats-hop whose client forwards the ID in a header, the responder without the module: the sending half of the hop',
  },
  {
    name: 'nats-hop+by-hand',
    group: 'nats',
    server: 'nats-hop-by-hand',
    sentry: 'none',
    expect: 'id',
    diagnostic: true,
    about:
      'diagnostic: nats-hop with the ID in a NATS header set and read by hand (NatsRecordBuilder, NatsContext#getHeaders().get()), no module on the hop: what carrying one header costs without the library',
  },
  {
    name: 'nats+als',
    group: 'nats',
    server: 'nats-als',
    sentry: 'none',
    expect: 'none',
    diagnostic: true,
    about:
      'diagnostic: nats with each NATS request sent inside an AsyncLocalStorage.run() of its own, no library',
  },
  {
    name: 'errors-only+nats',
    group: 'nats',
    server: 'nats-bare',
    sentry: 'errors-only',
    expect: 'none',
    about: 'nats + Sentry.init({ integrations: errorsOnlyIntegrations }), tracing off',
  },
  {
    name: 'errors-only+nats+module',
    group: 'nats',
    server: 'nats-module',
    sentry: 'errors-only',
    expect: 'id',
    about: 'errors-only+nats + TransactionModule.forRoot()',
  },
];

/** Suffix of the A/A twin: the same variant run again as if it were another, to measure noise. */
export const AA_SUFFIX = '#2';

/** The twin of a variant for A/A calibration. */
export function twinOf(variant) {
  return {
    ...variant,
    name: variant.name + AA_SUFFIX,
    about: `second copy of ${variant.name} (A/A)`,
  };
}

/**
 * Paired comparisons, per adapter and round. Throughput ratios are > 1 when the variant is the
 * cheaper one: req/s variant/baseline, CPU µs per request baseline/variant. `target` is their lower
 * bound (`strict`: must exceed it), `p99Max` the upper bound of p99 latency variant/baseline.
 * Without either, the row is for information.
 */
export const COMPARISONS = [
  { variant: 'sentry+module', baseline: 'sentry', target: 0.98, p99Max: 1.05 },
  { variant: 'sentry-notrace+module', baseline: 'sentry-notrace', target: 0.98, p99Max: 1.05 },
  { variant: 'module', baseline: 'bare', target: 0.97, p99Max: 1.05 },
  { variant: 'errors-only+module', baseline: 'bare', target: { express: 0.9, fastify: 0.8 } },
  { variant: 'module+interceptor', baseline: 'module' },
  { variant: 'errors-only+module+interceptor', baseline: 'errors-only+module' },
  { variant: 'errors-only+module', baseline: 'sentry-notrace' },
  { variant: 'errors-only+module', baseline: 'errors-only' },
  { variant: 'sentry+module', baseline: 'sentry+nestjs-cls', target: 1, strict: true },
  { variant: 'sentry+module', baseline: 'sentry+middleware', target: 1, strict: true },
  { variant: 'sentry+module', baseline: 'sentry+middleware-als', target: 1, strict: true },
  { variant: 'sentry+middleware', baseline: 'sentry' },
  { variant: 'sentry+middleware-als', baseline: 'sentry' },
  { variant: 'sentry+nestjs-cls', baseline: 'sentry' },
  { variant: 'sentry+noop-interceptor', baseline: 'sentry' },
  { variant: 'noop-interceptor', baseline: 'bare' },
  { variant: 'als-enabled', baseline: 'bare' },
  { variant: 'module', baseline: 'als-enabled' },
  { variant: 'module-context', baseline: 'als-enabled' },
  { variant: 'module', baseline: 'module-context' },
  { variant: 'errors-only+module', baseline: 'als-enabled' },
  { variant: 'middleware-als', baseline: 'bare' },
  { variant: 'module', baseline: 'middleware-als', target: 1, strict: true },
  { variant: 'out:transaction-http', baseline: 'out:fetch', target: 0.97 },
  { variant: 'out:transaction-http', baseline: 'out:fetch+abort' },
  { variant: 'out:fetch+abort', baseline: 'out:fetch' },
  { variant: 'out:axios', baseline: 'out:fetch' },
  { variant: 'nats+module', baseline: 'nats', target: 0.97 },
  { variant: 'errors-only+nats+module', baseline: 'errors-only+nats', target: 0.97 },
  { variant: 'nats-hop+module', baseline: 'nats-hop', target: 0.97 },
  { variant: 'nats-hop', baseline: 'nats' },
  { variant: 'nats-hop+forward', baseline: 'nats-hop' },
  { variant: 'nats-hop+module', baseline: 'nats-hop+forward' },
  { variant: 'nats-hop+by-hand', baseline: 'nats-hop' },
  { variant: 'nats-hop+module', baseline: 'nats-hop+by-hand' },
  { variant: 'nats+als', baseline: 'nats' },
  { variant: 'sentry', baseline: 'bare' },
  { variant: 'sentry-notrace', baseline: 'bare' },
];

/** Memory target: heap after all requests within this fraction of heap after the first tenth. */
export const MEMORY_TARGET = 0.05;

/** Variants whose heap the memory check follows by default. */
export const MEMORY_VARIANTS = ['sentry+module', 'module', 'sentry'];
