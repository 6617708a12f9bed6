// The NATS round trip of nats-bare with `TransactionModule.forRoot()` (every default): the ID is
// settled for the HTTP request, forwarded by the stock NATS client in a message header, settled
// again by the responder, which answers with the ID it sees. So the correctness check passes only
// if the ID crossed NATS.
import { TransactionContext, TransactionId, TransactionModule } from 'nestjs-transaction-id';
import { createRoundTrip } from './nats-bare.mjs';

export function create(context) {
  return createRoundTrip(context, {
    param: TransactionId(),
    imports: [TransactionModule.forRoot()],
    inject: [TransactionContext],
    reply: (_data, [transaction]) => ({ id: transaction.id }),
  });
}
