// Outgoing call, raw: the handler forwards the ID to a local downstream server with global `fetch`,
// setting the header by hand. The module settles the incoming ID, as in the other outgoing variants.
import { TransactionId } from 'nestjs-transaction-id';
import { HEADER, defineController } from './shared.mjs';
import { withTransactionModule } from './module.mjs';

export function create(context) {
  return createFetching(context, () => undefined);
}

/** The same handler, passing `fetch` the signal `signalFor()` gives for each call. */
export function createFetching({ downstreamUrl, readTag }, signalFor) {
  const AppController = defineController({
    param: TransactionId(),
    handle: async (_self, id) => {
      const response = await fetch(downstreamUrl, {
        headers: { [HEADER]: id },
        signal: signalFor(),
      });
      if (!response.ok) throw new Error(`downstream answered ${response.status}`);
      const { id: downstream } = await response.json();
      return { id, downstream };
    },
    readTag,
  });
  return withTransactionModule(AppController);
}
