import type { PropagationTarget } from '../interfaces/transaction-module-options.interface.js';

/**
 * Whether a URL may receive the transaction ID: always when no targets are configured, otherwise
 * when a string target is contained in it or a RegExp target matches it.
 */
export function isPropagationTarget(
  url: string,
  targets: readonly PropagationTarget[] | undefined,
): boolean {
  if (targets === undefined) return true;
  for (const target of targets) {
    if (typeof target === 'string' ? url.includes(target) : target.test(url)) return true;
  }
  return false;
}
