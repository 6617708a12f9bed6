// Outgoing call with `HttpService` of @nestjs/axios, the header set by hand from the ID.
import { HttpModule, HttpService } from '@nestjs/axios';
import { firstValueFrom } from 'rxjs';
import { TransactionId } from 'nestjs-transaction-id';
import { HEADER, defineController } from './shared.mjs';
import { withTransactionModule } from './module.mjs';

export function create({ downstreamUrl, readTag }) {
  const AppController = defineController({
    inject: [HttpService],
    param: TransactionId(),
    handle: async (self, id) => {
      const { data } = await firstValueFrom(
        self.deps[0].get(downstreamUrl, { headers: { [HEADER]: id } }),
      );
      return { id, downstream: data.id };
    },
    readTag,
  });
  return withTransactionModule(AppController, { imports: [HttpModule] });
}
