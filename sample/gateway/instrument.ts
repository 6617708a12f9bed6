import * as Sentry from '@sentry/node';

// Imported first by main.ts: Sentry must be set up before Nest is loaded.
const dsn = process.env.SENTRY_DSN;

Sentry.init({
  dsn,
  // Without a DSN, send events to Spotlight, Sentry's UI for local development.
  spotlight: !dsn,
  serverName: 'gateway',
  // Spotlight shows tags (an error's Context tab), not the server name: the service is a tag too.
  initialScope: { tags: { service: 'gateway' } },
  environment: process.env.SENTRY_ENVIRONMENT ?? 'development',
  // Dedupe drops an error identical to the previous one, whatever its tags. Without it, a failure
  // that repeats stays findable by the transaction_id of every checkout it broke.
  integrations: (defaults) => defaults.filter((integration) => integration.name !== 'Dedupe'),
});
