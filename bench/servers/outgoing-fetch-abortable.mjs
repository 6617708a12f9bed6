// Outgoing call, raw, cancellable: as outgoing-fetch, with an AbortController per call, which is
// what `TransactionHttpService` (and `@nestjs/axios`) create to abort a call on unsubscribe.
import { createFetching } from './outgoing-fetch.mjs';

export function create(context) {
  return createFetching(context, () => new AbortController().signal);
}
