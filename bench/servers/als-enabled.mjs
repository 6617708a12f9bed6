// Diagnostic, not a competitor: the bare app with an `AsyncLocalStorage` that has been entered
// once and is never used again. On Node 20 that alone turns on the promise hook that runs for every
// promise of every request: the floor under anything that keeps a per-request async context
// (this module, nestjs-cls, Sentry's isolation scopes) where nothing else enabled one.
import { AsyncLocalStorage } from 'node:async_hooks';
import { create as createBare } from './bare.mjs';

export function create(context) {
  new AsyncLocalStorage().enterWith({});
  return createBare(context);
}
