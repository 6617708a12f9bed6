/**
 * Where the browser may send the transaction ID besides its own origin: an origin
 * (`'https://api.example.com'`, compared exactly) or a RegExp tested against the absolute URL.
 *
 * @publicApi
 */
export type BrowserPropagationTarget = string | RegExp;

/** Whether an absolute URL may receive the ID: same origin always, others only when listed. */
export type TargetFilter = (url: URL) => boolean;

/** The error for an option of the wrong kind; short, as every byte ships to the browser. */
export function optionError(option: string, expected: string): TypeError {
  return new TypeError(`nestjs-transaction-id/browser: "${option}" must be ${expected}`);
}

/**
 * Checks the targets once and returns the filter. Strings are origins, not substrings: a substring
 * would let `https://evil.example/?api.example.com` through.
 */
export function targetFilter(
  targets: readonly BrowserPropagationTarget[] = [],
  ownOrigin: string,
): TargetFilter {
  if (!Array.isArray(targets)) throw optionError('propagationTargets', 'an array');
  const origins = new Set([ownOrigin]);
  const patterns: RegExp[] = [];
  for (const target of targets) {
    if (target instanceof RegExp) {
      patterns.push(target);
      continue;
    }
    const origin = typeof target === 'string' ? parseOrigin(target) : undefined;
    if (origin === undefined) {
      throw optionError('propagationTargets', `origins or RegExps, not ${String(target)}`);
    }
    origins.add(origin);
  }
  return (url) =>
    origins.has(url.origin) ||
    patterns.some((pattern) => {
      // A global or sticky RegExp keeps state between tests: start from the beginning every time.
      pattern.lastIndex = 0;
      return pattern.test(url.href);
    });
}

function parseOrigin(value: string): string | undefined {
  try {
    const url = new URL(value);
    // Only a bare origin: a path would suggest a prefix match that this check does not do.
    return url.origin !== 'null' && (url.pathname === '/' || url.pathname === '') && !url.search
      ? url.origin
      : undefined;
  } catch {
    return undefined;
  }
}
