import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import { Test } from '@nestjs/testing';
import { describe, expect, it } from 'vitest';
import { resolveTransactionOptions } from '../../lib/options/transaction-options.js';
import { TransactionModule, type TransactionModuleOptions } from '../../lib/index.js';
import { RecordingLogger, UUID } from './support/testing-module.js';

/** Options as a careless (or untyped JavaScript) caller could pass them. */
const loose = (options: Record<string, unknown>) => options as TransactionModuleOptions;

describe('resolveTransactionOptions', () => {
  describe('defaults', () => {
    it('fills in every default when no options are given', () => {
      const resolved = resolveTransactionOptions();

      expect(resolved).toMatchObject({
        header: 'x-transaction-id',
        invalid: 'replace',
        echo: true,
        reportUnhandled: true,
        trustIncoming: true,
        tagClientId: false,
        require: false,
        propagationTargets: undefined,
        forwardHttpCalls: true,
        deriveFromTraceId: false,
      });
      expect(resolved.generate).toBe(randomUUID);
      expect(resolved.generate()).toMatch(UUID);
    });

    it('treats options set to undefined as not set', () => {
      const resolved = resolveTransactionOptions({
        header: undefined,
        invalid: undefined,
        generate: undefined,
        validate: undefined,
        echo: undefined,
        reportUnhandled: undefined,
        trustIncoming: undefined,
        tagClientId: undefined,
        require: undefined,
        propagationTargets: undefined,
      });

      expect(resolved).toMatchObject({
        header: 'x-transaction-id',
        invalid: 'replace',
        echo: true,
        reportUnhandled: true,
        trustIncoming: true,
        tagClientId: false,
        require: false,
      });
      expect(resolved.validate('abc')).toBe(true);
    });

    it('keeps the values that were given', () => {
      const generate = () => 'id-1';
      const validate = (value: string) => value.startsWith('id-');
      const trustIncoming = () => false;
      const given = {
        header: 'x-request-id',
        invalid: 'reject',
        generate,
        validate,
        echo: false,
        reportUnhandled: false,
        trustIncoming,
        tagClientId: true,
        require: true,
        propagationTargets: ['api.internal'],
        forwardHttpCalls: false,
        deriveFromTraceId: true,
      } as const;

      // A function written for HTTP requests is not asked about messages: they are trusted.
      expect(resolveTransactionOptions(given)).toEqual({
        ...given,
        trustMessages: true,
        carriers: [],
      });
      expect(resolveTransactionOptions({ trustIncoming: false }).trustIncoming).toBe(false);
    });

    it('trusts messages as HTTP requests unless trustMessages says otherwise', () => {
      expect(resolveTransactionOptions().trustMessages).toBe(true);
      expect(resolveTransactionOptions({ trustIncoming: false }).trustMessages).toBe(false);
      expect(
        resolveTransactionOptions({ trustIncoming: false, trustMessages: true }).trustMessages,
      ).toBe(true);
      const trustMessages = () => false;
      expect(resolveTransactionOptions({ trustMessages }).trustMessages).toBe(trustMessages);
    });
  });

  describe('default validate', () => {
    const { validate } = resolveTransactionOptions();

    it.each([
      ['a UUID', randomUUID()],
      ['a ULID', '01ARZ3NDEKTSV4RRFFQ69G5FAV'],
      ['a W3C trace ID', '4bf92f3577b34da6a3ce929d0e0e4736'],
      ['every allowed character', 'AZaz09._:-'],
      ['one character', 'a'],
      ['128 characters', 'a'.repeat(128)],
    ])('accepts %s', (_, value) => {
      expect(validate(value)).toBe(true);
    });

    it.each([
      ['the empty string', ''],
      ['129 characters', 'a'.repeat(129)],
      ['a space', 'abc def'],
      ['a comma (joined header lines)', 'abc, def'],
      ['a slash', 'abc/def'],
      ['CR LF', 'abc\r\nx-evil: 1'],
      ['a non-ASCII letter', 'abcé'],
      ['a trailing newline', 'abc\n'],
    ])('refuses %s', (_, value) => {
      expect(validate(value)).toBe(false);
    });
  });

  describe('header', () => {
    it('is lower-cased, as Node.js gives incoming header names', () => {
      expect(resolveTransactionOptions({ header: 'X-Request-ID' }).header).toBe('x-request-id');
    });

    it.each([
      ['empty', ''],
      ['with a space', 'x transaction'],
      ['with a colon', 'x-id:'],
      ['with CR LF', 'x-id\r\nset-cookie'],
      ['non-ASCII', 'x-identité'],
      ['not a string', 42],
    ])('refuses a name that is %s', (_, header) => {
      expect(() => resolveTransactionOptions(loose({ header }))).toThrow(
        /^nestjs-transaction-id: option "header" must be an HTTP header name/,
      );
    });
  });

  describe('errors name the bad option and show what was received', () => {
    it.each([
      ['invalid', 'drop', '"replace" or "reject"', '"drop"'],
      ['invalid', true, '"replace" or "reject"', 'true'],
      ['generate', 'uuid', 'a function returning a new ID', '"uuid"'],
      ['validate', /^[a-z]+$/, 'a function (value: string) => boolean', '{}'],
      ['echo', 'yes', 'true or false', '"yes"'],
      ['echo', 1, 'true or false', '1'],
      ['reportUnhandled', null, 'true or false', 'null'],
      ['trustIncoming', 'internal', 'true, false or a function (request) => boolean', '"internal"'],
      ['trustIncoming', 0, 'true, false or a function (request) => boolean', '0'],
      ['trustMessages', 'yes', 'true, false or a function (source) => boolean', '"yes"'],
      ['tagClientId', 'yes', 'true or false', '"yes"'],
      ['require', 1, 'true or false', '1'],
      ['deriveFromTraceId', 'sentry', 'true or false', '"sentry"'],
      ['propagationTargets', 'http://api', 'an array of strings and RegExps', '"http://api"'],
      ['propagationTargets', [1], 'an array of strings and RegExps', '[1]'],
      ['propagationTargets', ['ok', null], 'an array of strings and RegExps', '["ok",null]'],
      ['propagationTargets', {}, 'an array of strings and RegExps', '{}'],
      [
        'carriers',
        [{ transport: 'bus' }],
        'an array of transport carriers ({ transport, transportId, read, forward })',
        '[{"transport":"bus"}]',
      ],
      ['forwardHttpCalls', 'no', 'true or false', '"no"'],
    ])('option "%s" = %j', (name, value, expected, shown) => {
      expect(() => resolveTransactionOptions(loose({ [name]: value }))).toThrow(
        `nestjs-transaction-id: option "${name}" must be ${expected}; received ${shown}.`,
      );
    });

    it('shows a function as "a function" rather than its source', () => {
      expect(() => resolveTransactionOptions(loose({ invalid: () => 'replace' }))).toThrow(
        'nestjs-transaction-id: option "invalid" must be "replace" or "reject"; received a function.',
      );
    });

    it('survives a value that cannot be serialised', () => {
      const circular: Record<string, unknown> = {};
      circular.self = circular;

      expect(() => resolveTransactionOptions(loose({ echo: circular }))).toThrow(
        'nestjs-transaction-id: option "echo" must be true or false; received [object Object].',
      );
    });

    it('refuses options that are not an object', () => {
      expect(() => resolveTransactionOptions(null as unknown as TransactionModuleOptions)).toThrow(
        'nestjs-transaction-id: option "options" must be an object; received null.',
      );
      expect(() =>
        resolveTransactionOptions('x-id' as unknown as TransactionModuleOptions),
      ).toThrow('nestjs-transaction-id: option "options" must be an object; received "x-id".');
    });
  });

  describe('propagationTargets', () => {
    it('drops the global and sticky flags, so a RegExp matches on every call', () => {
      const global = /127\.0\.0\.1/g;
      const sticky = /^http:\/\/api/y;
      const [resolvedGlobal, resolvedSticky] = resolveTransactionOptions({
        propagationTargets: [global, sticky],
      }).propagationTargets as RegExp[];

      expect(resolvedGlobal.flags).toBe('');
      expect(resolvedSticky.flags).toBe('');
      for (let call = 0; call < 3; call++) {
        expect(resolvedGlobal.test('http://127.0.0.1:3000/a')).toBe(true);
        expect(resolvedSticky.test('http://api/b')).toBe(true);
      }
    });

    it('keeps the other flags and the pattern', () => {
      const [resolved] = resolveTransactionOptions({
        propagationTargets: [/^https:\/\/API\./gimsu],
      }).propagationTargets as RegExp[];

      expect(resolved.source).toBe('^https:\\/\\/API\\.');
      expect(resolved.flags).toBe('imsu');
      expect(resolved.test('https://api.example.com/orders')).toBe(true);
    });

    it("leaves the caller's RegExp alone and keeps stateless RegExps and strings as given", () => {
      const global = /api/g;
      const stateless = /api/i;
      const targets = resolveTransactionOptions({
        propagationTargets: [global, stateless, 'api.internal'],
      }).propagationTargets;

      expect(global.flags).toBe('g');
      expect(targets?.[0]).not.toBe(global);
      expect(targets?.[1]).toBe(stateless);
      expect(targets?.[2]).toBe('api.internal');
    });

    it('accepts an empty array (forward nowhere), which is not the same as unset', () => {
      expect(resolveTransactionOptions({ propagationTargets: [] }).propagationTargets).toEqual([]);
    });
  });
});

describe('TransactionModule with bad options', () => {
  const compile = (imports: unknown[]) =>
    Test.createTestingModule({ imports: imports as never[] })
      .setLogger(new RecordingLogger())
      .compile();

  it('fails at start-up with forRoot()', async () => {
    await expect(compile([TransactionModule.forRoot(loose({ invalid: 'drop' }))])).rejects.toThrow(
      'nestjs-transaction-id: option "invalid" must be "replace" or "reject"; received "drop".',
    );
  });

  it('fails at start-up with forRootAsync()', async () => {
    const module = TransactionModule.forRootAsync({
      useFactory: async () => loose({ header: 'x transaction id' }),
    });

    await expect(compile([module])).rejects.toThrow(/option "header" must be an HTTP header name/);
  });
});
