/**
 * Hostile input on the wire: generated header lines written byte for byte over raw TCP sockets to
 * real Express and Fastify applications, with the real Sentry SDK sending to a local envelope
 * endpoint, a recording Nest logger, and a downstream service the handler calls with
 * `TransactionHttpService`.
 *
 * Every case sends one to three header lines (our header in any spelling, or near-misses of it)
 * whose values are arbitrary bytes around a unique token. Node's parser refuses some of them
 * (400/431, sometimes a reset) before any JavaScript runs: that is fine. For every other request:
 * the handler ran, its status is the one its route gives (200, or 500 for the failing route),
 * the ID the handler saw is the one echoed, forwarded and tagged, and it is valid; it is the
 * value that came only when exactly one line of our header came and its value is valid.
 *
 * A token whose value was not accepted must never appear anywhere: raw response bytes, log lines,
 * Sentry events (tags, messages, exceptions, and our header in the SDK's copy of the request
 * headers, which must show the settled ID), headers of outgoing calls.
 *
 * `HARDENING_RUNS=<factor>` multiplies the number of cases (default 1,000 per adapter with the
 * default options; 200 per adapter with a `validate` that accepts anything, and 200 with
 * `invalid: 'reject'`, whose 400 answers must not repeat the value either).
 */
import 'reflect-metadata';
import * as Sentry from '@sentry/node';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SentryEnvelopeServer, type SentryEvent } from '../fixtures/sentry-envelope-server.js';
import { sentryTestOptions } from '../fixtures/sentry-options.js';
import { headerNameSpelling, hostileBytes, runs } from './support/hostile-values.js';
import { ProcessFailures } from './support/process-failures.js';
import { exchangeRaw, rawRequest, valuesOf } from './support/raw-wire.js';
import { RecordingLogger } from './support/recording-logger.js';
import { portOf, RecordingServer } from './support/servers.js';

const sentry = await SentryEnvelopeServer.start();
Sentry.init(sentryTestOptions({ dsn: sentry.dsn(1), tracesSampleRate: 0 }));

const { seen, startProbeApp } = await import('./support/probe-app.js');
type Seen = import('./support/probe-app.js').Seen;
type TransactionModuleOptions = import('../../lib/index.js').TransactionModuleOptions;
type INestApplication = import('@nestjs/common').INestApplication;

const HEADER = 'x-transaction-id';
const VALID_ID = /^[A-Za-z0-9._:-]{1,128}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const PRINTABLE = /^[\x21-\x7e](?:[\x20-\x7e]*[\x21-\x7e])?$/;
/** Tokens are `Zq` + 6 base-36 digits + `X` + line number: no UUID, event ID or path has one. */
const TOKEN = /Zq[0-9a-z]{6}X[0-9]/g;

const downstream = await RecordingServer.start((request, response) => {
  response.writeHead(200, { 'content-type': 'application/json' });
  response.end(JSON.stringify({ header: request.headers[HEADER] }));
});

function startApp(
  adapter: 'express' | 'fastify',
  options: TransactionModuleOptions,
  logger: RecordingLogger,
): Promise<INestApplication> {
  return startProbeApp({ adapter, options, logger, downstream: downstream.url('/seen') });
}

/** One header line of a case: a name, then arbitrary bytes around the line's token. */
const lineArb = fc.record({
  name: fc.oneof(
    { arbitrary: headerNameSpelling, weight: 6 },
    {
      arbitrary: fc.constantFrom('x-transaction-ids', 'x-transaction', 'transaction-id'),
      weight: 1,
    },
  ),
  space: fc.constantFrom('', ' ', '  ', '\t'),
  before: fc.oneof(
    { arbitrary: fc.constant(Buffer.alloc(0)), weight: 5 },
    { arbitrary: hostileBytes.map((b) => b.subarray(0, 8)), weight: 1 },
  ),
  after: fc.oneof(
    { arbitrary: fc.constant(Buffer.alloc(0)), weight: 1 },
    { arbitrary: hostileBytes, weight: 5 },
  ),
});
interface Case {
  lines: Array<{ name: string; space: string; before: Buffer; after: Buffer }>;
  fail: boolean;
}
const caseArb: fc.Arbitrary<Case> = fc.record({
  lines: fc.array(lineArb, { minLength: 1, maxLength: 3 }),
  fail: fc.boolean(),
});

/**
 * The parts of an event the library answers for: all of it except the request headers other than
 * ours, which are the SDK's copy of whatever the client sent (a near-miss header name, or a header
 * made up by CR/LF in the junk, may carry a token). Our header must show the settled ID there.
 */
function searchable(event: SentryEvent): string {
  const { request, ...rest } = event;
  const headers = Object.fromEntries(
    Object.entries(request?.headers ?? {}).filter(([name]) => name.toLowerCase() === HEADER),
  );
  return JSON.stringify({ ...rest, request: { ...request, headers } });
}

const failures = new ProcessFailures();
/** Cases sent at the same time, on connections of their own. */
const BATCH = 8;
let counter = 0;

