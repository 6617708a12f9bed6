// The library under test: `TransactionModule.forRoot()` with every default, the ID read in the
// handler with `@TransactionId()`.
import { Module } from '@nestjs/common';
import { TransactionId, TransactionModule } from 'nestjs-transaction-id';
import { decorateClass, defineController } from './shared.mjs';

export function create(context) {
  return createWithOptions(context, {});
}

/** The same app with `options` given to `forRoot()`, for variants of the module's set-up. */
export function createWithOptions({ readTag }, options) {
  const AppController = defineController({
    param: TransactionId(),
    handle: (_self, id) => ({ id }),
    readTag,
  });
  return withTransactionModule(AppController, { options });
}

/**
 * The app module of a variant that uses the library: `AppController` with
 * `TransactionModule.forRoot(options)` and any other `imports`.
 */
export function withTransactionModule(AppController, { options = {}, imports = [] } = {}) {
  class AppModule {}
  decorateClass(
    AppModule,
    Module({
      imports: [TransactionModule.forRoot(options), ...imports],
      controllers: [AppController],
    }),
  );
  return { module: AppModule };
}
