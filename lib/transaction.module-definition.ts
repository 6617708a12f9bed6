import { ConfigurableModuleBuilder, type Provider } from '@nestjs/common';
import { APP_INTERCEPTOR, ModulesContainer } from '@nestjs/core';
import type { TransactionModuleOptions } from './interfaces/transaction-module-options.interface.js';
import { GLOBAL_INTERCEPTOR } from './transaction.internal-constants.js';
import { TransactionInterceptor } from './interceptors/transaction.interceptor.js';
import { hasUnboundEntryPoints } from './interceptors/unbound-entry-points.js';

/** Extras of `forRoot()` / `forRootAsync()` that shape the module itself, not its behaviour. */
export interface TransactionModuleExtras {
  /**
   * Registers the module globally, so `TransactionContext` and `TransactionHttpService` can be
   * injected anywhere without importing it again.
   *
   * @default true
   */
  isGlobal?: boolean;

  /**
   * Whether `TransactionInterceptor` is registered as a global interceptor. Any global interceptor
   * makes Nest run every handler through an rxjs pipeline, which costs more per request than
   * everything else the module does. HTTP requests do not need it: the server binding settles
   * their IDs, and unhandled exceptions are reported by the module's exception-filter probe.
   *
   * - `'auto'`: registered when the application has WebSocket gateways or GraphQL resolvers; an
   *   HTTP application runs without it (Fastify's `inject()` is then served by an `onRequest`
   *   hook), and so do message handlers (`@MessagePattern()`, `@EventPattern()`), whose IDs the
   *   processing hook of their server settles.
   * - `true`: always. Needed for Express applications served by something other than their own
   *   HTTP server (serverless handlers, `supertest` on `getInstance()`), and to report exceptions
   *   that a controller- or method-scoped filter of the application handles before the probe.
   * - `false`: never.
   *
   * @default 'auto'
   */
  globalInterceptor?: boolean | 'auto';
}

export const {
  ConfigurableModuleClass,
  MODULE_OPTIONS_TOKEN: TRANSACTION_MODULE_OPTIONS,
  OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<TransactionModuleOptions>({ moduleName: 'Transaction' })
  .setClassMethodName('forRoot')
  .setFactoryMethodName('createTransactionOptions')
  .setExtras<TransactionModuleExtras>(
    { isGlobal: true, globalInterceptor: 'auto' },
    (definition, extras) => ({
      ...definition,
      global: extras.isGlobal,
      providers: [...(definition.providers ?? []), ...globalInterceptorProviders(extras)],
    }),
  )
  .build();

function globalInterceptorProviders({ globalInterceptor }: TransactionModuleExtras): Provider[] {
  if (globalInterceptor !== true && globalInterceptor !== false && globalInterceptor !== 'auto') {
    throw new TypeError(
      `nestjs-transaction-id: option "globalInterceptor" must be true, false or 'auto' (got ${String(globalInterceptor)}).`,
    );
  }
  if (globalInterceptor === false) return [{ provide: GLOBAL_INTERCEPTOR, useValue: false }];
  return [
    globalInterceptor === true
      ? { provide: GLOBAL_INTERCEPTOR, useValue: true }
      : {
          provide: GLOBAL_INTERCEPTOR,
          useFactory: hasUnboundEntryPoints,
          inject: [ModulesContainer],
        },
    {
      provide: APP_INTERCEPTOR,
      // Nest skips a global enhancer whose factory returns nothing.
      useFactory: (interceptor: TransactionInterceptor, global: boolean) =>
        global ? interceptor : null,
      inject: [TransactionInterceptor, GLOBAL_INTERCEPTOR],
    },
  ];
}