interface Tally {
  cases: number;
  /** Requests whose handler ran (pipelined ones included). */
  handled: number;
  /** Of those, requests that kept the ID they came with. */
  accepted: number;
  /** First responses by status when no handler answered: Node's parser refused the bytes. */
  refused: Record<string, number>;
}

/**
 * Judges one request the handler served: the ID is valid, is what every part of the service saw,
 * and is the incoming value exactly when one line of our header came with an acceptable value.
 * Returns whether the incoming value was kept.
 */
function judge(id: string, record: Seen, accepts: (value: string) => boolean): boolean {
  expect(record.context).toBe(id);
  expect(record.forwarded).toBe(id);
  expect(id.length).toBeLessThanOrEqual(200);
  expect(id).toMatch(PRINTABLE);
  if (record.lines.length === 1 && accepts(record.lines[0])) {
    expect(id).toBe(record.lines[0]);
    return true;
  }
  expect(id).toMatch(UUID);
  return false;
}

/**
 * Runs `cases` generated cases against `app`, asserting each response as it comes, then every
 * request the handler served (junk with a blank line in it pipelines extra requests, whose
 * responses a later parse error may cut off). Returns the tokens that were not accepted, to be
 * searched for everywhere, with a tally.
 */
async function hammer(
  app: INestApplication,
  cases: number,
  accepts: (value: string) => boolean,
  /** With `invalid: 'reject'`: a handler may only run for an accepted value or none. */
  rejecting = false,
): Promise<{ refused: Set<string>; tally: Tally }> {
  const port = portOf(app);
  const sent = new Set<string>();
  const tally: Tally = { cases: 0, handled: 0, accepted: 0, refused: {} };
  seen.clear();

  const runCase = async ({ lines, fail }: Case) => {
    const base = `Zq${(++counter).toString(36).padStart(6, '0')}X`;
    const tokens = lines.map((_, i) => `${base}${i}`);
    for (const token of tokens) sent.add(token);
    const wire = lines.map(({ name, space, before, after }, i) =>
      Buffer.concat([Buffer.from(`${name}:${space}`), before, Buffer.from(tokens[i]), after]),
    );
    const outcome = await exchangeRaw(
      port,
      rawRequest(fail ? '/probe/fail' : '/probe', port, wire),
    );
    tally.cases++;

    const echoed = valuesOf(outcome, HEADER);
    if (outcome.status === 200 || outcome.status === 500) {
      expect(outcome.status).toBe(fail ? 500 : 200);
      expect(echoed).toHaveLength(1);
      const [id] = echoed;
      const record = seen.get(id);
      expect(record, `the handler saw ${id}`).toBeDefined();
      judge(id, record!, accepts);
      if (!fail) expect(JSON.parse(outcome.body)).toEqual({ id });
    } else {
      const key = String(outcome.status ?? (outcome.reset ? 'reset' : 'closed'));
      tally.refused[key] = (tally.refused[key] ?? 0) + 1;
      expect(outcome.status === undefined || outcome.status === 400 || outcome.status === 431).toBe(
        true,
      );
      for (const id of echoed) expect(id).toMatch(UUID);
    }
    // A token may come back only inside the ID the handler accepted.
    for (const token of tokens) {
      if (outcome.raw.includes(token)) {
        expect(echoed.some((id) => id.includes(token) && seen.has(id))).toBe(true);
      }
    }
  };

  // A few connections at a time, as clients would: the run stays well under a minute.
  await fc.assert(
    fc.asyncProperty(fc.array(caseArb, { minLength: BATCH, maxLength: BATCH }), async (batch) => {
      await Promise.all(batch.map(runCase));
    }),
    { numRuns: Math.ceil(cases / BATCH) },
  );

  // Handlers of pipelined requests may finish after their connection was cut.
  await new Promise((resolve) => setTimeout(resolve, 200));
  const accepted = new Set<string>();
  for (const [id, record] of seen) {
    tally.handled++;
    const kept = judge(id, record, accepts);
    if (rejecting) expect(kept || record.lines.length === 0, id).toBe(true);
    if (!kept) continue;
    tally.accepted++;
    for (const token of id.match(TOKEN) ?? []) accepted.add(token);
  }
  const refused = new Set([...sent].filter((token) => !accepted.has(token)));
  return { refused, tally };
}

/** Refused tokens found in `text`, each with a little context. */
function leaks(text: string, refused: Set<string>): string[] {
  return [...text.matchAll(TOKEN)]
    .filter(([token]) => refused.has(token))
    .map((match) => JSON.stringify(text.slice(Math.max(0, match.index - 60), match.index + 20)));
}

async function assertNothingLeaked(refused: Set<string>, logger: RecordingLogger): Promise<void> {
  expect(await Sentry.flush(15_000)).toBe(true);
  expect(leaks(logger.lines.join('\n'), refused), 'log lines').toEqual([]);
  expect(leaks(JSON.stringify(downstream.received), refused), 'outgoing calls').toEqual([]);
  expect(leaks(sentry.events.map(searchable).join('\n'), refused), 'Sentry events').toEqual([]);
}

