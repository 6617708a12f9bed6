// The library under test: `TransactionModule.forRoot()` with every default, the ID read in the
// handler with `@TransactionId()`.
import { Module } from '@nestjs/common';
import { TransactionId, TransactionModule } from 'nestjs-transaction-id';
import { decorateClass, defineController } from './shared.mjs';

export function create({ readTag }) {
  const AppController = defineController({
    param: TransactionId(),
    handle: (_self, id) => ({ id }),
    readTag,
  });
  class AppModule {}
  decorateClass(
    AppModule,
    Module({ imports: [TransactionModule.forRoot()], controllers: [AppController] }),
  );
  return { module: AppModule };
}
