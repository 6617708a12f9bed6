// What the server and the browser helper (`nestjs-transaction-id/browser`) must agree on. This file
// imports nothing, so that the browser build can import it without pulling in Node.js or Nest.

/**
 * Header that carries the transaction ID between services, unless `header` says otherwise.
 *
 * @publicApi
 */
export const TRANSACTION_ID_HEADER = 'x-transaction-id';

/**
 * Sentry tag that every event raised for a transaction carries.
 *
 * @publicApi
 */
export const TRANSACTION_ID_TAG = 'transaction_id';

/** The characters of a default ID, one or more; its length is checked apart. */
const DEFAULT_ID_CHARACTERS = /^[A-Za-z0-9._:-]+$/;

/**
 * Default validation: 1–128 characters of `A–Z a–z 0–9 . _ : -`. Loose enough for UUIDs, ULIDs,
 * nginx `$request_id` and W3C trace IDs; strict enough that nothing in it can break a header, a log
 * line or a Sentry tag.
 */
export function isDefaultId(value: string): boolean {
  // The length apart: with `{1,128}` V8's regexp keeps a counter, 1.4 k instructions for a UUID
  // against 0.84 k (bench/README.md).
  return value.length <= 128 && DEFAULT_ID_CHARACTERS.test(value);
}
