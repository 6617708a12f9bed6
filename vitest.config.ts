import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.spec.ts'],
    // Every file gets its own process: Sentry.init() is process-wide, and files test different
    // Sentry set-ups (DSN, no DSN, not initialised, no http integration).
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
  oxc: {
    decorator: { legacy: true, emitDecoratorMetadata: true },
  },
});
