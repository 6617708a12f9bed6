// The browser's current transaction ID: one per page load until the app starts a new one.

/** The current ID; made on first use, so that importing this module has no effect. */
let current: string | undefined;

/**
 * A fresh transaction ID: a random UUID from the platform's crypto, which is valid by the server's
 * default rule. `crypto.randomUUID()` exists only in secure contexts (HTTPS, localhost); elsewhere
 * the UUID is built from `crypto.getRandomValues()`, which every browser has.
 *
 * @publicApi
 */
export function createTransactionId(): string {
  const crypto = globalThis.crypto;
  if (typeof crypto.randomUUID === 'function') return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  // RFC 9562 version 4 (random) and variant bits.
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  let hex = '';
  for (const byte of bytes) hex += (byte | 0x100).toString(16).slice(1);
  return hex.replace(/^(.{8})(.{4})(.{4})(.{4})/, '$1-$2-$3-$4-');
}

/**
 * The current transaction ID: the same for the whole page load, until `startNewTransaction()`.
 * Requests to allowed origins carry it, and Sentry events are tagged with it.
 *
 * @publicApi
 */
export function getTransactionId(): string {
  return (current ??= createTransactionId());
}

/**
 * Starts a new transaction, typically at the start of a user action ("Place order"), and returns
 * its ID: the requests that follow carry it, and Sentry events from then on are tagged with it.
 *
 * @publicApi
 */
export function startNewTransaction(): string {
  return (current = createTransactionId());
}