/**
 * Every Sentry event carries a valid tag; every handled request has its message event, tagged
 * with the ID the handler saw, and its failure (on the failing route) is tagged the same.
 */
function assertSentryTags(valid: (tag: string) => boolean): void {
  const tagOf = new Map<string, string | undefined>();
  for (const event of sentry.events) {
    const tag = event.tags?.transaction_id;
    expect(typeof tag === 'string' && valid(tag) && !/[\r\n]/.test(tag)).toBe(true);
    expect(event.tags?.client_transaction_id).toBeUndefined();
    const copied = event.request?.headers?.[HEADER];
    if (copied !== undefined) expect(copied).toBe(tag);
    const text = event.message ?? event.exception?.values?.at(-1)?.value;
    if (text !== undefined) tagOf.set(text, tag);
  }
  for (const [id, record] of seen) {
    expect(tagOf.get(`probe ${id}`), id).toBe(id);
    if (record.failed) expect(tagOf.get(`probe failed in transaction ${id}`), id).toBe(id);
  }
}

afterAll(async () => {
  failures.dispose();
  await Sentry.close(2_000);
  await downstream.close();
  await sentry.close();
});

describe.each(['express', 'fastify'] as const)('%s under generated header lines', (adapter) => {
  let app: INestApplication;
  const logger = new RecordingLogger();

  beforeAll(async () => {
    sentry.clear();
    app = await startApp(adapter, {}, logger);
  });
  afterAll(() => app.close());

  it('answers every case without a 5xx of its own, and never reflects a refused value', async () => {
    const { refused, tally } = await hammer(app, runs(1_000), (v) => VALID_ID.test(v));

    await assertNothingLeaked(refused, logger);
    assertSentryTags((tag) => VALID_ID.test(tag));
    expect(failures.errors, failures.describe()).toEqual([]);
    // Enough of each kind that the run meant something.
    expect(tally.handled).toBeGreaterThan(tally.cases / 3);
    expect(tally.accepted).toBeGreaterThan(tally.cases / 20);
    console.info(`${adapter}, default validation:`, JSON.stringify(tally));
  }, 120_000);
});

describe.each(['express', 'fastify'] as const)(
  '%s with a validate that accepts anything',
  (adapter) => {
    let app: INestApplication;
    const logger = new RecordingLogger();

    beforeAll(async () => {
      sentry.clear();
      app = await startApp(adapter, { validate: () => true }, logger);
    });
    afterAll(() => app.close());

    it('still accepts only printable values of at most 200 characters: always a valid Sentry tag', async () => {
      const accepts = (v: string) => v.length <= 200 && PRINTABLE.test(v);
      const { refused, tally } = await hammer(app, runs(200), accepts);

      await assertNothingLeaked(refused, logger);
      assertSentryTags((tag) => accepts(tag));
      expect(failures.errors, failures.describe()).toEqual([]);
      expect(tally.accepted).toBeGreaterThan(tally.cases / 20);
      console.info(`${adapter}, permissive validate:`, JSON.stringify(tally));
    }, 120_000);

    it('keeps an ID of exactly 200 printable characters whole in the tag, and refuses 201', async () => {
      const port = portOf(app);
      const longest = `Long~${'x'.repeat(191)}=end`;
      const tooLong = `${longest}!`;
      expect([longest.length, tooLong.length]).toEqual([200, 201]);

      const kept = await exchangeRaw(port, rawRequest('/probe', port, [`${HEADER}: ${longest}`]));
      const refused = await exchangeRaw(
        port,
        rawRequest('/probe', port, [`${HEADER}: ${tooLong}`]),
      );

      expect(valuesOf(kept, HEADER)).toEqual([longest]);
      const [fresh] = valuesOf(refused, HEADER);
      expect(fresh).toMatch(UUID);
      expect(refused.raw).not.toContain(tooLong.slice(0, 50));
      await sentry.waitFor((events) =>
        [longest, fresh].every((id) => events.some((e) => e.tags?.transaction_id === id)),
      );
      expect(JSON.stringify(sentry.events.map(searchable))).not.toContain(tooLong);
    });
  },
);

describe.each(['express', 'fastify'] as const)("%s with invalid: 'reject'", (adapter) => {
  let app: INestApplication;
  const logger = new RecordingLogger();

  beforeAll(async () => {
    sentry.clear();
    app = await startApp(adapter, { invalid: 'reject' }, logger);
  });
  afterAll(() => app.close());

  it('serves only valid values, answers 400 to the rest, and repeats none of them', async () => {
    const { refused, tally } = await hammer(app, runs(200), (v) => VALID_ID.test(v), true);

    await assertNothingLeaked(refused, logger);
    assertSentryTags((tag) => VALID_ID.test(tag));
    expect(failures.errors, failures.describe()).toEqual([]);
    expect(tally.accepted).toBeGreaterThan(tally.cases / 20);
    console.info(`${adapter}, invalid: 'reject':`, JSON.stringify(tally));
  }, 120_000);
});
