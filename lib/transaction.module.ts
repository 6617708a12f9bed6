import { type DynamicModule, Module, type NestModule } from '@nestjs/common';
import { APP_FILTER, APP_GUARD, ModulesContainer } from '@nestjs/core';
import {
  ConfigurableModuleClass,
  OPTIONS_TYPE,
  TRANSACTION_MODULE_OPTIONS,
} from './transaction.module-definition.js';
import {
  RESOLVED_TRANSACTION_OPTIONS,
  SENTRY_BRIDGE,
  WEBSOCKETS_BINDING,
} from './transaction.internal-constants.js';
import type { TransactionModuleOptions } from './interfaces/transaction-module-options.interface.js';
import {
  resolveTransactionOptions,
  type ResolvedTransactionOptions,
} from './options/transaction-options.js';
import { TransactionIdPolicy } from './id/transaction-id.policy.js';
import { TransactionContext } from './context/transaction-context.js';
import { UnitOfWork } from './context/unit-of-work.js';
import { SentryBridge } from './sentry/sentry-bridge.js';
import { SentrySetupInspector } from './sentry/sentry-setup.inspector.js';
import { HttpServerBinding } from './http/http-server.binding.js';
import { MicroservicesBinding } from './microservices/microservices.binding.js';
import { TransactionForwarding } from './microservices/transaction-forwarding.js';
import { BullMqBinding } from './queues/bullmq.binding.js';
import { BULLMQ_PACKAGES, loadBullMq } from './queues/bullmq.packages.js';
import { JobsBinding } from './jobs/jobs.binding.js';
import { WebSocketsBinding } from './websockets/websockets.binding.js';
import { MessageRefusalGuard } from './microservices/message-refusal.guard.js';
import { hasMessageHandlers } from './interceptors/unbound-entry-points.js';
import { TransactionHttpService } from './http/transaction-http.service.js';
import { HttpClientForwarding } from './forwarding/http-client-forwarding.js';
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
    UnitOfWork,
    TransactionContext,
    TransactionHttpService,
    TransactionInterceptor,
    HttpServerBinding,
    MicroservicesBinding,
    { provide: BULLMQ_PACKAGES, useFactory: loadBullMq, inject: [ModulesContainer] },
    BullMqBinding,
    TransactionForwarding,
    JobsBinding,
    {
      // Installed while the module is instantiated: gateways connect before any lifecycle hook.
      provide: WEBSOCKETS_BINDING,
      useFactory: (work: UnitOfWork, options: ResolvedTransactionOptions) =>
        WebSocketsBinding.install(work, options),
      inject: [UnitOfWork, RESOLVED_TRANSACTION_OPTIONS],
    },
    HttpClientForwarding,
    MessageRefusalGuard,
    {
      provide: APP_GUARD,
      // Only where messages can arrive and the options can refuse one: a guard costs every
      // handler a step. Nest skips a global enhancer whose factory returns nothing.
      useFactory: (
        modules: ModulesContainer,
        guard: MessageRefusalGuard,
        options: ResolvedTransactionOptions,
      ) =>
        (options.invalid === 'reject' || options.require) && hasMessageHandlers(modules)
          ? guard
          : null,
      inject: [ModulesContainer, MessageRefusalGuard, RESOLVED_TRANSACTION_OPTIONS],
    },
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
    UnitOfWork,
    TransactionContext,
    TransactionHttpService,
    TransactionInterceptor,
    TransactionForwarding,
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
