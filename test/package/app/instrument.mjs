// Loaded with `node --import ./instrument.mjs`, as Sentry documents for ESM applications: the SDK
// starts before anything imports Nest or `node:http`. SENTRY_ERRORS_ONLY=1 uses the package's
// errors-only integrations, imported by name from this file, which runs before the application.
import * as Sentry from '@sentry/node';

const errorsOnly = process.env.SENTRY_ERRORS_ONLY === '1';
const { errorsOnlyIntegrations } = errorsOnly ? await import('nestjs-transaction-id/sentry') : {};

Sentry.init({
  dsn: process.env.SENTRY_DSN,
  tracesSampleRate: 0,
  ...(errorsOnly ? { integrations: errorsOnlyIntegrations } : {}),
});
