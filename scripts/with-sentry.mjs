#!/usr/bin/env node
/**
 * Runs a command against another major of the Sentry SDK than the one installed here:
 *
 *   node scripts/with-sentry.mjs 10 vitest run test/e2e
 *
 * Installs the latest `@sentry/node@MAJOR` (with its own `@sentry/core` and the rest of its tree)
 * into `node_modules/.cache/sentry/vMAJOR/` the first time, then runs the command with a module
 * resolution hook (`sentry-resolve.mjs`, through `NODE_OPTIONS=--import`) that loads every
 * `@sentry/*` package that copy has from there instead of from `node_modules/`: in the test files,
 * in the library (which imports `@sentry/node` by name at run time) and in any process they start.
 * One copy for all of them matters: the SDK keys its global state by version, so a test and the
 * library on two copies would not share a client.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { runWith } from './run-with.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/**
 * The directory holding `node_modules/@sentry/node` of `major`, installed the first time.
 *
 * @param {string} major e.g. `10`.
 * @returns {{ dir: string, version: string }}
 */
export function sentrySdk(major) {
  if (!/^[1-9][0-9]*$/.test(String(major))) {
    throw new Error(`with-sentry: expected a Sentry SDK major version such as 10, got "${major}"`);
  }
  const dir = join(root, 'node_modules', '.cache', 'sentry', `v${major}`);
  const manifest = join(dir, 'node_modules', '@sentry', 'node', 'package.json');
  if (!existsSync(manifest)) {
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'package.json'), '{ "private": true }\n');
    process.stderr.write(`[with-sentry] installing @sentry/node@${major} into ${dir}\n`);
    const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
    const installed = spawnSync(
      npm,
      ['install', '--no-audit', '--no-fund', '--no-package-lock', `@sentry/node@${major}`],
      { cwd: dir, stdio: 'inherit', shell: process.platform === 'win32' },
    );
    if (installed.status !== 0)
      throw new Error(`with-sentry: npm install @sentry/node@${major} failed`);
  }
  const { version } = JSON.parse(readFileSync(manifest, 'utf8'));
  return { dir, version };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  runWith('with-sentry', (major) => {
    const sdk = sentrySdk(major);
    const hook = pathToFileURL(join(root, 'scripts', 'sentry-resolve.mjs')).href;
    return {
      env: {
        SENTRY_SDK_DIR: sdk.dir,
        NODE_OPTIONS: [process.env.NODE_OPTIONS, `--import=${hook}`].filter(Boolean).join(' '),
      },
      on: `@sentry/node ${sdk.version}`,
    };
  });
}
