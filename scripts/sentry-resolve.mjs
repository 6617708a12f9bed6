/**
 * Loaded with `--import` by `with-sentry.mjs`: registers `sentry-resolve.hooks.mjs`, which
 * resolves every `@sentry/*` package that the copy in `SENTRY_SDK_DIR` has to that copy.
 */
import { register } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const sdkDir = process.env.SENTRY_SDK_DIR;

if (sdkDir !== undefined && sdkDir !== '') {
  const root = fileURLToPath(new URL('../', import.meta.url));
  register('./sentry-resolve.hooks.mjs', import.meta.url, {
    data: {
      ownModules: `${pathToFileURL(join(root, 'node_modules')).href}/`,
      sdkModules: `${pathToFileURL(join(sdkDir, 'node_modules')).href}/`,
    },
  });
}
