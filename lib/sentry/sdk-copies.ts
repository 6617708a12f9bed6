// Sentry keeps its state in `globalThis.__SENTRY__`, one entry per SDK version: two copies of the
// same version share it, two versions do not. An application that initialises Sentry through one
// version (often the `@sentry/node` that `@sentry/nestjs` installed for itself) while this module
// loaded another tags nothing, silently: this finds that at start-up.

/** The part of a per-version entry of the global carrier read here. */
interface VersionState {
  defaultCurrentScope?: { getClient?: () => unknown };
}

/** Versions of the Sentry SDK in this process that have a client (`Sentry.init()` ran). */
export function initialisedSdkVersions(): string[] {
  const carrier = (globalThis as { __SENTRY__?: Record<string, unknown> }).__SENTRY__;
  if (typeof carrier !== 'object' || carrier === null) return [];
  return Object.entries(carrier)
    .filter(([version, state]) => version !== 'version' && typeof state === 'object' && state)
    .filter(([, state]) => (state as VersionState).defaultCurrentScope?.getClient?.() !== undefined)
    .map(([version]) => version);
}

/**
 * The warning to log when Sentry was initialised through another copy of the SDK than the
 * `@sentry/node` this module loaded (`loaded`, its version; `undefined` when the module found none),
 * else `undefined`.
 */
export function otherSdkCopyWarning(loaded: string | undefined): string | undefined {
  const others = initialisedSdkVersions().filter((version) => version !== loaded);
  if (others.length === 0) return undefined;
  const mine = loaded === undefined ? 'finds no @sentry/node' : `loaded @sentry/node ${loaded}`;
  return (
    `Sentry was initialised by another copy of the Sentry SDK (${others.join(', ')}) than ` +
    `the one this module uses (it ${mine}): events of that copy get no transaction_id tag. ` +
    'Install one copy: the same version of @sentry/node, @sentry/core and @sentry/nestjs, or ' +
    'add to package.json "overrides": { "@sentry/node": "$@sentry/node", "@sentry/core": ' +
    '"$@sentry/core" } with both in dependencies, then reinstall (`npm ls @sentry/core` shows ' +
    'one version).'
  );
}
