// Loaded with `--import` by every bench server, first. Registers hooks.mjs, which
// - resolves `nestjs-transaction-id` to the runner's snapshot of dist/ (BENCH_DIST), so that a
//   rebuild of dist/ during a long run (tests run `npm run build`) cannot change or break what
//   is measured;
// - with BENCH_HIDE_SENTRY=1, makes `@sentry/*` unresolvable, as in an application that never
//   installed Sentry (it is a dev dependency here, so always on disk).
// Every server gets the same hooks, so each has the same module-hooks thread: no variant pays
// for it alone.
import { register } from 'node:module';

register('./hooks.mjs', import.meta.url, {
  data: {
    dist: process.env.BENCH_DIST || undefined,
    hideSentry: process.env.BENCH_HIDE_SENTRY === '1',
  },
});
