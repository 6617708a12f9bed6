import { type DynamicModule, Module, type NestModule } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import {
  ConfigurableModuleClass,
  OPTIONS_TYPE,
  TRANSACTION_MODULE_OPTIONS,
} from './transaction.module-definition.js';
import { RESOLVED_TRANSACTION_OPTIONS, SENTRY_BRIDGE } from './transaction.internal-constants.js';
import type { TransactionModuleOptions } from './interfaces/transaction-module-options.interface.js';
import {
  resolveTransactionOptions,
  type ResolvedTransactionOptions,
} from './options/transaction-options.js';
import { TransactionIdPolicy } from './id/transaction-id.policy.js';
import { TransactionContext } from './context/transaction-context.js';
import { SentryBridge } from './sentry/sentry-bridge.js';
import { SentrySetupInspector } from './sentry/sentry-setup.inspector.js';
import { HttpServerBinding } from './http/http-server.binding.js';
import { TransactionHttpService } from './http/transaction-http.service.js';
import { TransactionInterceptor } from './interceptors/transaction.interceptor.js';
import { createUnhandledExceptionProbe } from './filters/unhandled-exception.probe.js';

/**
 * One transaction ID per unit of work, settled before the application sees it, tagged on every
 * Sentry event, echoed on responses and forwarded on outgoing calls.
 *
 * @example
 * ```ts
 * @Module({ imports: [TransactionModule.forRoot()] })
 * export class AppModule {}
 * ```
 *
 * @publicApi
 */
@Module({
  providers: [
    {
      provide: RESOLVED_TRANSACTION_OPTIONS,
      useFactory: (options?: TransactionModuleOptions) => resolveTransactionOptions(options),
      inject: [TRANSACTION_MODULE_OPTIONS],
    },
    { provide: SENTRY_BRIDGE, useFactory: () => SentryBridge.load() },
    SentrySetupInspector,
    TransactionIdPolicy,
    TransactionContext,
    TransactionHttpService,
    TransactionInterceptor,
    HttpServerBinding,
    {
      provide: APP_FILTER,
      useFactory: (options: ResolvedTransactionOptions, sentry?: SentryBridge) =>
        createUnhandledExceptionProbe(
          sentry !== undefined && options.reportUnhandled
            ? (exception) => sentry.reportUnhandled(exception)
            : () => undefined,
        ),
      inject: [RESOLVED_TRANSACTION_OPTIONS, SENTRY_BRIDGE],
    },
  ],
  exports: [
    RESOLVED_TRANSACTION_OPTIONS,
    SENTRY_BRIDGE,
    TransactionIdPolicy,
    TransactionContext,
    TransactionHttpService,
    TransactionInterceptor,
  ],
})
export class TransactionModule extends ConfigurableModuleClass implements NestModule {
  constructor(private readonly binding: HttpServerBinding) {
    super();
  }

  /** Nest calls this in HTTP applications before it registers their routes. */
  configure(): void {
    this.binding.bindRoutes();
  }

  /**
   * Registers the module with `options` over the defaults; `forRoot()` alone gives every default.
   * Use `forRootAsync({ imports, inject, useFactory | useClass | useExisting })` for options that
   * come from other providers (configuration services).
   */
  static override forRoot(options: typeof OPTIONS_TYPE = {}): DynamicModule {
    return super.forRoot(options);
  }
}
