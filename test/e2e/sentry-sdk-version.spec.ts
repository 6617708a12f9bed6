import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as Sentry from '@sentry/node';
import { expect, it } from 'vitest';
import type { SentryBridge } from '../../lib/sentry/sentry-bridge.js';
import { SENTRY_BRIDGE } from '../../lib/transaction.internal-constants.js';
import { compileTransactionModule } from '../unit/support/testing-module.js';

// `npm run test:sentry10` runs these suites on another major of the SDK (scripts/with-sentry.mjs):
// this checks the run is on the SDK it claims, in the tests and in the library alike.
const root = join(import.meta.dirname, '../..');
const sdkDir = process.env.SENTRY_SDK_DIR || root;
const expected = (
  JSON.parse(
    readFileSync(join(sdkDir, 'node_modules', '@sentry', 'node', 'package.json'), 'utf8'),
  ) as { version: string }
).version;

it(`runs on @sentry/node ${expected}, in the tests and in the library`, async () => {
  expect(Sentry.SDK_VERSION).toBe(expected);
  const moduleRef = await compileTransactionModule();
  try {
    expect(moduleRef.get<SentryBridge>(SENTRY_BRIDGE).sdkVersion).toBe(expected);
  } finally {
    await moduleRef.close();
  }
});
