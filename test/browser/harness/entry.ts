// The browser helper and Sentry's browser SDK, bundled for the helper's tests (helper.spec.ts),
// which drive them through `window.harness`.
import * as Sentry from '@sentry/browser';
import * as helper from 'nestjs-transaction-id/browser';

(globalThis as { harness?: unknown }).harness = { Sentry, helper };
