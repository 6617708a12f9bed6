/**
 * Hostile input, pure functions: property-based tests over `readTransactionHeader()` and
 * `TransactionIdPolicy`, the two functions every incoming header value goes through.
 *
 * Each header property runs 10,000 generated cases by default (`HARDENING_RUNS=<factor>` for
 * more): any code unit, unicode, control characters, CR/LF and `%0d%0a`, values up to past Node's
 * 16 KiB header limit, repeated header lines, arrays and inconsistent `rawHeaders`. What must hold:
 * nothing throws, the settled ID is always valid (and a valid Sentry tag: at most 200 printable
 * characters, no newline), an incoming value is kept only when valid and unambiguous, and a
 * refused value is never part of what comes out.
 *
 * The wire-level counterpart, with real servers, Sentry and logs, is `hostile-headers.e2e.spec.ts`.
 */
import 'reflect-metadata';
import type { IncomingMessage } from 'node:http';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TransactionIdPolicy, type TransactionModuleOptions } from '../../lib/index.js';
import { REJECTED } from '../../lib/id/transaction-id.policy.js';
import { readTransactionHeader } from '../../lib/http/read-transaction-header.js';
import { resolveTransactionOptions } from '../../lib/options/transaction-options.js';
import { headerNameSpelling, hostileString, idLike, runs } from './support/hostile-values.js';

const HEADER = 'x-transaction-id';
/** The documented default: 1–128 characters of `A–Z a–z 0–9 . _ : -`. */
const VALID_ID = /^[A-Za-z0-9._:-]{1,128}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
/** Printable ASCII without leading or trailing space: what the library lets through any `validate`. */
const PRINTABLE = /^[\x21-\x7e](?:[\x20-\x7e]*[\x21-\x7e])?$/;

const HEADER_RUNS = runs(10_000);
const OTHER_RUNS = runs(2_000);

/** Short hex runs may occur in a fresh UUID by chance; anything else must not. */
function couldBeInUuid(value: string): boolean {
  return value.length <= 36 && /^[0-9a-f-]*$/.test(value);
}

function policy(options: TransactionModuleOptions = {}): TransactionIdPolicy {
  return new TransactionIdPolicy(resolveTransactionOptions(options));
}

/** What Sentry accepts as a tag value: 1–200 characters, no newline. */
function isSentryTag(value: string): boolean {
  return value.length >= 1 && value.length <= 200 && !/[\r\n]/.test(value);
}

/**
 * Header lines as a client may send them, and the `headers`/`rawHeaders` pair Node.js makes of
 * them: names lower-cased, repeated lines of an unknown header joined with ", ".
 */
const nodeRequest = fc
  .array(
    fc.tuple(
      fc.oneof(
        { arbitrary: headerNameSpelling, weight: 4 },
        {
          arbitrary: fc.constantFrom('x-transaction-ids', 'x-transaction', 'host', 'accept'),
          weight: 1,
        },
      ),
      hostileString,
    ),
    { maxLength: 5 },
  )
  .map((lines) => {
    const headers: Record<string, string> = {};
    for (const [name, value] of lines) {
      const key = name.toLowerCase();
      headers[key] = key in headers ? `${headers[key]}, ${value}` : value;
    }
    return { lines, request: { headers, rawHeaders: lines.flat() } };
  });

/** Anything a caller could hand over, consistent with Node.js or not. */
const anyRequest = fc.record({
  headers: fc.dictionary(
    fc.oneof(fc.constant(HEADER), fc.string({ maxLength: 20 })),
    fc.oneof(hostileString, fc.array(hostileString, { maxLength: 4 }), fc.constant(undefined)),
    { maxKeys: 5 },
  ),
  rawHeaders: fc.option(fc.array(fc.oneof(headerNameSpelling, hostileString), { maxLength: 8 }), {
    nil: undefined,
  }),
});

describe('readTransactionHeader() over generated requests', () => {
  it('gives the value of exactly one header line, null for several, undefined for none', () => {
    fc.assert(
      fc.property(nodeRequest, ({ lines, request }) => {
        const ours = lines.filter(([name]) => name.toLowerCase() === HEADER);
        const read = readTransactionHeader(request, HEADER);

        if (ours.length === 0) expect(read).toBeUndefined();
        else if (ours.length === 1) expect(read).toBe(ours[0][1]);
        else expect(read).toBeNull();
      }),
      { numRuns: HEADER_RUNS },
    );
  });

  it('never throws and returns undefined, null or the header value itself, whatever it is given', () => {
    fc.assert(
      fc.property(anyRequest, (request) => {
        const value = request.headers[HEADER];
        const read = readTransactionHeader(request as never, HEADER);

        if (value === undefined) expect(read).toBeUndefined();
        else if (typeof value !== 'string') expect(read).toBeNull();
        else expect(read === null || read === value).toBe(true);
      }),
      { numRuns: HEADER_RUNS },
    );
  });
});

