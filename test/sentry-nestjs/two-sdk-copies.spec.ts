import 'reflect-metadata';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import * as Sentry from '@sentry/node';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { sentrySdk } from '../../scripts/with-sentry.mjs';
import { SentryEnvelopeServer } from '../fixtures/sentry-envelope-server.js';
import { compileTransactionModule, RecordingLogger } from '../unit/support/testing-module.js';

// What `npm install @sentry/nestjs` can leave: the application initialises Sentry through one
// copy of the SDK (the @sentry/node that @sentry/nestjs installed for itself), the module loads
// another. Every tag is lost; the module says so once at start-up. The second copy is a real one:
// the latest @sentry/node 10, installed by scripts/with-sentry.mjs beside node_modules.
const INSTALL_TIMEOUT = 240_000;

let sentry: SentryEnvelopeServer;
let otherCopy: typeof Sentry;

beforeAll(async () => {
  sentry = await SentryEnvelopeServer.start();
  const { dir } = sentrySdk('10');
  const packageDir = join(dir, 'node_modules', '@sentry', 'node');
  const manifest = JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8')) as {
    module: string;
  };
  otherCopy = (await import(
    pathToFileURL(join(packageDir, manifest.module)).href
  )) as typeof Sentry;
}, INSTALL_TIMEOUT);

afterAll(async () => {
  await otherCopy?.close(2_000);
  await Sentry.close(2_000);
  await sentry?.close();
});

/** The warnings logged while an application with the module starts and stops. */
async function startupWarnings(): Promise<string[]> {
  const logger = new RecordingLogger();
  const moduleRef = await compileTransactionModule(undefined, logger);
  await moduleRef.init();
  await moduleRef.close();
  return logger.messages('warn').map(String);
}

it('warns of nothing while no copy, then only its own copy, is initialised', async () => {
  expect(otherCopy.SDK_VERSION).toMatch(/^10\./);
  expect(await startupWarnings()).toEqual([]);
  Sentry.init({ dsn: sentry.dsn(1) });
  expect(await startupWarnings()).toEqual([]);
});

it('warns once, naming both versions and the fix, when another copy of the SDK is initialised', async () => {
  otherCopy.init({ dsn: sentry.dsn(2) });
  const warnings = await startupWarnings();
  expect(warnings).toHaveLength(1);
  expect(warnings[0]).toContain(`another copy of the Sentry SDK (${otherCopy.SDK_VERSION})`);
  expect(warnings[0]).toContain(`loaded @sentry/node ${Sentry.SDK_VERSION}`);
  expect(warnings[0]).toContain('"overrides"');
});
