// Diagnostic: `module` with the ID read from `TransactionContext` in the handler instead of
// `@TransactionId()`. The difference is what a parameter decorator costs in Nest's router (a
// handler with parameters goes through its param pipeline), not something the module does.
import { TransactionContext } from 'nestjs-transaction-id';
import { defineController } from './shared.mjs';
import { withTransactionModule } from './module.mjs';

export function create({ readTag }) {
  const AppController = defineController({
    inject: [TransactionContext],
    handle: (self) => ({ id: self.deps[0].id }),
    readTag,
  });
  return withTransactionModule(AppController);
}
