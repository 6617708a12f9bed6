// The library with `globalInterceptor: false`, the lean set-up for HTTP-only services: the ID is
// settled by the server binding alone, and Nest runs handlers without an interceptor pipeline.
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
    Module({
      imports: [TransactionModule.forRoot({ globalInterceptor: false })],
      controllers: [AppController],
    }),
  );
  return { module: AppModule };
}
