// Outgoing call with the library's `TransactionHttpService`, which adds the header itself.
import { Module } from '@nestjs/common';
import { firstValueFrom } from 'rxjs';
import { TransactionHttpService, TransactionId, TransactionModule } from 'nestjs-transaction-id';
import { decorateClass, defineController } from './shared.mjs';

export function create({ downstreamUrl, readTag }) {
  const AppController = defineController({
    inject: [TransactionHttpService],
    param: TransactionId(),
    handle: async (self, id) => {
      const { data } = await firstValueFrom(self.deps[0].get(downstreamUrl));
      return { id, downstream: data.id };
    },
    readTag,
  });
  class AppModule {}
  decorateClass(
    AppModule,
    Module({ imports: [TransactionModule.forRoot()], controllers: [AppController] }),
  );
  return { module: AppModule };
}
