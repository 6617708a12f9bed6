import type { PropagationTarget } from '../interfaces/transaction-module-options.interface.js';
import { currentTransactionId } from '../context/transaction.storage.js';

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

/**
 * The transaction ID an exit should send to `target` now: the current unit of work's, when there
 * is one and `target` may receive it (a target that is not known is allowed); otherwise none.
 * Exits ask this and never decide themselves.
 */
export function forwardableId(
  target: string | undefined,
  targets: readonly PropagationTarget[] | undefined,
): string | undefined {
  const id = currentTransactionId();
  if (id === undefined) return undefined;
  return target === undefined || isPropagationTarget(target, targets) ? id : undefined;
}
