// Outgoing call with `HttpService` of @nestjs/axios, the header set by hand from the ID.
import { Module } from '@nestjs/common';
import { HttpModule, HttpService } from '@nestjs/axios';
import { firstValueFrom } from 'rxjs';
import { TransactionId, TransactionModule } from 'nestjs-transaction-id';
import { HEADER, decorateClass, defineController } from './shared.mjs';

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
  class AppModule {}
  decorateClass(
    AppModule,
    Module({
      imports: [TransactionModule.forRoot(), HttpModule],
      controllers: [AppController],
    }),
  );
  return { module: AppModule };
}
