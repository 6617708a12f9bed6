import { sameHeaderName } from '../../utils/header-name.js';

/**
 * The one value of `header` in a record of message headers whose names a sender may have written
 * in any case (RabbitMQ `properties.headers`, MQTT 5 user properties): `undefined` when absent,
 * `null` when it came more than once (under several spellings, or as an array of several values)
 * or as something other than a string.
 */
export function readHeaderRecord(record: unknown, header: string): string | null | undefined {
  if (typeof record !== 'object' || record === null) return undefined;
  let found: string | null | undefined;
  for (const name of Object.keys(record)) {
    if (!sameHeaderName(name, header)) continue;
    if (found !== undefined) return null;
    found = single((record as Record<string, unknown>)[name]);
  }
  return found;
}

/** Whether a record of headers has `header` under any spelling. */
export function hasHeader(record: unknown, header: string): boolean {
  if (typeof record !== 'object' || record === null) return false;
  return Object.keys(record).some((name) => sameHeaderName(name, header));
}

/** A header's value as one string; `null` for several values or anything else. */
function single(value: unknown): string | null | undefined {
  if (value === undefined) return undefined;
  if (Array.isArray(value)) return value.length === 1 ? single(value[0]) : null;
  return typeof value === 'string' ? value : null;
}
