/**
 * Module resolution hooks (see `sentry-resolve.mjs`): a `@sentry/*` package resolved into this
 * repository's `node_modules` is loaded from the other copy instead when that copy has it, whether
 * it was imported by name or by the file path a bundler resolved it to (vitest imports
 * dependencies by path).
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

let ownModules = '';
let sdkModules = '';

/** Called by `register()`. */
export function initialize(data) {
  ({ ownModules, sdkModules } = data);
}

/** `@sentry/name` and the rest of a path inside `node_modules`. */
const SENTRY_PACKAGE = /^(@sentry\/[^/]+)\/(.*)$/;

export async function resolve(specifier, context, next) {
  const resolved = await next(specifier, context);
  if (!resolved.url.startsWith(ownModules)) return resolved;
  const match = SENTRY_PACKAGE.exec(resolved.url.slice(ownModules.length));
  if (match === null) return resolved;
  const [, name, rest] = match;
  if (!existsSync(fileURLToPath(`${sdkModules}${name}/package.json`))) return resolved;
  const parentURL = `${sdkModules}index.js`;
  // By name: the same name from the other copy.
  if (specifier === name || specifier.startsWith(`${name}/`)) {
    return next(specifier, { ...context, parentURL });
  }
  // By path: the same file in the other copy, or else its entry point.
  const same = `${sdkModules}${name}/${rest}`;
  if (existsSync(fileURLToPath(same))) return next(same, context);
  return next(name, { ...context, parentURL });
}
