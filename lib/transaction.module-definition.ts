import { ConfigurableModuleBuilder } from '@nestjs/common';
import { APP_INTERCEPTOR } from '@nestjs/core';
import type { TransactionModuleOptions } from './interfaces/transaction-module-options.interface.js';
import { TransactionInterceptor } from './interceptors/transaction.interceptor.js';

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
   * Registers `TransactionInterceptor` as a global interceptor. Any global interceptor makes Nest
   * run every handler through an rxjs pipeline, which is about half of what the module costs per
   * request. An HTTP-only service, whose requests all enter through the HTTP server, can leave it
   * out: IDs are settled by the server binding all the same, and unhandled exceptions are reported
   * by the module's exception-filter probe — that is, those that no exception filter of the
   * application (controller, method or `useGlobalFilters()`) handles first. Keep it for
   * microservices, WebSocket gateways and Fastify's `inject()`.
   *
   * @default true
   */
  globalInterceptor?: boolean;
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
    { isGlobal: true, globalInterceptor: true },
    (definition, extras) => ({
      ...definition,
      global: extras.isGlobal,
      providers:
        extras.globalInterceptor === false
          ? definition.providers
          : [
              ...(definition.providers ?? []),
              { provide: APP_INTERCEPTOR, useExisting: TransactionInterceptor },
            ],
    }),
  )
  .build();
