// Loaded with `--import` before anything else, as Sentry documents for ESM applications, so the
// SDK (http integration included) is active before Nest loads.
import * as Sentry from '@sentry/node';

Sentry.init({
  dsn: process.env.SENTRY_DSN,
  // Dedupe would drop an event equal to the one before it; every failure must arrive, to count.
  integrations: (defaults) => defaults.filter((integration) => integration.name !== 'Dedupe'),
  transportOptions: { bufferSize: 1_000 },
  sendClientReports: false,
});
