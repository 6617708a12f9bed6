// Outgoing call with the library's `TransactionHttpService`, which adds the header itself.
import { firstValueFrom } from 'rxjs';
import { TransactionHttpService, TransactionId } from 'nestjs-transaction-id';
import { defineController } from './shared.mjs';
import { withTransactionModule } from './module.mjs';

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
  return withTransactionModule(AppController);
}
