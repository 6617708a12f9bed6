import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { isDefaultId } from '../../lib/id/default-id.js';
import { DEFAULT_ID_PATTERN } from '../../lib/transaction.internal-constants.js';

/** Deterministic pseudo-random strings over a small alphabet: allowed characters and near-misses. */
function* samples(count: number): Generator<string> {
  const allowed = 'aZ09._:-';
  const refused = ['/', ' ', ',', '\n', '\t', '\u00e9', '\u0000', '\u{1F600}', '~', '@', '\u007f'];
  let seed = 12345;
  const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31);
  for (let n = 0; n < count; n++) {
    const length = next() % 140;
    let value = '';
    // Mostly allowed characters, so that both answers come up at every length.
    for (let i = 0; i < length; i++) {
      value +=
        next() % 100 === 0 ? refused[next() % refused.length] : allowed[next() % allowed.length];
    }
    yield value;
  }
}

describe('isDefaultId', () => {
  it('answers as DEFAULT_ID_PATTERN does', () => {
    const cases = [
      '',
      'a',
      randomUUID(),
      'A'.repeat(128),
      'A'.repeat(129),
      'abc\n',
      '\nabc',
      'tenant:a.b_c-d',
      'has space',
      'caf\u00e9',
      '\u0100abc',
      ...samples(5_000),
    ];
    let accepted = 0;
    for (const value of cases) {
      const expected = DEFAULT_ID_PATTERN.test(value);
      if (expected) accepted++;
      expect([value, isDefaultId(value)]).toEqual([value, expected]);
    }
    // The samples reach both answers, or the comparison would prove little.
    expect(accepted).toBeGreaterThan(5);
    expect(accepted).toBeLessThan(cases.length - 5);
  });
});
