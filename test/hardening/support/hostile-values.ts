import fc from 'fast-check';

/**
 * Number of generated cases: `HARDENING_RUNS` multiplies every default, for longer local runs
 * (`HARDENING_RUNS=10 npx vitest run test/hardening`).
 */
export function runs(defaultRuns: number): number {
  const factor = Number(process.env.HARDENING_RUNS ?? 1);
  return Math.max(
    1,
    Math.round(defaultRuns * (Number.isFinite(factor) && factor > 0 ? factor : 1)),
  );
}

/** Node.js's default limit for a request head (`--max-http-header-size`). */
export const NODE_MAX_HEADER_BYTES = 16 * 1024;

/** Pieces that have broken header handling, log formats or tag stores somewhere. */
export const HOSTILE_FRAGMENTS: readonly string[] = [
  '\r\n',
  '\n',
  '\r',
  '\r\n\r\n',
  '\r\n ',
  '%0d%0a',
  '%0D%0A',
  '%250d%250a',
  '\\r\\n',
  '%00',
  '\u0000',
  '\t',
  ' ',
  ',',
  ', ',
  ';',
  '"',
  "'",
  '\\',
  '\u007f',
  '\u00ff',
  '\u0085',
  '\u00a0',
  '\u2028',
  '\u2029',
  '\ufeff',
  '\ud800',
  '\u{1f600}',
  'é',
  '\u001b[31m',
  '<script>alert(1)</script>',
  '${jndi:ldap://127.0.0.1/a}',
  '{{7*7}}',
  'x-injected: 1',
  'Set-Cookie: session=stolen',
  '\r\nx-transaction-id: smuggled-id',
  '\r\nX-Injected: 1',
  '\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n',
  '../../etc/passwd',
  'transaction_id',
];

const ID_ALPHABET = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._:-';

/** Characters an ID may be made of, in runs that straddle the 128 and 200 character limits. */
export const idLike = fc.string({
  unit: fc.constantFrom(...ID_ALPHABET),
  minLength: 0,
  maxLength: 260,
});

/** One long run of a single character, up to a little past Node's header limit. */
const longRun = fc
  .tuple(
    fc.constantFrom('a', '-', ' ', ',', '\u00ff', '\u0007', 'é'),
    fc.integer({ min: 120, max: NODE_MAX_HEADER_BYTES + 512 }),
  )
  .map(([char, length]) => char.repeat(length));

/** Arbitrary strings for the pure functions: any code unit, unicode, fragments and long values. */
export const hostileString: fc.Arbitrary<string> = fc.oneof(
  { arbitrary: fc.string({ unit: 'binary', maxLength: 300 }), weight: 4 },
  { arbitrary: fc.string({ unit: 'grapheme', maxLength: 60 }), weight: 2 },
  { arbitrary: fc.string({ maxLength: 40 }), weight: 2 },
  { arbitrary: idLike, weight: 4 },
  {
    arbitrary: fc
      .array(
        fc.oneof(
          fc.constantFrom(...HOSTILE_FRAGMENTS),
          idLike.map((s) => s.slice(0, 20)),
          fc.string({ unit: 'binary', maxLength: 6 }),
        ),
        { maxLength: 12 },
      )
      .map((parts) => parts.join('')),
    weight: 6,
  },
  { arbitrary: longRun, weight: 1 },
);

/** Bytes as they might come off a socket: arbitrary octets, UTF-8 text, fragments, long runs. */
export const hostileBytes: fc.Arbitrary<Buffer> = fc.oneof(
  { arbitrary: fc.uint8Array({ maxLength: 120 }).map((b) => Buffer.from(b)), weight: 3 },
  {
    arbitrary: fc
      .array(
        fc.oneof(
          fc.constantFrom(...HOSTILE_FRAGMENTS).map((s) => Buffer.from(s, 'utf8')),
          fc.constantFrom(...HOSTILE_FRAGMENTS).map((s) => Buffer.from(s, 'latin1')),
          idLike.map((s) => Buffer.from(s.slice(0, 30), 'latin1')),
          fc.uint8Array({ maxLength: 4 }).map((b) => Buffer.from(b)),
        ),
        { maxLength: 8 },
      )
      .map((parts) => Buffer.concat(parts)),
    weight: 6,
  },
  { arbitrary: idLike.map((s) => Buffer.from(s, 'latin1')), weight: 3 },
  {
    arbitrary: fc.string({ unit: 'grapheme', maxLength: 30 }).map((s) => Buffer.from(s)),
    weight: 1,
  },
  { arbitrary: longRun.map((s) => Buffer.from(s, 'latin1')), weight: 1 },
);

/** How the header name is spelled on the wire: Node.js must match it in any case. */
export const headerNameSpelling = fc.constantFrom(
  'x-transaction-id',
  'X-Transaction-ID',
  'X-TRANSACTION-ID',
  'x-Transaction-Id',
);
