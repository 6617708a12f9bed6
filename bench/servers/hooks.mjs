// Module resolution hooks registered by register-hooks.mjs (runs on Node's hooks thread).
import { pathToFileURL } from 'node:url';
import { join } from 'node:path';

let settings = { dist: undefined, hideSentry: false };

export function initialize(data) {
  settings = { ...settings, ...data };
}

export async function resolve(specifier, context, nextResolve) {
  if (settings.hideSentry && specifier.startsWith('@sentry/')) {
    // What Node.js throws for a package that is not installed.
    const error = new Error(
      `Cannot find package '${specifier}' imported from ${context.parentURL ?? 'the entry point'}`,
    );
    error.code = 'ERR_MODULE_NOT_FOUND';
    throw error;
  }
  if (settings.dist !== undefined && specifier === 'nestjs-transaction-id') {
    return { url: pathToFileURL(join(settings.dist, 'index.js')).href, shortCircuit: true };
  }
  if (settings.dist !== undefined && specifier === 'nestjs-transaction-id/sentry') {
    return { url: pathToFileURL(join(settings.dist, 'sentry/index.js')).href, shortCircuit: true };
  }
  return nextResolve(specifier, context);
}
