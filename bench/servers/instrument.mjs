// Loaded with `--import` before anything else, as Sentry documents for ESM applications, so the
// SDK is fully active (http integration, diagnostics-channel injection) when Nest loads.
import * as Sentry from '@sentry/node';
import { errorsOnlyIntegrations } from 'nestjs-transaction-id/sentry';

const mode = process.env.BENCH_SENTRY;
if (mode !== 'traces0' && mode !== 'notrace' && mode !== 'errors-only') {
  throw new Error(
    `instrument.mjs: BENCH_SENTRY must be "traces0", "notrace" or "errors-only", got ${mode}`,
  );
}

Sentry.init({
  // A do-nothing sink on 127.0.0.1 that the runner starts: the transport really sends, nowhere.
  dsn: process.env.BENCH_SENTRY_DSN,
  // "traces0": tracing on, nothing sampled (the usual production setting that still runs the
  // performance integrations); "notrace": no tracesSampleRate at all, tracing off.
  ...(mode === 'traces0' ? { tracesSampleRate: 0 } : {}),
  // "errors-only": the README's set-up, without Sentry's per-request instrumentation.
  ...(mode === 'errors-only' ? { integrations: errorsOnlyIntegrations } : {}),
});
