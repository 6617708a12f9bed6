import { ConfigurableModuleBuilder } from '@nestjs/common';
import type { TransactionModuleOptions } from './interfaces/transaction-module-options.interface.js';

/** Extras of `forRoot()` / `forRootAsync()` that shape the module itself, not its behaviour. */
export interface TransactionModuleExtras {
  /**
   * Registers the module globally, so `TransactionContext` and `TransactionHttpService` can be
   * injected anywhere without importing it again.
   *
   * @default true
   */
  isGlobal?: boolean;
}

export const {
  ConfigurableModuleClass,
  MODULE_OPTIONS_TOKEN: TRANSACTION_MODULE_OPTIONS,
  OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<TransactionModuleOptions>({ moduleName: 'Transaction' })
  .setClassMethodName('forRoot')
  .setFactoryMethodName('createTransactionOptions')
  .setExtras<TransactionModuleExtras>({ isGlobal: true }, (definition, extras) => ({
    ...definition,
    global: extras.isGlobal,
  }))
  .build();