describe('TransactionIdPolicy.settle() over generated values', () => {
  const defaults = policy();

  it('keeps exactly the valid values and replaces every other with a fresh UUID that does not contain it', () => {
    fc.assert(
      fc.property(hostileString, (incoming) => {
        const settled = defaults.settle(incoming);

        expect(typeof settled).toBe('string');
        const id = settled as string;
        expect(id).toMatch(VALID_ID);
        expect(isSentryTag(id)).toBe(true);
        if (VALID_ID.test(incoming)) {
          expect(id).toBe(incoming);
        } else {
          expect(id).toMatch(UUID);
          if (!couldBeInUuid(incoming)) expect(id).not.toContain(incoming);
        }
      }),
      { numRuns: HEADER_RUNS },
    );
  });

  it('settles whole generated requests to a valid ID, keeping only a single valid line', () => {
    fc.assert(
      fc.property(nodeRequest, ({ lines, request }) => {
        const ours = lines.filter(([name]) => name.toLowerCase() === HEADER).map(([, v]) => v);
        const id = defaults.settle(readTransactionHeader(request, HEADER)) as string;

        expect(id).toMatch(VALID_ID);
        if (ours.length === 1 && VALID_ID.test(ours[0])) expect(id).toBe(ours[0]);
        else for (const value of ours) if (!couldBeInUuid(value)) expect(id).not.toContain(value);
      }),
      { numRuns: HEADER_RUNS },
    );
  });

  it("with invalid: 'reject', rejects exactly the invalid and ambiguous values", () => {
    const rejecting = policy({ invalid: 'reject' });
    fc.assert(
      fc.property(fc.option(hostileString, { nil: null }), (incoming) => {
        const settled = rejecting.settle(incoming);

        if (incoming !== null && VALID_ID.test(incoming)) expect(settled).toBe(incoming);
        else expect(settled).toBe(REJECTED);
      }),
      { numRuns: HEADER_RUNS },
    );
  });

  it('for an untrusted sender, makes a fresh ID whatever came', () => {
    fc.assert(
      fc.property(fc.option(hostileString, { nil: null }), (incoming) => {
        const settled = defaults.settle(incoming, false) as string;

        expect(settled).toMatch(UUID);
        expect(settled).not.toBe(incoming);
      }),
      { numRuns: OTHER_RUNS },
    );
  });

  it('with require: true, rejects a missing value and nothing else', () => {
    const requiring = policy({ require: true });
    fc.assert(
      fc.property(
        fc.option(hostileString, { nil: undefined }),
        fc.boolean(),
        (incoming, trusted) => {
          const settled = requiring.settle(incoming, trusted);

          if (incoming === undefined) expect(settled).toBe(REJECTED);
          else expect(settled).toMatch(VALID_ID);
        },
      ),
      { numRuns: OTHER_RUNS },
    );
  });
});

describe('a custom validate cannot let an unsafe ID through', () => {
  it('accepting everything still yields printable ASCII of at most 200 characters', () => {
    const permissive = policy({ validate: () => true });
    fc.assert(
      fc.property(hostileString, (incoming) => {
        const id = permissive.settle(incoming) as string;

        expect(id).toMatch(PRINTABLE);
        expect(isSentryTag(id)).toBe(true);
        const safe = incoming.length <= 200 && PRINTABLE.test(incoming);
        expect(id === incoming).toBe(safe);
      }),
      { numRuns: HEADER_RUNS },
    );
  });

  it('allowing IDs of up to 1,000 characters still keeps none longer than 200 (the tag limit)', () => {
    const long = policy({ validate: (v) => /^[A-Za-z0-9._:-]{1,1000}$/.test(v) });
    fc.assert(
      fc.property(
        fc.oneof(
          idLike,
          idLike.map((s) => s.repeat(4)),
        ),
        (incoming) => {
          const id = long.settle(incoming) as string;

          expect(isSentryTag(id)).toBe(true);
          expect(id === incoming).toBe(incoming.length >= 1 && incoming.length <= 200);
        },
      ),
      { numRuns: OTHER_RUNS },
    );
  });

  it('returning anything but true, or throwing, refuses the value without throwing', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.anything(), fc.constant('throw')),
        idLike.filter((s) => VALID_ID.test(s)),
        (verdict, incoming) => {
          const custom = policy({
            validate: (v) => {
              if (v !== incoming) return VALID_ID.test(v);
              if (verdict === 'throw') throw new Error(`refused ${v}`);
              return verdict as boolean;
            },
          });
          const id = custom.settle(incoming) as string;

          expect(id === incoming).toBe(verdict === true);
          expect(id).toMatch(VALID_ID);
        },
      ),
      { numRuns: OTHER_RUNS },
    );
  });

  it('isValid() takes any JavaScript value without throwing, and only strings pass', () => {
    const defaultsPolicy = policy();
    fc.assert(
      fc.property(fc.anything(), (value) => {
        const valid = defaultsPolicy.isValid(value);

        expect(valid).toBe(typeof value === 'string' && VALID_ID.test(value));
      }),
      { numRuns: OTHER_RUNS },
    );
  });
});

describe('misbehaving user functions at run time', () => {
  it('a generate that starts returning hostile values, or throwing, still yields valid IDs', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(hostileString, fc.constant(null)), { minLength: 1, maxLength: 20 }),
        (outputs) => {
          let calls = 0;
          const erratic = policy({
            generate: () => {
              // The first call is the start-up check; later ones come from the generated list.
              if (calls++ === 0) return 'startup-check';
              const next = outputs[(calls - 2) % outputs.length];
              if (next === null) throw new Error('generator down');
              return next;
            },
          });
          for (let i = 0; i < outputs.length; i++) {
            const id = erratic.settle(undefined) as string;
            expect(id).toMatch(VALID_ID);
          }
        },
      ),
      { numRuns: runs(500) },
    );
  });

  it('trustIncoming trusts only on a literal true, and a throwing function means untrusted', () => {
    const request = { headers: {}, socket: { remoteAddress: '127.0.0.1' } } as IncomingMessage;
    fc.assert(
      fc.property(fc.oneof(fc.anything(), fc.constant('throw')), (verdict) => {
        const judged = policy({
          trustIncoming: () => {
            if (verdict === 'throw') throw new Error('trust check down');
            return verdict as boolean;
          },
        });

        expect(judged.trusts(request)).toBe(verdict === true);
      }),
      { numRuns: OTHER_RUNS },
    );
  });
});
