/** Longest ID the default grammar accepts (`DEFAULT_ID_PATTERN`). */
const MAX_LENGTH = 128;

/** 1 for each character code the default grammar allows: `A–Z a–z 0–9 . _ : -`. */
const ALLOWED = new Uint8Array(128);
for (const char of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._:-') {
  ALLOWED[char.charCodeAt(0)] = 1;
}

/**
 * Whether `value` matches `DEFAULT_ID_PATTERN`, checked one character at a time: the same answer
 * as the regular expression (`test/unit/default-id.spec.ts` compares them), without its call
 * overhead on every request that brings an ID.
 */
export function isDefaultId(value: string): boolean {
  const { length } = value;
  if (length === 0 || length > MAX_LENGTH) return false;
  for (let i = 0; i < length; i++) {
    const code = value.charCodeAt(i);
    if (code >= 128 || ALLOWED[code] === 0) return false;
  }
  return true;
}
