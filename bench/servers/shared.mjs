// What every bench server variant shares: the constants of the job, and helpers that apply Nest
// decorators by hand (plain ESM, no TypeScript build step).
import 'reflect-metadata';
import { Controller, Get } from '@nestjs/common';

/** The header and Sentry tag of the job every variant does. */
export const HEADER = 'x-transaction-id';
export const TAG = 'transaction_id';

/** Same rule as the library's default `validate`: what a hand-written version would check. */
export const VALID_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * What variants without any ID answer: as long as a UUID, so every variant's body has one size.
 */
export const NO_ID = '00000000-0000-4000-8000-000000000000';

/** Applies class decorators. */
export function decorateClass(target, ...decorators) {
  return Reflect.decorate(decorators, target);
}

/** Applies method decorators to `target.prototype[key]`. */
export function decorateMethod(target, key, ...decorators) {
  const proto = target.prototype;
  const descriptor = Reflect.decorate(
    decorators,
    proto,
    key,
    Object.getOwnPropertyDescriptor(proto, key),
  );
  Object.defineProperty(proto, key, descriptor);
}

/** Applies a parameter decorator to parameter `index` of `target.prototype[key]`. */
export function decorateParam(target, key, index, decorator) {
  decorator(target.prototype, key, index);
}

/** What TypeScript's `emitDecoratorMetadata` would record for constructor injection. */
export function injectInto(target, ...tokens) {
  Reflect.defineMetadata('design:paramtypes', tokens, target);
}

/**
 * The controller of every variant: `GET /` is the timed route; `GET /check` does the same job
 * after a random pause (so concurrent requests interleave) and adds the Sentry tag it sees, for the
 * correctness pre-check.
 *
 * @param {object} spec
 * @param {unknown[]} [spec.inject] constructor dependencies, available as `this.deps`
 * @param {ParameterDecorator} [spec.param] decorator of the handlers' only parameter
 * @param {(self: {deps: unknown[]}, param: unknown) => unknown} spec.handle the job's answer
 * @param {() => string | null} spec.readTag the Sentry isolation-scope tag now, if any
 */
export function defineController({ inject = [], param, handle, readTag }) {
  class BenchController {
    constructor(...deps) {
      this.deps = deps;
    }

    get(value) {
      return handle(this, value);
    }

    async check(value) {
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 4));
      const body = await handle(this, value);
      return { ...body, tag: readTag() };
    }
  }
  injectInto(BenchController, ...inject);
  decorateMethod(BenchController, 'get', Get());
  decorateMethod(BenchController, 'check', Get('check'));
  if (param !== undefined) {
    decorateParam(BenchController, 'get', 0, param);
    decorateParam(BenchController, 'check', 0, param);
  }
  decorateClass(BenchController, Controller());
  return BenchController;
}

/** Reads the tag from the current isolation scope (`null` without Sentry). */
export function tagReader(sentry) {
  if (sentry === undefined) return () => null;
  return () => sentry.getIsolationScope().getScopeData().tags[TAG] ?? null;
}
