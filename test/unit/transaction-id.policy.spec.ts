import 'reflect-metadata';
import type { IncomingMessage } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import type { TestingModule } from '@nestjs/testing';
import { TransactionIdPolicy, type TransactionModuleOptions } from '../../lib/index.js';
import { REJECTED } from '../../lib/id/transaction-id.policy.js';
import { compileTransactionModule, RecordingLogger, UUID } from './support/testing-module.js';

describe('TransactionIdPolicy', () => {
  let moduleRef: TestingModule | undefined;
  let logger: RecordingLogger;

  async function policyWith(options?: TransactionModuleOptions): Promise<TransactionIdPolicy> {
    logger = new RecordingLogger();
    moduleRef = await compileTransactionModule(options, logger);
    return moduleRef.get(TransactionIdPolicy);
  }

  afterEach(async () => {
    await moduleRef?.close();
    moduleRef = undefined;
  });

  describe('settle() with the defaults', () => {
    it('makes a fresh UUID when no ID came, a different one each time', async () => {
      const policy = await policyWith();
      const ids = new Set(Array.from({ length: 50 }, () => policy.settle(undefined)));

      expect(ids.size).toBe(50);
      for (const id of ids) expect(id).toMatch(UUID);
    });

    it('keeps a valid incoming ID', async () => {
      const policy = await policyWith();

      expect(policy.settle('order-42:retry.1_a')).toBe('order-42:retry.1_a');
      expect(policy.settle('a'.repeat(128))).toBe('a'.repeat(128));
    });

    it.each([
      ['empty', ''],
      ['too long', 'a'.repeat(129)],
      ['with a space', 'abc def'],
      ['with CR LF', 'abc\r\nx-evil: 1'],
      ['joined from two header lines', 'abc, def'],
    ])('replaces an incoming ID that is %s', async (_, incoming) => {
      const policy = await policyWith();
      const settled = policy.settle(incoming);

      expect(settled).toMatch(UUID);
      expect(settled).not.toBe(incoming);
    });

    it('replaces an ambiguous ID (null: several header lines)', async () => {
      const policy = await policyWith();

      expect(policy.settle(null)).toMatch(UUID);
    });
  });

  describe("settle() with invalid: 'reject'", () => {
    it('rejects an invalid or ambiguous ID', async () => {
      const policy = await policyWith({ invalid: 'reject' });

      expect(policy.settle('abc def')).toBe(REJECTED);
      expect(policy.settle('')).toBe(REJECTED);
      expect(policy.settle(null)).toBe(REJECTED);
    });

    it('still keeps a valid ID and makes one when none came', async () => {
      const policy = await policyWith({ invalid: 'reject' });

      expect(policy.settle('abc-1')).toBe('abc-1');
      expect(policy.settle(undefined)).toMatch(UUID);
    });
  });

  describe('settle() with require: true', () => {
    it('rejects work that came without an ID', async () => {
      const policy = await policyWith({ require: true });

      expect(policy.settle(undefined)).toBe(REJECTED);
    });

    it("keeps a valid ID and, with invalid: 'replace', replaces an invalid one", async () => {
      const policy = await policyWith({ require: true });

      expect(policy.settle('abc-1')).toBe('abc-1');
      expect(policy.settle('abc def')).toMatch(UUID);
      expect(policy.settle(null)).toMatch(UUID);
    });

    it('still lets the application make IDs of its own', async () => {
      const policy = await policyWith({ require: true });

      expect(policy.generate()).toMatch(UUID);
    });
  });

  describe('settle() for an untrusted sender', () => {
    it('ignores a valid incoming ID and makes a fresh one', async () => {
      const policy = await policyWith();

      const settled = policy.settle('client-chosen', false);

      expect(settled).toMatch(UUID);
      expect(settled).not.toBe('client-chosen');
    });

    it("does not turn work away for a value it ignores anyway, even with invalid: 'reject'", async () => {
      const policy = await policyWith({ invalid: 'reject' });

      expect(policy.settle('abc def', false)).toMatch(UUID);
      expect(policy.settle(null, false)).toMatch(UUID);
    });

    it('still rejects work without an ID when require is set', async () => {
      const policy = await policyWith({ require: true });

      expect(policy.settle(undefined, false)).toBe(REJECTED);
    });
  });

  describe('trusts()', () => {
    const request = (headers: Record<string, string> = {}) => ({ headers }) as IncomingMessage;

    it('trusts every sender by default', async () => {
      const policy = await policyWith();

      expect(policy.trusts(request())).toBe(true);
    });

    it('trusts no sender with trustIncoming: false', async () => {
      const policy = await policyWith({ trustIncoming: false });

      expect(policy.trusts(request())).toBe(false);
    });

    it('asks a trustIncoming function about each request', async () => {
      const policy = await policyWith({
        trustIncoming: (incoming) => incoming.headers['x-internal'] === 'secret',
      });

      expect(policy.trusts(request({ 'x-internal': 'secret' }))).toBe(true);
      expect(policy.trusts(request({ 'x-internal': 'guess' }))).toBe(false);
      expect(policy.trusts(request())).toBe(false);
    });

    it('takes only true for a yes', async () => {
      const policy = await policyWith({ trustIncoming: () => 'yes' as unknown as boolean });

      expect(policy.trusts(request())).toBe(false);
    });

    it('takes a trustIncoming function that throws as a no', async () => {
      const policy = await policyWith({
        trustIncoming: () => {
          throw new Error('lookup failed');
        },
      });

      expect(policy.trusts(request())).toBe(false);
    });
  });

  describe('limits that a custom validate cannot lift', () => {
    const acceptAnything = { validate: () => true };

    it('accepts up to 200 characters (the Sentry tag limit), never more', async () => {
      const policy = await policyWith({ ...acceptAnything, invalid: 'reject' });

      expect(policy.settle('a'.repeat(200))).toBe('a'.repeat(200));
      expect(policy.settle('a'.repeat(201))).toBe(REJECTED);
      expect(policy.isValid('a'.repeat(201))).toBe(false);
    });

    it.each([
      ['CR LF', 'abc\r\nset-cookie: x=1'],
      ['a lone LF', 'abc\ndef'],
      ['a lone CR', 'abc\rdef'],
      ['a tab', 'abc\tdef'],
      ['NUL', 'abc\u0000'],
      ['DEL', 'abc\u007f'],
      ['an escape sequence', '\u001b[31mred'],
      ['a leading space', ' abc'],
      ['a trailing space', 'abc '],
      ['only a space', ' '],
      ['a non-ASCII character', 'commandé'],
      ['the empty string', ''],
    ])('refuses %s', async (_, value) => {
      const policy = await policyWith({ ...acceptAnything, invalid: 'reject' });

      expect(policy.isValid(value)).toBe(false);
      expect(policy.settle(value)).toBe(REJECTED);
    });

    it('lets a custom validate accept what the default refuses, inner spaces and commas included', async () => {
      const policy = await policyWith(acceptAnything);

      expect(policy.settle('tenant=a, user=b')).toBe('tenant=a, user=b');
      expect(policy.settle('x/y?z')).toBe('x/y?z');
    });

    it('refuses values that are not strings', async () => {
      const policy = await policyWith(acceptAnything);

      for (const value of [undefined, null, 42, {}, ['abc']]) {
        expect(policy.isValid(value)).toBe(false);
      }
    });
  });

  describe('custom validate', () => {
    it('is the judge for everything within the limits', async () => {
      const policy = await policyWith({
        generate: () => 'req-1',
        validate: (value) => value.startsWith('req-'),
      });

      expect(policy.settle('req-abc')).toBe('req-abc');
      expect(policy.settle('abc')).toBe('req-1');
    });

    it('refuses a value when it throws, instead of throwing into the server', async () => {
      const policy = await policyWith({
        validate: (value) => {
          if (value.startsWith('boom')) throw new Error('validator bug');
          return true;
        },
      });

      expect(policy.isValid('boom-1')).toBe(false);
      expect(policy.settle('boom-1')).toMatch(UUID);
      expect(policy.settle('fine-1')).toBe('fine-1');
    });

    it('takes only true for a yes', async () => {
      const policy = await policyWith({
        generate: () => 'a',
        validate: (value) => (value === 'a' ? true : 1) as boolean,
      });

      expect(policy.isValid('a')).toBe(true);
      expect(policy.isValid('b')).toBe(false);
    });

    it('is called with the incoming value', async () => {
      const seen: string[] = [];
      const policy = await policyWith({
        validate: (value) => {
          seen.push(value);
          return true;
        },
      });
      seen.length = 0;

      policy.settle('from-client');

      expect(seen).toEqual(['from-client']);
    });
  });

  describe('custom generate', () => {
    it('makes the fresh IDs', async () => {
      let next = 0;
      const policy = await policyWith({ generate: () => `job-${++next}` });

      const ids = [policy.settle(undefined), policy.settle('bad id'), policy.generate()];

      for (const id of ids) expect(id).toMatch(/^job-\d+$/);
      expect(new Set(ids).size).toBe(3);
    });

    it.each([
      [
        'throws',
        () => {
          throw new Error('generator down');
        },
      ],
      ['returns an invalid ID', () => 'not valid!'],
      ['returns an empty string', () => ''],
      ['returns a non-string', () => 42 as unknown as string],
      ['returns undefined', () => undefined as unknown as string],
      ['returns 300 characters', () => 'a'.repeat(300)],
    ])('falls back to a random UUID when it %s at run time, and warns once', async (_, broken) => {
      let calls = 0;
      // Healthy at start-up (the sample checked there), broken afterwards.
      const generate = () => (++calls === 1 ? 'healthy-1' : broken());
      const policy = await policyWith({ generate });

      const ids = [policy.settle(undefined), policy.settle(undefined), policy.generate()];

      for (const id of ids) expect(id).toMatch(UUID);
      expect(new Set(ids).size).toBe(3);
      const warnings = logger.messages('warn');
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toMatch(/option "generate" returned an invalid ID/i);
    });
  });

  describe('start-up check', () => {
    it('fails when generate makes IDs that validate refuses', async () => {
      await expect(policyWith({ validate: (value) => value.startsWith('req-') })).rejects.toThrow(
        /^nestjs-transaction-id: option "generate" returned an ID that "validate" refuses \("[0-9a-f-]{36}"\); make them agree\.$/,
      );
    });

    it('fails when generate makes IDs that the default validate refuses', async () => {
      await expect(policyWith({ generate: () => 'has space' })).rejects.toThrow(
        'option "generate" returned an ID that "validate" refuses ("has space")',
      );
    });

    it('fails when generate makes IDs beyond the hard limits', async () => {
      await expect(
        policyWith({ generate: () => 'a'.repeat(201), validate: () => true }),
      ).rejects.toThrow(/option "generate" returned an ID that "validate" refuses/);
    });

    it('fails when generate throws', async () => {
      await expect(
        policyWith({
          generate: () => {
            throw new Error('no entropy');
          },
        }),
      ).rejects.toThrow('option "generate" returned an ID that "validate" refuses (undefined)');
    });
  });
});
